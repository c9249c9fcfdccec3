#!/usr/bin/env bash
# Idempotent: Debian's chromium and its driver, for the report's browser tests. Exits 0 when a
# chromium is there (already or now); 1 with a reason when it cannot be installed.
set -euo pipefail
have() { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; }
if have; then exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: no apt-get here; install chromium to run the report's browser tests" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "ensure-chromium: not root and no sudo; cannot install chromium" >&2
    exit 1
  fi
  sudo="sudo -n"
fi
$sudo apt-get update -qq >/dev/null 2>&1 || true
if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null 2>&1; then
  echo "ensure-chromium: apt-get could not install chromium chromium-driver" >&2
  exit 1
fi
have

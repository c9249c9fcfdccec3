#!/usr/bin/env bash
# Make a Docker daemon answer on this machine, for the docker sandbox tests and benchmarks.
#
# Idempotent and quiet: installs Debian's docker.io and busybox-static when they are missing
# (one apt-get update, then one install), and starts dockerd in the background when `docker info`
# fails. The daemon is started so that it can run inside a container or a small VM: no iptables
# rules, no default bridge (sandboxes use network "none"), the storage driver dockerd picks, then
# vfs when that fails. Exit status 0 when a daemon answers, 1 (with the reason on stderr) when not.
#
# Environment: SWERVE_DOCKERD_FLAGS replaces the default flags; SWERVE_DOCKERD_LOG is the log
# file (default /tmp/swerve-dockerd.log); SWERVE_DOCKERD_WAIT_S bounds the wait (default 60).
set -uo pipefail

log=${SWERVE_DOCKERD_LOG:-/tmp/swerve-dockerd.log}
wait_s=${SWERVE_DOCKERD_WAIT_S:-60}
default_flags="--iptables=false --ip-masq=false --bridge=none"

say() { echo "ensure-docker: $*" >&2; }

sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
  fi
fi

daemon_answers() { timeout 10 $sudo docker info >/dev/null 2>&1; }

# -- packages ----------------------------------------------------------------------------------
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v docker >/dev/null 2>&1 || need+=(docker.io)
# the test image is a rootfs with nothing but busybox in it, so it must be the static build
if command -v dpkg-query >/dev/null 2>&1; then
  dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "ok installed" || need+=(busybox-static)
fi
if [ ${#need[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    say "missing ${need[*]} and no apt-get to install them"
  elif [ "$(id -u)" != 0 ] && [ -z "$sudo" ]; then
    say "missing ${need[*]}; installing needs root (or password-less sudo)"
  else
    mapfile -t pkgs < <(printf '%s\n' "${need[@]}" | sort -u)
    $sudo apt-get update -qq >/dev/null 2>&1 || say "apt-get update failed (trying the install anyway)"
    if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${pkgs[@]}" >/dev/null 2>&1; then
      say "could not install ${pkgs[*]}"
    fi
  fi
fi

if daemon_answers; then
  exit 0
fi
if ! command -v dockerd >/dev/null 2>&1; then
  say "no dockerd on this machine"
  exit 1
fi
if [ "$(id -u)" != 0 ] && [ -z "$sudo" ]; then
  say "no docker daemon answers and starting one needs root (or password-less sudo)"
  exit 1
fi

# -- daemon ------------------------------------------------------------------------------------
pidfile=/var/run/docker.pid
pid_alive() { [ -n "$1" ] && [ -d "/proc/$1" ]; }

start_dockerd() {
  # a pid file left by a daemon that died stops the next one from starting
  if [ -f "$pidfile" ]; then
    local old
    old=$(cat "$pidfile" 2>/dev/null || true)
    if pid_alive "$old"; then
      return 0 # one is running (perhaps still starting): wait for it below
    fi
    $sudo rm -f "$pidfile"
  fi
  echo "=== $(date -u +%FT%TZ) dockerd $*" >>"$log"
  # shellcheck disable=SC2086
  $sudo setsid nohup dockerd "$@" </dev/null >>"$log" 2>&1 &
}

wait_ready() {
  local i
  for ((i = 0; i < wait_s * 2; i++)); do
    daemon_answers && return 0
    if [ -f "$pidfile" ]; then
      pid_alive "$(cat "$pidfile" 2>/dev/null)" || { [ "$i" -gt 4 ] && return 1; }
    elif [ "$i" -gt 10 ]; then
      return 1 # it never wrote its pid file: it died while starting
    fi
    sleep 0.5
  done
  return 1
}

# shellcheck disable=SC2206
flags=(${SWERVE_DOCKERD_FLAGS:-$default_flags})
start_dockerd "${flags[@]}"
if wait_ready; then
  exit 0
fi
if [ -z "${SWERVE_DOCKERD_FLAGS:-}" ]; then
  say "dockerd did not start with the storage driver it picked; trying vfs"
  start_dockerd "${flags[@]}" --storage-driver=vfs
  if wait_ready; then
    exit 0
  fi
fi
say "dockerd did not become ready; the last lines of $log:"
tail -n 15 "$log" >&2
exit 1

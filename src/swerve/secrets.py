"""Keeping secrets out of transcripts, trajectories, error messages and logs: one mask for all."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

SECRET_NAME = re.compile(r"(API_KEY|_TOKEN|SECRET|PASSWORD|AUTH)", re.IGNORECASE)
MIN_SECRET_LEN = 8
MASK = "[redacted]"
# variables a host-mode shell command does not inherit by default (names with these words)
SECRET_ENV_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)


def scrub_env(env: dict[str, str], keep: Iterable[str] = ()) -> dict[str, str]:
    """``env`` without the variables whose names look like they hold a secret (``keep`` names
    stay); what a command the model runs on the host inherits."""
    kept = set(keep)
    return {k: v for k, v in env.items() if k in kept or not SECRET_ENV_NAME.search(k)}


def secret_values(extra: list[str | None] | None = None, environ: dict[str, str] | None = None) -> list[str]:
    """Values to hide: those given, and those of environment variables whose names look secret."""
    env = os.environ if environ is None else environ
    values = {v for k, v in env.items() if SECRET_NAME.search(k) and len(v) >= MIN_SECRET_LEN}
    values.update(v for v in extra or () if v and len(v) >= MIN_SECRET_LEN)
    return sorted(values, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str | None], min_len: int = 4) -> str:
    """``text`` with every secret value (of ``min_len`` characters or more) replaced by the mask."""
    for value in sorted((s for s in secrets if s and len(s) >= min_len), key=len, reverse=True):
        if value in text:
            text = text.replace(value, MASK)
    return text


def redact_obj(obj: Any, secrets: list[str]) -> Any:
    """A copy of a JSON-shaped object with every secret value masked in its strings."""
    if not secrets:
        return obj
    if isinstance(obj, str):
        return redact(obj, secrets)
    if isinstance(obj, dict):
        return {k: redact_obj(v, secrets) for k, v in obj.items()}
    if isinstance(obj, list):
        return [redact_obj(v, secrets) for v in obj]
    return obj

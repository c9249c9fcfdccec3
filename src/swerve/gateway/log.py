"""``--log FILE``: one JSON line per request, for debugging a client, with no secrets in it.

A line holds the time, method, path, status, the model asked for and the backend that answered,
durations (``ms``, and ``first_byte_ms`` for streams), the stop reason, usage, notes on what was
adapted, and the request's headers and body. Credentials never appear: auth headers are left
out and every known secret value (the gateway's token, backend keys, secret-looking environment
variables) is masked wherever it occurs."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from swerve.secrets import redact_obj, secret_values

HIDDEN_HEADERS = frozenset({"authorization", "x-api-key", "cookie", "proxy-authorization", "api-key"})


def loggable_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k not in HIDDEN_HEADERS}


class RequestLog:
    """Appends request records to a JSONL file, masking ``secrets`` (and the environment's)."""

    def __init__(self, path: str | Path, secrets: list[str | None] | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._secrets = secret_values(list(secrets or []))
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - held open while serving
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        clean = redact_obj({"time": round(time.time(), 3), **record}, self._secrets)
        line = json.dumps(clean, ensure_ascii=False, default=str)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()

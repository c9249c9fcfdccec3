"""State files of running local servers: ``cache_root()/local/servers/<key>.json``, one per model.

A server writes its file once it answers and removes it when it stops; a client that finds one
checks that the process lives and answers before reusing it, and removes it when it does not.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from swerve.paths import cache_root


def servers_dir() -> Path:
    return cache_root() / "local" / "servers"


def model_key(model_path: str | os.PathLike[str]) -> str:
    real = os.path.realpath(os.fspath(model_path))
    return hashlib.sha256(real.encode()).hexdigest()[:16]


def state_path(model_path: str | os.PathLike[str]) -> Path:
    return servers_dir() / f"{model_key(model_path)}.json"


def write_state(model_path: str | os.PathLike[str], record: dict[str, Any]) -> Path:
    path = state_path(model_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record, indent=1))
    os.replace(tmp, path)
    return path


def read_state(model_path: str | os.PathLike[str]) -> dict[str, Any] | None:
    try:
        data = json.loads(state_path(model_path).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def remove_state(model_path: str | os.PathLike[str], pid: int | None = None) -> None:
    """Remove the file (only if it is ``pid``'s, when given)."""
    path = state_path(model_path)
    if pid is not None:
        record = read_state(model_path)
        if record is not None and record.get("pid") != pid:
            return
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True

"""Sessions as JSONL files, one per conversation, so a run can be continued or resumed."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

from swerve.errors import SessionError
from swerve.models.base import Message
from swerve.paths import project_dir
from swerve.secrets import redact_obj


class SessionLog:
    """Appends a session's entries: a ``meta`` line, then ``message`` and ``compaction`` entries."""

    def __init__(self, path: Path, secrets: list[str] | None = None) -> None:
        self.path = path
        self.secrets = secrets or []
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - held for the session

    @property
    def session_id(self) -> str:
        return self.path.stem

    @classmethod
    def create(cls, cwd: str, meta: dict[str, Any], secrets: list[str] | None = None) -> SessionLog:
        session_id = uuid.uuid4().hex[:16]
        log = cls(project_dir(cwd) / f"{session_id}.jsonl", secrets)
        log.write({"type": "meta", "session_id": session_id, "cwd": os.path.abspath(cwd), **meta})
        return log

    def write(self, entry: dict[str, Any]) -> None:
        self._file.write(json.dumps(redact_obj(entry, self.secrets), ensure_ascii=False, default=str) + "\n")
        self._file.flush()

    def message(self, message: Message) -> None:
        self.write({"type": "message", "message": message})

    def compaction(self, messages: list[Message]) -> None:
        self.write({"type": "compaction", "messages": messages})

    def close(self) -> None:
        self._file.close()


def find_session(cwd: str, session_id: str | None) -> Path:
    """The session file for ``session_id`` (a prefix is enough), or the latest one of this directory."""
    folder = project_dir(cwd)
    files = sorted(folder.glob("*.jsonl"), key=lambda p: p.stat().st_mtime) if folder.is_dir() else []
    if session_id is None:
        if not files:
            raise SessionError(f"no saved session for {os.path.abspath(cwd)}")
        return files[-1]
    matches = [p for p in files if p.stem.startswith(session_id)]
    if not matches:
        raise SessionError(f"no session {session_id!r} for {os.path.abspath(cwd)}")
    if len(matches) > 1:
        raise SessionError(f"session id {session_id!r} is ambiguous: {', '.join(p.stem for p in matches)}")
    return matches[0]


def load_messages(path: Path) -> list[Message]:
    """The history a session file ends with (compactions applied); a torn last line is ignored."""
    messages: list[Message] = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if entry.get("type") == "message":
                messages.append(entry["message"])
            elif entry.get("type") == "compaction":
                messages = list(entry["messages"])
    return messages


def list_sessions(cwd: str) -> list[dict[str, Any]]:
    """Saved sessions of a directory, newest last: id, first prompt, message count."""
    folder = project_dir(cwd)
    out = []
    for path in sorted(folder.glob("*.jsonl"), key=lambda p: p.stat().st_mtime) if folder.is_dir() else []:
        messages = load_messages(path)
        first = next((m["content"] for m in messages if m["role"] == "user"), "")
        out.append(
            {"id": path.stem, "path": str(path), "first_prompt": first[:100], "messages": len(messages)}
        )
    return out

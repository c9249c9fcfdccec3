"""``@path`` mentions: attach the named files (or directory listings) to the prompt."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

MENTION = re.compile(r'(?<![\w@])@("[^"]+"|[^\s"]+)')
FILE_MAX_BYTES = 256 * 1024
DIR_MAX_ENTRIES = 200
TRAILING = ",.;:!?)]}'"


@dataclass
class Attachment:
    mention: str  # as typed, without the @
    path: str  # absolute
    shown: str  # relative to the project when inside it
    note: str  # what was attached ("12 lines", "directory, 5 entries", "skipped: binary")
    body: str | None  # the text attached, None when skipped


def _resolve(cwd: str, raw: str) -> str | None:
    raw = raw.strip('"')
    candidates = [raw]
    stripped = raw.rstrip(TRAILING)
    if stripped != raw:
        candidates.append(stripped)
    for cand in candidates:
        path = os.path.abspath(os.path.join(cwd, os.path.expanduser(cand)))
        if os.path.exists(path):
            return path
    return None


def _read(path: str) -> tuple[str | None, str]:
    if os.path.isdir(path):
        try:
            names = sorted(os.listdir(path))
        except OSError as exc:
            return None, f"skipped: {exc.strerror}"
        entries = [n + ("/" if os.path.isdir(os.path.join(path, n)) else "") for n in names]
        more = len(entries) - DIR_MAX_ENTRIES
        body = "\n".join(entries[:DIR_MAX_ENTRIES]) + (f"\n... {more} more" if more > 0 else "")
        return body, f"directory, {len(entries)} entries"
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            data = f.read(FILE_MAX_BYTES + 1)
    except OSError as exc:
        return None, f"skipped: {exc.strerror}"
    if b"\0" in data[:8192]:
        return None, "skipped: binary file"
    text = data[:FILE_MAX_BYTES].decode("utf-8", errors="replace")
    lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    if size > FILE_MAX_BYTES:
        return text, f"first {FILE_MAX_BYTES // 1024} KiB of {size // 1024} KiB"
    return text, f"{lines} lines"


def find_attachments(text: str, cwd: str) -> list[Attachment]:
    out: list[Attachment] = []
    seen: set[str] = set()
    for m in MENTION.finditer(text):
        path = _resolve(cwd, m.group(1))
        if path is None or path in seen:
            continue
        seen.add(path)
        rel = os.path.relpath(path, cwd)
        shown = rel if not rel.startswith("..") else path
        body, note = _read(path)
        out.append(Attachment(m.group(1), path, shown, note, body))
    return out


def with_attachments(text: str, attachments: list[Attachment]) -> str:
    """The prompt the model gets: the user's text, then the attached contents."""
    bodies = [a for a in attachments if a.body is not None]
    if not bodies:
        return text
    parts = [text, "", "Files the user attached (contents as of now):"]
    for a in bodies:
        kind = "directory" if a.note.startswith("directory") else "file"
        parts.append(f'<{kind} path="{a.shown}">\n{a.body.rstrip()}\n</{kind}>')
    return "\n".join(parts)

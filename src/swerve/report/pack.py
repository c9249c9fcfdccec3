"""Episode details packed for the page: folded, deduplicated, compressed, within a size budget.

Each episode's detail (conversation, diff, verdict, tests, log tail) becomes a small JSON object.
Texts longer than a limit keep their head and tail with the number of characters cut; system
prompts and task statements, the same in many episodes, are stored once in a string table.
Episodes go into chunks of about ``CHUNK_BYTES`` of JSON, each deflated and base64-encoded; the
page inflates a chunk (``DecompressionStream``) only when one of its episodes is opened. When the
chunks reach the budget, the remaining episodes are left out and counted: ``swerve report
--serve`` pages them in instead.
"""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass, field
from typing import Any

from swerve.report.model import Detail, Episode

CHUNK_BYTES = 256 * 1024
LIMITS = {"tool": 6000, "text": 8000, "arg": 4000, "patch": 200_000, "note": 4000, "test_names": 400}
INTERNED_ROLES = ("system", "user")


def fold(text: str, limit: int) -> str | dict[str, Any]:
    """``text``, or its head and tail with the count of characters cut when longer than ``limit``."""
    if len(text) <= limit:
        return text
    head = limit * 2 // 3
    tail = limit - head
    return {"head": text[:head], "tail": text[-tail:], "cut": len(text) - head - tail}


def _content(value: Any) -> str:
    """A message's content as text (OpenAI content parts joined)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = [p.get("text", "") if isinstance(p, dict) else str(p) for p in value]
        return "\n".join(p for p in parts if isinstance(p, str))
    return "" if value is None else json.dumps(value, ensure_ascii=False, default=str)


def _arguments(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return fold(value, LIMITS["arg"])
    if isinstance(value, dict):
        return {str(k): fold(v, LIMITS["arg"]) if isinstance(v, str) else v for k, v in value.items()}
    return value


def _calls(message: dict[str, Any]) -> list[dict[str, Any]]:
    calls = []
    for call in message.get("tool_calls") or []:
        if not isinstance(call, dict):
            continue
        fn = call.get("function") if isinstance(call.get("function"), dict) else call
        calls.append(
            {
                "id": str(call.get("id") or ""),
                "name": str(fn.get("name") or "?"),
                "args": _arguments(fn.get("arguments")),
            }
        )
    return calls


def _tests(status: dict[str, list[str]]) -> dict[str, Any]:
    """A test group's names by result, at most ``LIMITS["test_names"]`` of each, and how many were cut."""
    limit = LIMITS["test_names"]
    kept = {result: names[:limit] for result, names in status.items()}
    return kept | {"cut": sum(len(n) for n in status.values()) - sum(len(n) for n in kept.values())}


@dataclass
class Packer:
    """Packs details one at a time, so a run of any size is never held in memory at once."""

    budget_bytes: int
    chunks: list[str] = field(default_factory=list)
    index: dict[str, list[int]] = field(default_factory=dict)  # key -> [chunk, position]
    strings: list[str] = field(default_factory=list)
    omitted: int = 0
    _string_ids: dict[str, int] = field(default_factory=dict)
    _pending: list[Any] = field(default_factory=list)
    _pending_keys: list[str] = field(default_factory=list)
    _pending_bytes: int = 0
    _used: int = 0
    _full: bool = False

    def _intern(self, text: str) -> dict[str, int]:
        known = self._string_ids.get(text)
        if known is None:
            known = self._string_ids[text] = len(self.strings)
            self.strings.append(text)
        return {"ref": known}

    def _message(self, message: dict[str, Any]) -> dict[str, Any]:
        role = str(message.get("role") or "?")
        text = _content(message.get("content"))
        packed: dict[str, Any] = {"role": role}
        if role in INTERNED_ROLES and len(text) > 200:
            packed["text"] = self._intern(text)
        else:
            packed["text"] = fold(text, LIMITS["tool" if role == "tool" else "text"])
        calls = _calls(message)
        if calls:
            packed["calls"] = calls
        for key in ("name", "tool_call_id"):
            if isinstance(message.get(key), str):
                packed[key] = message[key]
        return packed

    def _detail(self, detail: Detail) -> dict[str, Any]:
        return {
            "messages": [self._message(m) for m in detail.messages],
            "patch": fold(detail.patch, LIMITS["patch"]),
            "tests": {group: _tests(status) for group, status in detail.tests.items()},
            "log": detail.log_tail,
            "verdict": detail.verdict,
            "notes": [[label, fold(text, LIMITS["note"])] for label, text in detail.notes],
        }

    def add(self, episode: Episode) -> None:
        """Pack one episode's detail (read now from disk), unless the budget is spent."""
        if episode.load_detail is None:
            return
        if self._full:
            self.omitted += 1
            return
        try:
            detail = episode.load_detail()
        except (OSError, ValueError) as exc:
            detail = Detail(notes=[("unreadable", f"the episode's files could not be read: {exc}")])
        packed = self._detail(detail)
        size = len(json.dumps(packed, ensure_ascii=False, separators=(",", ":")))
        self._pending.append(packed)
        self._pending_keys.append(episode.key)
        self._pending_bytes += size
        if self._pending_bytes >= CHUNK_BYTES:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        chunk = encode(self._pending)
        number = len(self.chunks)
        self.chunks.append(chunk)
        for position, key in enumerate(self._pending_keys):
            self.index[key] = [number, position]
        self._used += len(chunk)
        self._pending, self._pending_keys, self._pending_bytes = [], [], 0
        if self._used >= self.budget_bytes:
            self._full = True

    def finish(self) -> dict[str, Any]:
        """The packed trajectories: chunks, index, string table, and how many were left out."""
        self._flush()
        return {
            "codec": "deflate+base64",
            "chunks": self.chunks,
            "index": self.index,
            "strings": encode(self.strings),
            "omitted": self.omitted,
        }


def encode(value: Any) -> str:
    """JSON, deflated (zlib format), base64: what the page's ``inflate`` reads."""
    raw = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


def pack(episodes: list[Episode], budget_bytes: int) -> dict[str, Any]:
    packer = Packer(budget_bytes)
    for episode in episodes:
        packer.add(episode)
    return packer.finish()

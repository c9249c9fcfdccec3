"""Episode details packed for the page: folded, deduplicated, compressed, within a size budget.

Each episode's detail (conversation, diff, verdict, tests, log tail) becomes a small JSON object.
Texts longer than a limit keep their head and tail with the number of characters cut. The budget
is spread over the episodes still to come: an episode larger than its share is packed again with
all its limits scaled down (to 3% at most: a skeleton of what the agent did), so a 1,000-episode run still fits a file one can
mail, every episode in it; only when even that does not fit are the rest left out (and counted:
``swerve report --serve`` pages them in). System prompts, task statements and long test-name
lists, the same in many episodes, are stored once in a string table. Episodes go into chunks of
about ``CHUNK_BYTES`` of JSON, each deflated and base64-encoded; the page inflates a chunk
(``DecompressionStream``) only when one of its episodes is opened.
"""

from __future__ import annotations

import base64
import json
import math
import zlib
from dataclasses import dataclass, field
from typing import Any

from swerve.report.model import Detail, Episode

CHUNK_BYTES = 256 * 1024
LIMITS = {"tool": 6000, "text": 8000, "arg": 4000, "patch": 200_000, "note": 4000, "log": 9000}
FLOORS = {"patch": 20_000, "log": 1500}  # never folded below these
TEST_NAMES = 400  # of each result of each test group
INTERNED_LIST = 20  # test-name lists at least this long go to the string table
MIN_SCALE = 0.03
FOLD_STEPS = 5
RESERVE = 0.97  # of the budget shared out: the compression ratio is an estimate
FIRST_RATIO = 0.4  # packed bytes per JSON byte, until the first chunk measures it
INTERNED_ROLES = ("system", "user")


def limits_at(scale: float) -> dict[str, int]:
    """The text limits at ``scale`` (1: full)."""
    return {k: max(FLOORS.get(k, 0), int(v * scale)) for k, v in LIMITS.items()}


def fold(text: str, limit: int) -> str | dict[str, Any]:
    """``text``, or its head and tail with the count of characters cut when longer than ``limit``."""
    if len(text) <= limit:
        return text
    head = limit * 2 // 3
    tail = limit - head
    return {"head": text[:head], "tail": text[-tail:], "cut": len(text) - head - tail}


def fold_tail(text: str, limit: int) -> str | dict[str, Any]:
    """The last ``limit`` characters of ``text`` (a log's tail is what matters)."""
    if len(text) <= limit:
        return text
    return {"head": "", "tail": text[-limit:], "cut": len(text) - limit}


def _content(value: Any) -> str:
    """A message's content as text (OpenAI content parts joined)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = [p.get("text", "") if isinstance(p, dict) else str(p) for p in value]
        return "\n".join(p for p in parts if isinstance(p, str))
    return "" if value is None else json.dumps(value, ensure_ascii=False, default=str)


def _arguments(value: Any, limit: int) -> Any:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return fold(value, limit)
    if isinstance(value, dict):
        return {str(k): fold(v, limit) if isinstance(v, str) else v for k, v in value.items()}
    return value


@dataclass
class Packer:
    """Packs details one at a time, so a run of any size is never held in memory at once.

    ``episodes``: how many details will be added (to share the budget out)."""

    budget_bytes: float
    episodes: int
    chunks: list[str] = field(default_factory=list)
    index: dict[str, list[int]] = field(default_factory=dict)  # key -> [chunk, position]
    strings: list[str] = field(default_factory=list)
    omitted: int = 0
    folded: int = 0  # episodes packed with their limits scaled down
    min_scale: float = 1.0
    _string_ids: dict[str, int] = field(default_factory=dict)
    _pending: list[Any] = field(default_factory=list)
    _pending_keys: list[str] = field(default_factory=list)
    _pending_bytes: int = 0
    _added: int = 0
    _used: int = 0
    _ratio: float = FIRST_RATIO

    def _intern(self, text: str) -> dict[str, int]:
        known = self._string_ids.get(text)
        if known is None:
            known = self._string_ids[text] = len(self.strings)
            self.strings.append(text)
            self._used += int(len(text) * self._ratio)  # the table goes in the page too
        return {"ref": known}

    def _calls(self, message: dict[str, Any], limits: dict[str, int]) -> list[dict[str, Any]]:
        calls = []
        for call in message.get("tool_calls") or []:
            if not isinstance(call, dict):
                continue
            fn = call.get("function") if isinstance(call.get("function"), dict) else call
            args = _arguments(fn.get("arguments"), limits["arg"])
            calls.append({"id": str(call.get("id") or ""), "name": str(fn.get("name") or "?"), "args": args})
        return calls

    def _message(self, message: dict[str, Any], limits: dict[str, int]) -> dict[str, Any]:
        role = str(message.get("role") or "?")
        text = _content(message.get("content"))
        packed: dict[str, Any] = {"role": role}
        if role in INTERNED_ROLES and len(text) > 200:
            packed["text"] = self._intern(text)
        else:
            packed["text"] = fold(text, limits["tool" if role == "tool" else "text"])
        calls = self._calls(message, limits)
        if calls:
            packed["calls"] = calls
        for key in ("name", "tool_call_id"):
            if isinstance(message.get(key), str):
                packed[key] = message[key]
        return packed

    def _tests(self, status: dict[str, list[str]]) -> dict[str, Any]:
        """A test group's names by result (at most ``TEST_NAMES`` each; long lists interned)."""
        kept: dict[str, Any] = {}
        for result, names in status.items():
            names = names[:TEST_NAMES]
            kept[result] = self._intern(json.dumps(names)) if len(names) >= INTERNED_LIST else names
        return kept | {
            "cut": sum(len(n) for n in status.values())
            - sum(min(len(n), TEST_NAMES) for n in status.values())
        }

    def _detail(self, detail: Detail, scale: float) -> tuple[dict[str, Any], int]:
        limits = limits_at(scale)
        packed = {
            "messages": [self._message(m, limits) for m in detail.messages],
            "patch": fold(detail.patch, limits["patch"]),
            "tests": {group: self._tests(status) for group, status in detail.tests.items()},
            "log": fold_tail(detail.log_tail, limits["log"]),
            "verdict": detail.verdict,
            "notes": [[label, fold(text, limits["note"])] for label, text in detail.notes],
        }
        if scale < 1:
            packed["scale"] = round(scale, 3)
        return packed, len(json.dumps(packed, ensure_ascii=False, separators=(",", ":")))

    def _share(self) -> float:
        """JSON bytes the next episode may take: the budget left, spread over the episodes left."""
        if math.isinf(self.budget_bytes):
            return math.inf
        left = self.budget_bytes * RESERVE - self._used - self._pending_bytes * self._ratio
        return left / max(1, self.episodes - self._added) / self._ratio

    def add(self, episode: Episode) -> None:
        """Pack one episode's detail (read now from disk) within its share of the budget."""
        if episode.load_detail is None:
            return
        self._added += 1
        try:
            detail = episode.load_detail()
        except (OSError, ValueError) as exc:
            detail = Detail(notes=[("unreadable", f"the episode's files could not be read: {exc}")])
        scale = 1.0
        packed, size = self._detail(detail, scale)
        share = self._share()
        for _ in range(FOLD_STEPS):  # texts shrink less than their limits do (short ones stay): repeat
            if size <= share or scale <= MIN_SCALE:
                break
            scale = max(MIN_SCALE, scale * share / size)
            packed, size = self._detail(detail, scale)
        if scale < 1:
            self.folded += 1
            self.min_scale = min(self.min_scale, scale)
        if self._used + (self._pending_bytes + size) * self._ratio > self.budget_bytes:
            self.omitted += 1
            return
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
        self._ratio = max(0.05, len(chunk) / self._pending_bytes)
        self._pending, self._pending_keys, self._pending_bytes = [], [], 0

    def finish(self) -> dict[str, Any]:
        """The packed trajectories: chunks, index, string table, and what was folded or left out."""
        self._flush()
        return {
            "codec": "deflate+base64",
            "chunks": self.chunks,
            "index": self.index,
            "strings": encode(self.strings),
            "omitted": self.omitted,
            "folded": self.folded,
            "min_scale": round(self.min_scale, 3),
        }


def encode(value: Any) -> str:
    """JSON, deflated (zlib format), base64: what the page's ``inflate`` reads."""
    raw = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


def pack(episodes: list[Episode], budget_bytes: float) -> dict[str, Any]:
    """Every episode's detail that fits ``budget_bytes`` of chunks (``inf``: all, at full limits)."""
    packer = Packer(budget_bytes, episodes=sum(1 for e in episodes if e.load_detail is not None))
    for episode in episodes:
        packer.add(episode)
    return packer.finish()

"""A model that plays scripted turns: for tests, demos and replaying recorded sessions offline.

Sources, by shape:

- a script: ``{"turns": [{"text": ..., "tool_calls": [{"name": ..., "arguments": {...}}],
  "usage": {...}, "finish_reason": ...}]}``, or that list of turns at the top level;
- a trajectory record ``{"messages": [...]}``: its assistant messages are replayed;
- a JSONL session file: one message per line (or ``{"type": "message", "message": ...}`` lines,
  as swerve's session logs hold them); its assistant messages are replayed.

When the turns run out the model answers ``(replay script exhausted)`` and stops.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from swerve.models.base import (
    Message,
    ModelTurn,
    Sampling,
    TextCallback,
    ToolCall,
    ToolSpec,
    Usage,
    new_call_id,
)
from swerve.models.turns import decode_call, finish_reason

DEMO_NAME = "demo"
DEMO_PATH = Path(__file__).with_name("replay_demo.json")
EXHAUSTED_TEXT = "(replay script exhausted)"
CHARS_PER_TOKEN = 4


def load_turns(source: str | Path | list[Any] | dict[str, Any]) -> list[dict[str, Any]]:
    """Scripted turns from a file path or an already-parsed script. Raises ValueError (or
    OSError for an unreadable file) with a message that names the problem."""
    if isinstance(source, str | Path):
        path = DEMO_PATH if str(source) == DEMO_NAME else Path(source)
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".jsonl":
            return _from_messages(_jsonl_messages(text), str(path))
        try:
            data: Any = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
        except RecursionError:
            raise ValueError(f"{path} is nested too deeply") from None
        where = str(path)
    else:
        data, where = source, "replay script"
    if isinstance(data, dict) and isinstance(data.get("turns"), list):
        data = data["turns"]
    elif isinstance(data, dict) and isinstance(data.get("messages"), list):
        return _from_messages(data["messages"], where)
    if not isinstance(data, list):
        raise ValueError(f'{where}: expected {{"turns": [...]}}, a list of turns, or {{"messages": [...]}}')
    if data and all(isinstance(item, dict) and "role" in item for item in data):
        return _from_messages(data, where)
    turns = []
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise ValueError(f"{where}: turn {i + 1} is not an object")
        turns.append(item)
    return turns


def _jsonl_messages(text: str) -> list[Message]:
    messages: list[Message] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except (
            json.JSONDecodeError,
            RecursionError,
        ):  # a torn line (the session was cut off while writing): skip it
            continue
        if (
            isinstance(entry, dict)
            and entry.get("type") == "message"
            and isinstance(entry.get("message"), dict)
        ):
            messages.append(entry["message"])
        elif isinstance(entry, dict) and "role" in entry:
            messages.append(entry)
    return messages


def _from_messages(messages: list[Any], where: str) -> list[dict[str, Any]]:
    turns = []
    for msg in messages:
        if not isinstance(msg, dict) or msg.get("role") != "assistant":
            continue
        calls = []
        for call in msg.get("tool_calls") or []:
            fn = call.get("function") if isinstance(call, dict) else None
            if isinstance(fn, dict):
                calls.append(
                    {"id": call.get("id"), "name": fn.get("name", ""), "arguments": fn.get("arguments")}
                )
        turns.append({"text": msg.get("content") or "", "tool_calls": calls})
    if not turns:
        raise ValueError(f"{where}: no assistant messages to replay")
    return turns


class ReplayModel:
    """Plays scripted turns in order, whatever it is asked."""

    def __init__(
        self,
        source: str | Path | list[Any] | dict[str, Any],
        *,
        name: str | None = None,
        context_window: int = 131072,
        chunks: int = 3,
    ) -> None:
        self.turns = load_turns(source)
        label = source if isinstance(source, str | Path) else "script"
        self.name = name or f"replay:{label}"
        self.context_window = context_window
        self.chunks = max(1, chunks)
        self.position = 0
        self.requests: list[list[Message]] = []  # the messages of every call, for inspection

    @property
    def exhausted(self) -> bool:
        return self.position >= len(self.turns)

    async def complete(
        self,
        messages: list[Message],
        tools: list[ToolSpec],
        *,
        sampling: Sampling | None = None,
        on_text: TextCallback | None = None,
    ) -> ModelTurn:
        self.requests.append(list(messages))
        if self.exhausted:
            script: dict[str, Any] = {"text": EXHAUSTED_TEXT, "finish_reason": "stop"}
        else:
            script = self.turns[self.position]
            self.position += 1
        text = script.get("text", script.get("content")) or ""
        text = text if isinstance(text, str) else json.dumps(text, ensure_ascii=False)
        if on_text is not None:
            for piece in _pieces(text, self.chunks):
                on_text(piece)
        calls = [self._call(c, tools) for c in script.get("tool_calls") or []]
        usage = _usage(script.get("usage"), messages, text)
        return ModelTurn(
            text=text,
            tool_calls=calls,
            usage=usage,
            finish_reason=finish_reason(script.get("finish_reason"), bool(calls)),
        )

    @staticmethod
    def _call(spec: Any, tools: list[ToolSpec]) -> ToolCall:
        if not isinstance(spec, dict):
            return ToolCall(id=new_call_id(), name="", error="a scripted tool call is not an object")
        fn = spec["function"] if isinstance(spec.get("function"), dict) else spec
        return decode_call(spec.get("id"), str(fn.get("name") or ""), fn.get("arguments"), tools)

    async def aclose(self) -> None:
        return None


def _pieces(text: str, count: int) -> list[str]:
    if not text:
        return []
    size = max(1, -(-len(text) // count))
    return [text[i : i + size] for i in range(0, len(text), size)]


def _usage(data: Any, messages: list[Message], text: str) -> Usage:
    if isinstance(data, dict):
        return Usage(
            input_tokens=_int(data.get("input_tokens", data.get("prompt_tokens"))),
            output_tokens=_int(data.get("output_tokens", data.get("completion_tokens"))),
            cache_read_tokens=_int(data.get("cache_read_tokens")),
        )
    size = len(json.dumps(messages, ensure_ascii=False, default=str))
    return Usage(input_tokens=size // CHARS_PER_TOKEN + 1, output_tokens=len(text) // CHARS_PER_TOKEN + 1)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0

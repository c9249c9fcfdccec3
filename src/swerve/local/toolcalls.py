"""Hermes-style tool calls in model output -> OpenAI ``tool_calls``, streaming or not.

Qwen2.5 chat templates ask for ``<tool_call>\\n{"name": ..., "arguments": {...}}\\n</tool_call>``.
:class:`ToolCallStream` takes the reply text as it is generated and yields content pieces and
finished calls: text that could be the start of ``<tool_call>`` is held back until it is clear,
and a call is released whole once its closing tag arrives (or the reply ends cleanly after it).
A block whose body is not a JSON object with a ``name`` stays in the content as written, and
so does a call cut off by the token limit: nothing the model wrote is dropped. Calls written
without the markup (bare JSON, fenced JSON) are left to the client; this mirrors llama.cpp's
and vLLM's Hermes parsers, which also read only the tags.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field

OPEN = "<tool_call>"
CLOSE = "</tool_call>"


@dataclass
class ToolCall:
    name: str
    arguments: str  # JSON text, as OpenAI sends it
    id: str = field(default_factory=lambda: "call_" + secrets.token_hex(12))

    def as_openai(self) -> dict[str, object]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


def parse_call(body: str) -> ToolCall | None:
    """The call in one ``<tool_call>`` body, or None when it is not one."""
    text = body.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0].strip()
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not data["name"]:
        return None
    arguments = data.get("arguments", data.get("parameters", {}))
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return None
    if not isinstance(arguments, dict):
        return None
    return ToolCall(data["name"], json.dumps(arguments, ensure_ascii=False))


def _partial_open(text: str) -> int:
    """Length of the longest tail of ``text`` that could begin ``<tool_call>``."""
    for size in range(min(len(OPEN) - 1, len(text)), 0, -1):
        if OPEN.startswith(text[-size:]):
            return size
    return 0


class ToolCallStream:
    """Splits reply text into content and calls as it arrives: ``feed`` then ``finish``."""

    def __init__(self) -> None:
        self._buffer = ""
        self._in_call = False
        self._space = ""  # whitespace held until we know whether a call follows it
        self._after_call = False
        self.calls: list[ToolCall] = []
        self.content = ""

    def _emit(self, text: str, out: list[str | ToolCall]) -> None:
        if self._after_call:
            text = text.lstrip()
            if text:
                self._after_call = False
        if not text:
            return
        stripped = text.rstrip()
        if not stripped:
            self._space += text
            return
        piece = self._space + stripped
        self._space = text[len(stripped) :]
        self.content += piece
        out.append(piece)

    def feed(self, text: str) -> list[str | ToolCall]:
        """New reply text -> content pieces (str) and complete calls, in order."""
        out: list[str | ToolCall] = []
        self._buffer += text
        while self._buffer:
            if not self._in_call:
                at = self._buffer.find(OPEN)
                if at < 0:
                    hold = _partial_open(self._buffer)
                    self._emit(self._buffer[: len(self._buffer) - hold], out)
                    self._buffer = self._buffer[len(self._buffer) - hold :]
                    break
                self._emit(self._buffer[:at], out)
                self._buffer = self._buffer[at + len(OPEN) :]
                self._in_call = True
            else:
                end = self._buffer.find(CLOSE)
                if end < 0:
                    break
                body, self._buffer = self._buffer[:end], self._buffer[end + len(CLOSE) :]
                self._in_call = False
                self._close(body, OPEN + body + CLOSE, out)
        return out

    def _close(self, body: str, written: str, out: list[str | ToolCall]) -> None:
        call = parse_call(body)
        if call is None:
            self._emit(written, out)
            return
        self._space = ""
        self._after_call = True
        self.calls.append(call)
        out.append(call)

    def prime(self, text: str) -> None:
        """Read text that is already part of the reply (a prefill) without emitting it as content."""
        self.feed(text)
        self.content = ""
        self._space = ""

    def finish(self, complete: bool) -> list[str | ToolCall]:
        """The reply ended; ``complete`` is False when it was cut off (token or context limit)."""
        out: list[str | ToolCall] = []
        if self._in_call:
            body = self._buffer
            if complete:
                self._close(body, OPEN + body, out)
            else:
                self._emit(OPEN + body, out)
        else:
            self._emit(self._buffer, out)
        self._buffer = ""
        self._in_call = False
        if not self.calls and self._space:
            self.content += self._space
            out.append(self._space)
        self._space = ""
        return out

"""Pieces the streaming providers share: showing text across retries, recovering Qwen3-Coder XML
calls left in the text, decoding call arguments, and normalising finish reasons."""

from __future__ import annotations

import json
from typing import Any

from swerve.models.base import TextCallback, ToolCall, ToolSpec, new_call_id

FINISH_REASONS = {
    "stop": "stop",
    "end_turn": "stop",
    "eos": "stop",
    "stop_sequence": "stop",
    "tool_calls": "tool_calls",
    "tool_use": "tool_calls",
    "function_call": "tool_calls",
    "length": "length",
    "max_tokens": "length",
    "model_length": "length",
    "content_filter": "content_filter",
    "refusal": "content_filter",
    "error": "error",
}


def finish_reason(raw: Any, has_calls: bool) -> str:
    """Our finish reason for a vendor's: stop | tool_calls | length | content_filter | error."""
    reason = FINISH_REASONS.get(str(raw).lower(), "stop") if raw else "stop"
    if has_calls and reason == "stop":
        return "tool_calls"
    if not has_calls and reason == "tool_calls":
        return "stop"
    return reason


def decode_call(call_id: str | None, name: str, raw_arguments: Any, tools: list[ToolSpec]) -> ToolCall:
    """A ToolCall from a name and raw arguments (JSON text or a dict). Arguments that cannot be
    decoded leave ``arguments`` empty and say why in ``error``; this never raises."""
    from swerve.models.arguments import decode_arguments, repair_names

    call = ToolCall(id=call_id or new_call_id(), name=name.strip())
    if not call.name:
        call.error = "the tool call has no function name"
        return call
    schema = next((t.parameters for t in tools if t.name == call.name), None)
    try:
        call.arguments, call.repairs = repair_names(decode_arguments(raw_arguments, schema), schema)
    except ValueError as exc:
        call.error = f"could not read the arguments of {call.name}: {exc}"
    except RecursionError:
        call.error = f"could not read the arguments of {call.name}: nested too deeply"
    return call


class Display:
    """Passes text to ``on_text`` once, even when a retried attempt streams it again.

    A retry that repeats what was already shown stays silent until it goes further; one that
    says something else starts on a new line."""

    def __init__(self, on_text: TextCallback | None) -> None:
        self.on_text = on_text
        self.shown = ""  # the text of the attempt last shown
        self.attempt = ""
        self.replaying = False

    def new_attempt(self) -> None:
        self.attempt = ""
        self.replaying = bool(self.shown)

    def show(self, delta: str) -> None:
        if not delta:
            return
        text = self.attempt + delta
        self.attempt = text
        if self.replaying:
            if self.shown.startswith(text):
                return
            self.replaying = False
            out = text[len(self.shown) :] if text.startswith(self.shown) else "\n" + text
        else:
            out = delta
        self.shown = text
        if self.on_text is not None:
            self.on_text(out)


class AttemptText:
    """The text of one attempt. With tools declared, deltas pass through the Qwen3-Coder XML
    stream parser, so call markup is held back from the display and recovered as calls."""

    def __init__(self, display: Display, tools: list[ToolSpec]) -> None:
        self.display = display
        display.new_attempt()
        self.raw: list[str] = []
        self.visible: list[str] = []
        self.parser: Any = None
        if tools:
            from swerve.models.qwen_xml import StreamParser

            self.parser = StreamParser(tools)
        self.tools = tools

    def feed(self, delta: str) -> None:
        if not delta:
            return
        self.raw.append(delta)
        out = delta
        if self.parser is not None:
            try:
                out = self.parser.feed(delta)
            except Exception:  # a parser bug must not lose the turn: show raw text from here on
                self.parser = None
                out = delta
        if out:
            self.visible.append(out)
            self.display.show(out)

    def over_budget(self, max_tokens: int | None) -> bool:
        """Whether this attempt streamed far more than ``max_tokens`` allows (a server that ignores
        the limit): more than eight characters a token, the most any tokenizer packs."""
        return bool(max_tokens) and sum(len(r) for r in self.raw) > 8 * int(max_tokens or 0)

    @property
    def raw_text(self) -> str:
        """Everything this attempt streamed, as it came."""
        return "".join(self.raw)

    def finish(self) -> tuple[str, list[ToolCall]]:
        """(content, calls recovered from XML markup in the text)."""
        raw = "".join(self.raw)
        if self.parser is None:
            return raw, []
        try:
            content, calls = self.parser.finish()
        except Exception:
            return raw, []
        shown = "".join(self.visible)
        if len(content) > len(shown) and content.startswith(shown):
            self.display.show(content[len(shown) :])
        return content, list(calls)


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (for reading untrusted wire data)."""
    return value if isinstance(value, dict) else {}


def as_text(content: Any) -> str:
    """Text of a message content: a string, or a list of parts with ``text`` fields."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "".join(parts)
    return str(content)


def arguments_json(arguments: Any) -> str:
    """Arguments as the JSON text the OpenAI wire format wants."""
    if isinstance(arguments, str):
        return arguments
    try:
        return json.dumps(arguments if arguments is not None else {}, ensure_ascii=False, default=str)
    except (ValueError, RecursionError):  # circular or absurdly deep: send what can be sent
        return "{}"

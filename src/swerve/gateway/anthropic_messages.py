"""The Anthropic Messages face: ``POST /v1/messages`` (streaming and not) and count_tokens.

Requests become swerve's history: ``system`` as a string or blocks, ``tool_use`` blocks as calls,
``tool_result`` blocks as tool messages (in order, before the user's text); thinking blocks are
dropped (the backends here speak none), ``cache_control`` and other unknown fields are ignored.
Replies stream in the API's order: message_start, ping, a text block, one block per tool call
(its whole input in one ``input_json_delta``), message_delta with the stop reason and usage,
message_stop. A backend failure after the stream began is an ``error`` event.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

from swerve.errors import ModelError
from swerve.gateway.errors import backend_failure, stream_error_kind
from swerve.gateway.turns import CHARS_PER_TOKEN, TurnRequest, TurnStream, tool_specs
from swerve.gateway.wire import block_text, required_list, required_str, sampling_from
from swerve.httpd import HTTPError, sse_event
from swerve.models.anthropic_messages import tool_use_id
from swerve.models.base import Message, ModelTurn

STOP_REASONS = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}
DROPPED_BLOCKS = {"thinking", "redacted_thinking"}


def parse(body: dict[str, Any]) -> TurnRequest:
    """A TurnRequest from a Messages request body; HTTPError 400 for what cannot be read."""
    model = required_str(body, "model")
    notes: list[str] = []
    messages: list[Message] = []
    system = block_text(body.get("system"), notes, "system")
    if system.strip():
        messages.append({"role": "system", "content": system})
    for i, msg in enumerate(required_list(body, "messages")):
        if not isinstance(msg, dict) or msg.get("role") not in ("user", "assistant", "system"):
            raise HTTPError(400, f"messages[{i}]: a message needs role user, assistant or system")
        content = msg.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not isinstance(blocks, list):
            raise HTTPError(400, f"messages[{i}].content: a string or a list of blocks is required")
        if msg["role"] == "system":  # Claude Code sends some context this way, mid-conversation
            messages.append({"role": "system", "content": block_text(blocks, notes, f"messages[{i}]")})
        elif msg["role"] == "assistant":
            messages.append(_assistant(blocks, notes, f"messages[{i}]"))
        else:
            messages.extend(_user(blocks, notes, f"messages[{i}]"))
    return TurnRequest(
        model=model,
        messages=messages,
        tools=_tools(body.get("tools"), notes),
        sampling=sampling_from(body, ("max_tokens",)),
        stream=bool(body.get("stream")),
        notes=notes,
    )


def _assistant(blocks: list[Any], notes: list[str], where: str) -> Message:
    text: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in blocks:
        if not isinstance(block, dict):
            raise HTTPError(400, f"{where}: a content block must be an object")
        kind = block.get("type")
        if kind == "tool_use":
            arguments = block.get("input") if isinstance(block.get("input"), dict) else {}
            calls.append(
                {
                    "id": str(block.get("id") or ""),
                    "type": "function",
                    "function": {"name": str(block.get("name") or ""), "arguments": arguments},
                }
            )
        elif kind in DROPPED_BLOCKS:
            continue
        else:
            text.append(block_text([block], notes, where))
    msg: Message = {"role": "assistant", "content": "".join(text)}
    if calls:
        msg["tool_calls"] = calls
    return msg


def _user(blocks: list[Any], notes: list[str], where: str) -> list[Message]:
    results: list[Message] = []
    rest: list[Any] = []
    for block in blocks:
        if isinstance(block, dict) and block.get("type") == "tool_result":
            content = block_text(block.get("content"), notes, f"{where} tool_result")
            if block.get("is_error") and not content.startswith("Error"):
                content = f"Error: {content}"
            results.append(
                {"role": "tool", "tool_call_id": str(block.get("tool_use_id") or ""), "content": content}
            )
        elif isinstance(block, dict) and block.get("type") in DROPPED_BLOCKS:
            continue
        else:
            rest.append(block)
    out = results
    if rest:
        out.append({"role": "user", "content": block_text(rest, notes, where)})
    return out


def _tools(raw: Any, notes: list[str]) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise HTTPError(400, "tools: a list is required")
    entries = []
    for i, tool in enumerate(raw):
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            raise HTTPError(400, f"tools[{i}]: a tool needs a name")
        if "input_schema" not in tool:  # a server tool (web search, code execution...): not ours to run
            notes.append(
                f"tools[{i}]: server tool {tool.get('type') or tool['name']} is not offered to the model"
            )
            continue
        entries.append((tool["name"], str(tool.get("description") or ""), tool.get("input_schema")))
    return tool_specs(entries)


def _blocks(turn: ModelTurn, text: str) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    for call in turn.tool_calls:
        blocks.append(
            {"type": "tool_use", "id": tool_use_id(call.id), "name": call.name, "input": call.arguments}
        )
    return blocks


def _usage(turn: ModelTurn) -> dict[str, int]:
    return {
        "input_tokens": turn.usage.input_tokens - turn.usage.cache_read_tokens,
        "output_tokens": turn.usage.output_tokens,
        "cache_read_input_tokens": turn.usage.cache_read_tokens,
        "cache_creation_input_tokens": 0,
    }


def _stop(turn: ModelTurn) -> str:
    return "tool_use" if turn.tool_calls else STOP_REASONS.get(turn.finish_reason, "end_turn")


def message(turn: ModelTurn, request: TurnRequest) -> dict[str, Any]:
    """The whole reply as a Message object."""
    return {
        "id": "msg_" + secrets.token_hex(12),
        "type": "message",
        "role": "assistant",
        "model": request.model,
        "content": _blocks(turn, turn.text),
        "stop_reason": _stop(turn),
        "stop_sequence": None,
        "usage": _usage(turn),
    }


def _event(data: dict[str, Any]) -> bytes:
    return sse_event(data, str(data["type"]))


async def events(
    stream: TurnStream, first: str | None, request: TurnRequest, outcome: dict[str, Any]
) -> AsyncIterator[bytes]:
    """The reply as Messages stream events (``first`` is the stream's first item, already had)."""
    out: list[bytes] = []
    start = {**message(ModelTurn(), request), "content": [], "stop_reason": None}
    # the real count comes with message_delta; until then the body's size says roughly
    start["usage"] = {"input_tokens": max(1, request.size_bytes // CHARS_PER_TOKEN), "output_tokens": 0}
    out.append(_event({"type": "message_start", "message": start}))
    out.append(_event({"type": "ping"}))
    index, text_open, delta = 0, False, first
    try:
        while delta is not None:
            if delta:
                if not text_open:
                    out.append(
                        _event(
                            {
                                "type": "content_block_start",
                                "index": 0,
                                "content_block": {"type": "text", "text": ""},
                            }
                        )
                    )
                    text_open = True
                out.append(
                    _event(
                        {
                            "type": "content_block_delta",
                            "index": 0,
                            "delta": {"type": "text_delta", "text": delta},
                        }
                    )
                )
            elif delta == "":  # the backend is quiet: keep the connection alive
                out.append(_event({"type": "ping"}))
            if out:  # what is ready goes in one write, before waiting on the backend
                yield b"".join(out)
                out.clear()
            delta = await stream.next()
    except ModelError as exc:
        failure = backend_failure(exc)
        outcome.update(status=failure.status, error=failure.message)
        if text_open:
            out.append(_event({"type": "content_block_stop", "index": 0}))
        kind = stream_error_kind(failure.status, anthropic=True)
        out.append(_event({"type": "error", "error": {"type": kind, "message": failure.message}}))
        yield b"".join(out)
        return
    turn = stream.turn
    assert turn is not None
    if not text_open and turn.text and not stream.streamed_text:  # a backend that streamed no text
        out.append(
            _event({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
        )
        out.append(
            _event(
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": turn.text},
                }
            )
        )
        text_open = True
    if text_open:
        out.append(_event({"type": "content_block_stop", "index": 0}))
        index = 1
    for block in _blocks(turn, "")[:]:
        start_block = {**block, "input": {}}
        out.append(_event({"type": "content_block_start", "index": index, "content_block": start_block}))
        partial = json.dumps(block["input"], ensure_ascii=False)
        out.append(
            _event(
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "input_json_delta", "partial_json": partial},
                }
            )
        )
        out.append(_event({"type": "content_block_stop", "index": index}))
        index += 1
    stop = _stop(turn)
    outcome.update(stop_reason=stop, usage=turn.usage.dict(), tool_calls=len(turn.tool_calls))
    out.append(
        _event(
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": _usage(turn),
            }
        )
    )
    out.append(_event({"type": "message_stop"}))
    yield b"".join(out)

"""The OpenAI Responses face (``POST /v1/responses``), what Codex speaks.

Stateless: the whole conversation comes in ``input`` (Codex sends ``store: false``), so
``previous_response_id`` is refused. Input items become swerve's history: messages (user,
developer, assistant), ``function_call`` / ``function_call_output``, and ``custom_tool_call`` /
its output (a freeform tool, offered to the model as a function taking one ``input`` string);
reasoning items are dropped. The stream carries the events the Responses API sends and Codex
reads: response.created, output items added and done, output_text deltas, function-call
arguments, and response.completed with usage (or response.failed).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

from swerve.errors import ModelError
from swerve.gateway.errors import backend_failure
from swerve.gateway.turns import KEEPALIVE, TurnRequest, TurnStream, history_arguments, tool_specs
from swerve.gateway.wire import block_text, required_str, sampling_from
from swerve.httpd import HTTPError, sse_event
from swerve.models.base import Message, ModelTurn, ToolCall

CUSTOM_INPUT = "input"
DROPPED_ITEMS = {"reasoning", "web_search_call", "local_shell_call", "local_shell_call_output", "compaction"}


def parse(body: dict[str, Any]) -> TurnRequest:
    """A TurnRequest from a Responses body; HTTPError 400 for what cannot be read."""
    model = required_str(body, "model")
    if body.get("previous_response_id"):
        raise HTTPError(
            400,
            "previous_response_id is not supported here: send the whole conversation in input (store: false)",
        )
    notes: list[str] = []
    messages: list[Message] = []
    instructions = body.get("instructions")
    if isinstance(instructions, str) and instructions.strip():
        messages.append({"role": "system", "content": instructions})
    raw = body.get("input")
    items = [{"type": "message", "role": "user", "content": raw}] if isinstance(raw, str) else raw
    if not isinstance(items, list):
        raise HTTPError(400, "input: a string or a list of items is required")
    tools, custom = _tools(body.get("tools"), notes)
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise HTTPError(400, f"input[{i}]: an item must be an object")
        _add_item(messages, item, notes, f"input[{i}]")
    return TurnRequest(
        model=model,
        messages=messages,
        tools=tools,
        sampling=sampling_from(body, ("max_output_tokens",)),
        stream=bool(body.get("stream")),
        notes=notes,
        options={"custom_tools": custom},
    )


def _add_item(messages: list[Message], item: dict[str, Any], notes: list[str], where: str) -> None:
    kind = item.get("type") or ("message" if "role" in item else None)
    if kind == "message":
        role = item.get("role")
        text = block_text(item.get("content"), notes, where)
        if role in ("system", "developer"):
            messages.append({"role": "system", "content": text})
        elif role in ("user", "assistant"):
            messages.append({"role": role, "content": text})
        else:
            raise HTTPError(400, f"{where}: role {role!r} is not one of user, assistant, developer, system")
    elif kind in ("function_call", "custom_tool_call"):
        if kind == "function_call":
            arguments = history_arguments(item.get("arguments"))
        else:
            arguments = {CUSTOM_INPUT: str(item.get("input") or "")}
        call = {
            "id": str(item.get("call_id") or ""),
            "type": "function",
            "function": {"name": str(item.get("name") or ""), "arguments": arguments},
        }
        last = messages[-1] if messages else None
        if last is not None and last["role"] == "assistant":
            last.setdefault("tool_calls", []).append(call)
        else:
            messages.append({"role": "assistant", "content": "", "tool_calls": [call]})
    elif kind in ("function_call_output", "custom_tool_call_output"):
        output = block_text(item.get("output"), notes, where)
        messages.append({"role": "tool", "tool_call_id": str(item.get("call_id") or ""), "content": output})
    elif kind in DROPPED_ITEMS:
        return
    else:
        notes.append(f"{where}: a {kind} item was left out")


def _tools(raw: Any, notes: list[str]) -> tuple[list[Any], list[str]]:
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        raise HTTPError(400, "tools: a list is required")
    entries, custom = [], []
    for i, tool in enumerate(raw):
        if not isinstance(tool, dict):
            raise HTTPError(400, f"tools[{i}]: a tool must be an object")
        kind, name = tool.get("type"), tool.get("name")
        if kind == "function" and isinstance(name, str):
            entries.append((name, str(tool.get("description") or ""), tool.get("parameters")))
        elif kind == "custom" and isinstance(name, str):
            description = str(tool.get("description") or "")
            schema = {
                "type": "object",
                "properties": {
                    CUSTOM_INPUT: {"type": "string", "description": "the tool's whole input, as free text"}
                },
                "required": [CUSTOM_INPUT],
            }
            entries.append((name, description, schema))
            custom.append(name)
        else:
            notes.append(f"tools[{i}]: a {kind} tool is not offered to the model")
    return tool_specs(entries), custom


def _item(call: ToolCall, custom: list[str]) -> dict[str, Any]:
    if call.name in custom:
        text = call.arguments.get(CUSTOM_INPUT)
        return {
            "type": "custom_tool_call",
            "id": "ctc_" + secrets.token_hex(12),
            "call_id": call.id,
            "name": call.name,
            "input": text if isinstance(text, str) else json.dumps(call.arguments, ensure_ascii=False),
            "status": "completed",
        }
    return {
        "type": "function_call",
        "id": "fc_" + secrets.token_hex(12),
        "call_id": call.id,
        "name": call.name,
        "arguments": json.dumps(call.arguments, ensure_ascii=False),
        "status": "completed",
    }


def _message_item(text: str, item_id: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": item_id,
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def _usage(turn: ModelTurn) -> dict[str, Any]:
    return {
        "input_tokens": turn.usage.input_tokens,
        "input_tokens_details": {"cached_tokens": turn.usage.cache_read_tokens},
        "output_tokens": turn.usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": turn.usage.input_tokens + turn.usage.output_tokens,
    }


def _response(
    request: TurnRequest, response_id: str, output: list[dict[str, Any]], turn: ModelTurn | None
) -> dict[str, Any]:
    incomplete = turn is not None and turn.finish_reason == "length" and not turn.tool_calls
    status = "in_progress" if turn is None else ("incomplete" if incomplete else "completed")
    return {
        "id": response_id,
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "model": request.model,
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "usage": _usage(turn) if turn is not None else None,
    }


def message(turn: ModelTurn, request: TurnRequest) -> dict[str, Any]:
    """The whole reply as a Response object."""
    output = [_message_item(turn.text, "msg_" + secrets.token_hex(12))] if turn.text else []
    output += [_item(call, request.options.get("custom_tools", [])) for call in turn.tool_calls]
    return _response(request, "resp_" + secrets.token_hex(12), output, turn)


class _Sequencer:
    def __init__(self) -> None:
        self.number = 0

    def __call__(self, kind: str, **fields: Any) -> bytes:
        self.number += 1
        return sse_event({"type": kind, "sequence_number": self.number, **fields}, kind)


async def events(
    stream: TurnStream, first: str | None, request: TurnRequest, outcome: dict[str, Any]
) -> AsyncIterator[bytes]:
    """The reply as Responses stream events (``first`` already had from the stream)."""
    out: list[bytes] = []
    event = _Sequencer()
    response_id, message_id = "resp_" + secrets.token_hex(12), "msg_" + secrets.token_hex(12)
    out.append(event("response.created", response=_response(request, response_id, [], None)))
    out.append(event("response.in_progress", response=_response(request, response_id, [], None)))
    output: list[dict[str, Any]] = []
    text_open, delta = False, first
    try:
        while delta is not None:
            if delta:
                if not text_open:
                    out.extend(_open_message(event, message_id))
                    text_open = True
                out.append(
                    event(
                        "response.output_text.delta",
                        item_id=message_id,
                        output_index=0,
                        content_index=0,
                        delta=delta,
                    )
                )
            elif delta == "":  # the backend is quiet: keep the connection alive
                out.append(KEEPALIVE)
            if out:  # what is ready goes in one write, before waiting on the backend
                yield b"".join(out)
                out.clear()
            delta = await stream.next()
    except ModelError as exc:
        failure = backend_failure(exc)
        outcome.update(status=failure.status, error=failure.message)
        failed = {**_response(request, response_id, output, None), "status": "failed"}
        failed["error"] = {
            "code": "server_error" if failure.status >= 500 else "invalid_request",
            "message": failure.message,
        }
        out.append(event("response.failed", response=failed))
        yield b"".join(out)
        return
    turn = stream.turn
    assert turn is not None
    text = stream.streamed_text or turn.text
    if text:
        if not text_open:
            out.extend(_open_message(event, message_id))
            out.append(
                event(
                    "response.output_text.delta",
                    item_id=message_id,
                    output_index=0,
                    content_index=0,
                    delta=text,
                )
            )
        part = {"type": "output_text", "text": text, "annotations": []}
        out.append(
            event("response.output_text.done", item_id=message_id, output_index=0, content_index=0, text=text)
        )
        out.append(
            event(
                "response.content_part.done", item_id=message_id, output_index=0, content_index=0, part=part
            )
        )
        output.append(_message_item(text, message_id))
        out.append(event("response.output_item.done", output_index=0, item=output[-1]))
    for call in turn.tool_calls:
        item = _item(call, request.options.get("custom_tools", []))
        index = len(output)
        added = {**item, "status": "in_progress"}
        added["arguments" if item["type"] == "function_call" else "input"] = ""
        out.append(event("response.output_item.added", output_index=index, item=added))
        # a function call's arguments and a custom tool's input go out the same way, whole
        field, prefix = (
            ("arguments", "response.function_call_arguments")
            if item["type"] == "function_call"
            else ("input", "response.custom_tool_call_input")
        )
        out.append(event(f"{prefix}.delta", item_id=item["id"], output_index=index, delta=item[field]))
        out.append(event(f"{prefix}.done", item_id=item["id"], output_index=index, **{field: item[field]}))
        output.append(item)
        out.append(event("response.output_item.done", output_index=index, item=item))
    final = _response(request, response_id, output, turn)
    outcome.update(finish=turn.finish_reason, usage=turn.usage.dict(), tool_calls=len(turn.tool_calls))
    out.append(
        event(
            "response.completed" if final["status"] == "completed" else "response.incomplete", response=final
        )
    )
    yield b"".join(out)


def _open_message(event: _Sequencer, message_id: str) -> list[bytes]:
    item = {"type": "message", "id": message_id, "status": "in_progress", "role": "assistant", "content": []}
    part = {"type": "output_text", "text": "", "annotations": []}
    return [
        event("response.output_item.added", output_index=0, item=item),
        event("response.content_part.added", item_id=message_id, output_index=0, content_index=0, part=part),
    ]

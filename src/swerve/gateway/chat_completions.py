"""The OpenAI Chat Completions face (``POST /v1/chat/completions``): Qwen Code, Cline, aider and
any OpenAI SDK. Streams the API's chunks: the role, content deltas, each tool call as one
``delta.tool_calls`` entry (id, name and whole arguments on its own index), the finish reason,
usage when ``stream_options.include_usage`` asks, then ``[DONE]``. A backend failure after the
stream began is a chunk with an ``error`` object (what the SDKs raise on)."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

from swerve.errors import ModelError
from swerve.gateway.errors import backend_failure, openai_error
from swerve.gateway.turns import KEEPALIVE, TurnRequest, TurnStream, history_arguments, tool_specs
from swerve.gateway.wire import block_text, required_list, required_str, sampling_from
from swerve.httpd import HTTPError, sse_event
from swerve.models.base import Message, ModelTurn

FINISH = {"stop": "stop", "tool_calls": "tool_calls", "length": "length", "content_filter": "content_filter"}


def parse(body: dict[str, Any]) -> TurnRequest:
    """A TurnRequest from a chat completions body; HTTPError 400 for what cannot be read."""
    model = required_str(body, "model")
    notes: list[str] = []
    messages: list[Message] = []
    for i, msg in enumerate(required_list(body, "messages")):
        where = f"messages[{i}]"
        if not isinstance(msg, dict) or not isinstance(msg.get("role"), str):
            raise HTTPError(400, f"{where}: a message needs a role")
        role = msg["role"]
        text = block_text(msg.get("content"), notes, where)
        if role in ("system", "developer"):
            messages.append({"role": "system", "content": text})
        elif role == "user":
            messages.append({"role": "user", "content": text})
        elif role == "assistant":
            messages.append(_assistant(msg, text, where))
        elif role in ("tool", "function"):
            call_id = msg.get("tool_call_id") or msg.get("name") or ""
            messages.append({"role": "tool", "tool_call_id": str(call_id), "content": text})
        else:
            raise HTTPError(
                400, f"{where}: role {role!r} is not one of system, developer, user, assistant, tool"
            )
    options = body["stream_options"] if isinstance(body.get("stream_options"), dict) else {}
    return TurnRequest(
        model=model,
        messages=messages,
        tools=_tools(body, notes),
        sampling=sampling_from(body, ("max_completion_tokens", "max_tokens")),
        stream=bool(body.get("stream")),
        notes=notes,
        options={"include_usage": bool(options.get("include_usage"))},
    )


def _assistant(msg: dict[str, Any], text: str, where: str) -> Message:
    out: Message = {"role": "assistant", "content": text}
    calls = msg.get("tool_calls")
    if calls is not None and not isinstance(calls, list):
        raise HTTPError(400, f"{where}.tool_calls: a list is required")
    wire_calls = []
    for call in calls or []:
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict):
            raise HTTPError(400, f"{where}.tool_calls: each call needs a function")
        arguments = history_arguments(fn.get("arguments"))
        wire_calls.append(
            {
                "id": str(call.get("id") or ""),
                "type": "function",
                "function": {"name": str(fn.get("name") or ""), "arguments": arguments},
            }
        )
    if wire_calls:
        out["tool_calls"] = wire_calls
    return out


def _tools(body: dict[str, Any], notes: list[str]) -> list[Any]:
    raw = body.get("tools")
    if raw is None and isinstance(body.get("functions"), list):  # the legacy spelling
        raw = [{"type": "function", "function": f} for f in body["functions"]]
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise HTTPError(400, "tools: a list is required")
    entries = []
    for i, tool in enumerate(raw):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            kind = tool.get("type") if isinstance(tool, dict) else tool
            notes.append(f"tools[{i}]: a {kind} tool is not offered to the model")
            continue
        entries.append((fn["name"], str(fn.get("description") or ""), fn.get("parameters")))
    return tool_specs(entries)


def _usage(turn: ModelTurn) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "prompt_tokens": turn.usage.input_tokens,
        "completion_tokens": turn.usage.output_tokens,
        "total_tokens": turn.usage.input_tokens + turn.usage.output_tokens,
    }
    if turn.usage.cache_read_tokens:
        usage["prompt_tokens_details"] = {"cached_tokens": turn.usage.cache_read_tokens}
    return usage


def _finish(turn: ModelTurn) -> str:
    return "tool_calls" if turn.tool_calls else FINISH.get(turn.finish_reason, "stop")


def _calls(turn: ModelTurn) -> list[dict[str, Any]]:
    return [
        {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": json.dumps(call.arguments, ensure_ascii=False)},
        }
        for call in turn.tool_calls
    ]


def message(turn: ModelTurn, request: TurnRequest) -> dict[str, Any]:
    """The whole reply as a ``chat.completion``."""
    msg: dict[str, Any] = {"role": "assistant", "content": turn.text}
    calls = _calls(turn)
    if calls:
        msg["tool_calls"] = calls
    return {
        "id": "chatcmpl-" + secrets.token_hex(12),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.model,
        "choices": [{"index": 0, "message": msg, "finish_reason": _finish(turn), "logprobs": None}],
        "usage": _usage(turn),
    }


async def events(
    stream: TurnStream, first: str | None, request: TurnRequest, outcome: dict[str, Any]
) -> AsyncIterator[bytes]:
    """The reply as ``chat.completion.chunk`` events (``first`` already had from the stream)."""
    out: list[bytes] = []
    head = {
        "id": "chatcmpl-" + secrets.token_hex(12),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": request.model,
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return sse_event(
            {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}
        )

    out.append(chunk({"role": "assistant", "content": ""}))
    delta = first
    try:
        while delta is not None:
            if delta:
                out.append(chunk({"content": delta}))
            elif delta == "":  # the backend is quiet: keep the connection alive
                out.append(KEEPALIVE)
            if out:  # what is ready goes in one write, before waiting on the backend
                yield b"".join(out)
                out.clear()
            delta = await stream.next()
    except ModelError as exc:
        failure = backend_failure(exc)
        outcome.update(status=failure.status, error=failure.message)
        out.append(sse_event(openai_error(failure.status, failure.message)))
        yield b"".join(out)
        return
    turn = stream.turn
    assert turn is not None
    if turn.text and not stream.streamed_text:
        out.append(chunk({"content": turn.text}))
    for i, call in enumerate(_calls(turn)):
        out.append(chunk({"tool_calls": [{"index": i, **call}]}))
    finish = _finish(turn)
    outcome.update(finish=finish, usage=turn.usage.dict(), tool_calls=len(turn.tool_calls))
    out.append(chunk({}, finish))
    if request.options.get("include_usage"):
        out.append(sse_event({**head, "choices": [], "usage": _usage(turn)}))
    out.append(sse_event("[DONE]"))
    yield b"".join(out)

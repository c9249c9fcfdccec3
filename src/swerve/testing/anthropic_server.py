"""A scripted loopback server speaking the Anthropic Messages API, streaming and not (a test utility).

    with AnthropicScriptServer([{"text": "hi"}]) as srv:
        model = AnthropicMessagesModel("claude-x", srv.base_url, "key")   # no /v1 in base_url

As a process: ``python -m swerve.testing.anthropic_server --script FILE [--port 0]
[--requests-log FILE]`` prints ``READY http://127.0.0.1:PORT``.

Besides the keys every script server reads (see ``script_server``), response steps take
``stop_reason`` (Anthropic's own; otherwise mapped from ``finish_reason``), ``thinking``
(streamed as a thinking block first) and ``error_event`` (an error type such as
``overloaded_error``, sent as an ``error`` event after ``message_start``).
"""

from __future__ import annotations

import secrets
import sys
from typing import Any, ClassVar

from swerve.testing.script_server import (
    DEFAULT_CHUNK_SIZE,
    ScriptServer,
    arguments_text,
    pieces,
    run_cli,
    sse,
)

STOP_REASONS = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def anthropic_usage(step: dict[str, Any], request: dict[str, Any]) -> dict[str, int]:
    given = step.get("usage")
    if isinstance(given, dict):
        return {
            "input_tokens": given.get("input_tokens", given.get("prompt_tokens", 0)),
            "output_tokens": given.get("output_tokens", given.get("completion_tokens", 0)),
            "cache_read_input_tokens": given.get(
                "cache_read_tokens", given.get("cache_read_input_tokens", 0)
            ),
        }
    return {
        "input_tokens": len(str(request.get("messages", ""))) // 4 + 1,
        "output_tokens": len(step.get("text") or "") // 4 + 1,
        "cache_read_input_tokens": 0,
    }


def _stop_reason(step: dict[str, Any]) -> str:
    if step.get("stop_reason"):
        return str(step["stop_reason"])
    finish = step.get("finish_reason") or ("tool_calls" if step.get("tool_calls") else "stop")
    return STOP_REASONS.get(finish, finish)


def _tool_uses(step: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": c.get("id") or "toolu_" + secrets.token_hex(12),
            "name": c.get("name", ""),
            "arguments": arguments_text(c.get("arguments")),
        }
        for c in step.get("tool_calls") or []
    ]


class AnthropicScriptServer(ScriptServer):
    """Plays a script over ``POST /v1/messages``."""

    completion_paths: ClassVar[tuple[str, ...]] = ("/v1/messages",)
    models_paths: ClassVar[tuple[str, ...]] = ("/v1/models",)
    url_suffix: ClassVar[str] = ""

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        kind = _ERROR_TYPES.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}

    def stream_events(self, step: dict[str, Any], request: dict[str, Any]) -> list[bytes]:
        size = step.get("chunk_size", DEFAULT_CHUNK_SIZE)
        usage = anthropic_usage(step, request)
        message = {
            "id": "msg_" + secrets.token_hex(12),
            "type": "message",
            "role": "assistant",
            "model": request.get("model", "scripted"),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": usage["input_tokens"],
                "output_tokens": 1,
                "cache_read_input_tokens": usage["cache_read_input_tokens"],
            },
        }
        events = [sse({"type": "message_start", "message": message}, "message_start")]
        if step.get("error_event"):
            error = {
                "type": "error",
                "error": {"type": step["error_event"], "message": "scripted stream error"},
            }
            events.append(sse(error, "error"))
            return events
        events.append(sse({"type": "ping"}, "ping"))
        index = 0

        def block(start: dict[str, Any], deltas: list[dict[str, Any]]) -> None:
            nonlocal index
            events.append(
                sse(
                    {"type": "content_block_start", "index": index, "content_block": start},
                    "content_block_start",
                )
            )
            for delta in deltas:
                events.append(
                    sse(
                        {"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta"
                    )
                )
            events.append(sse({"type": "content_block_stop", "index": index}, "content_block_stop"))
            index += 1

        if step.get("thinking"):
            block(
                {"type": "thinking", "thinking": ""},
                [{"type": "thinking_delta", "thinking": p} for p in pieces(step["thinking"], size)],
            )
        if step.get("text"):
            block(
                {"type": "text", "text": ""},
                [{"type": "text_delta", "text": p} for p in pieces(step["text"], size)],
            )
        for use in _tool_uses(step):
            block(
                {"type": "tool_use", "id": use["id"], "name": use["name"], "input": {}},
                [{"type": "input_json_delta", "partial_json": p} for p in pieces(use["arguments"], size)],
            )
        events.append(
            sse(
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": _stop_reason(step), "stop_sequence": None},
                    "usage": {"output_tokens": usage["output_tokens"]},
                },
                "message_delta",
            )
        )
        events.append(sse({"type": "message_stop"}, "message_stop"))
        return events

    def json_response(self, step: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
        import json

        content: list[dict[str, Any]] = []
        if step.get("text"):
            content.append({"type": "text", "text": step["text"]})
        for use in _tool_uses(step):
            try:
                arguments = json.loads(use["arguments"])
            except ValueError:
                arguments = {}
            content.append({"type": "tool_use", "id": use["id"], "name": use["name"], "input": arguments})
        return {
            "id": "msg_" + secrets.token_hex(12),
            "type": "message",
            "role": "assistant",
            "model": request.get("model", "scripted"),
            "content": content,
            "stop_reason": _stop_reason(step),
            "stop_sequence": None,
            "usage": anthropic_usage(step, request),
        }


def main(argv: list[str] | None = None) -> int:
    return run_cli(AnthropicScriptServer, argv)


if __name__ == "__main__":
    sys.exit(main())

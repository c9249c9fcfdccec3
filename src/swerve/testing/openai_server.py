"""A scripted loopback server speaking OpenAI chat completions, streaming and not (a test utility).

    with OpenAIScriptServer([{"text": "hi"}, {"status": 429, "retry_after": 1}]) as srv:
        model = OpenAIChatModel("m", srv.base_url)   # base_url ends in /v1
        ...
        srv.requests[0].json["messages"]

As a process: ``python -m swerve.testing.openai_server --script FILE [--port 0]
[--requests-log FILE]`` prints ``READY http://127.0.0.1:PORT/v1``.

Besides the keys every script server reads (see ``script_server``), response steps take:
``reasoning`` (streamed as ``reasoning_content`` first), ``omit_ids_after_first`` (default true:
a call's id only on its first fragment; false repeats it), ``omit_ids`` (no ids at all),
``split_names`` (names cut into ``chunk_size`` pieces too), ``same_index`` (every call on index
0, as some servers do), ``usage_every_chunk`` (usage on every chunk, as some servers do).
"""

from __future__ import annotations

import secrets
import sys
import time
from typing import Any, ClassVar

from swerve.testing.script_server import (
    DEFAULT_CHUNK_SIZE,
    ScriptServer,
    arguments_text,
    pieces,
    run_cli,
    sse,
)

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    429: "rate_limit_exceeded",
}


def openai_usage(step: dict[str, Any], request: dict[str, Any]) -> dict[str, int]:
    """The step's usage in OpenAI names (our names accepted too), or a size-based estimate."""
    given = step.get("usage")
    if isinstance(given, dict):
        prompt = given.get("prompt_tokens", given.get("input_tokens", 0))
        completion = given.get("completion_tokens", given.get("output_tokens", 0))
        usage: dict[str, Any] = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        cached = given.get("cache_read_tokens", given.get("cached_tokens"))
        if cached:
            usage["prompt_tokens_details"] = {"cached_tokens": cached}
        return usage
    prompt = len(str(request.get("messages", ""))) // 4 + 1
    completion = len(step.get("text") or "") // 4 + 1
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _calls(step: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for i, call in enumerate(step.get("tool_calls") or []):
        out.append(
            {
                "index": 0 if step.get("same_index") else i,
                "id": call.get("id") or "call_" + secrets.token_hex(12),
                "name": call.get("name", ""),
                "arguments": arguments_text(call.get("arguments")),
            }
        )
    return out


class OpenAIScriptServer(ScriptServer):
    """Plays a script over ``POST /v1/chat/completions``."""

    completion_paths: ClassVar[tuple[str, ...]] = ("/v1/chat/completions", "/chat/completions")
    models_paths: ClassVar[tuple[str, ...]] = ("/v1/models", "/models")
    url_suffix: ClassVar[str] = "/v1"

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {
            "error": {"message": message, "type": _ERROR_TYPES.get(status, "server_error"), "code": status}
        }

    def stream_events(self, step: dict[str, Any], request: dict[str, Any]) -> list[bytes]:
        size = step.get("chunk_size", DEFAULT_CHUNK_SIZE)
        head = {
            "id": "chatcmpl-" + secrets.token_hex(8),
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": request.get("model", "scripted"),
        }
        usage = openai_usage(step, request)
        every = bool(step.get("usage_every_chunk"))

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            body: dict[str, Any] = {
                **head,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            if every:
                body["usage"] = usage
            return sse(body)

        events = [chunk({"role": "assistant", "content": ""})]
        events += [chunk({"reasoning_content": p}) for p in pieces(step.get("reasoning") or "", size)]
        events += [chunk({"content": p}) for p in pieces(step.get("text") or "", size)]
        for call in _calls(step):
            events += [chunk({"tool_calls": [f]}) for f in self._fragments(step, call, size)]
        finish = step.get("finish_reason") or ("tool_calls" if step.get("tool_calls") else "stop")
        events.append(chunk({}, finish))
        include_usage = (request.get("stream_options") or {}).get("include_usage")
        if include_usage and not every:
            events.append(sse({**head, "choices": [], "usage": usage}))
        events.append(sse("[DONE]"))
        return events

    @staticmethod
    def _fragments(step: dict[str, Any], call: dict[str, Any], size: int | None) -> list[dict[str, Any]]:
        names = pieces(call["name"], size) if step.get("split_names") else [call["name"]]
        frags: list[dict[str, Any]] = [
            {
                "index": call["index"],
                "type": "function",
                "function": {"name": names[0] if names else "", "arguments": ""},
            }
        ]
        frags += [{"index": call["index"], "function": {"name": n}} for n in names[1:]]
        frags += [
            {"index": call["index"], "function": {"arguments": p}} for p in pieces(call["arguments"], size)
        ]
        if not step.get("omit_ids"):
            repeat = step.get("omit_ids_after_first") is False
            for i, frag in enumerate(frags):
                if i == 0 or repeat:
                    frag["id"] = call["id"]
        return frags

    def json_response(self, step: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": step.get("text") or ""}
        calls = _calls(step)
        if calls:
            message["tool_calls"] = [
                {
                    "id": c["id"],
                    "type": "function",
                    "function": {"name": c["name"], "arguments": c["arguments"]},
                }
                for c in calls
            ]
        finish = step.get("finish_reason") or ("tool_calls" if calls else "stop")
        return {
            "id": "chatcmpl-" + secrets.token_hex(8),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model", "scripted"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": openai_usage(step, request),
        }


def main(argv: list[str] | None = None) -> int:
    return run_cli(OpenAIScriptServer, argv)


if __name__ == "__main__":
    sys.exit(main())

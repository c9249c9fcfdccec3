"""Anthropic Messages API (``POST {base_url}/v1/messages``), streamed, with plain httpx.

Serves Anthropic itself and Anthropic-compatible endpoints (DashScope's ``/apps/anthropic``,
claude-code-router, LiteLLM). Our OpenAI-shaped history is converted on the way out: system
messages become ``system``, assistant calls become ``tool_use`` blocks, runs of tool messages
become one user message of ``tool_result`` blocks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from swerve import __version__
from swerve.errors import ModelError
from swerve.models.base import Message, ModelTurn, Sampling, ToolSpec, Usage, new_call_id
from swerve.models.http import (
    HTTPModelBase,
    body_lines,
    drain,
    iter_sse,
    open_stream,
    parse_json_data,
    read_json_body,
)
from swerve.models.retry import Retry, RetryableError, RetryPolicy
from swerve.models.turns import AttemptText, Display, as_dict, as_text, decode_call, finish_reason
from swerve.models.urls import public_url
from swerve.secrets import redact

ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_TIMEOUT_S = 600.0
ERROR_PREFIXES = ("Error:", "Error ", "error:")
RETRYABLE_ERROR_TYPES = frozenset({"overloaded_error", "api_error", "rate_limit_error", "timeout_error"})
_ID_BAD_CHARS = re.compile(r"[^a-zA-Z0-9_-]")


def default_max_tokens(model: str) -> int:
    """``max_tokens`` is required by the API; pick a value every model of the family accepts."""
    name = model.lower()
    if "claude-3-5" in name or "claude-3.5" in name:
        return 8192
    if "claude-3-" in name and "claude-3-7" not in name:
        return 4096
    if "qwen" in name and "coder" in name:
        return 65536
    return 16384


def tool_use_id(raw: Any) -> str:
    """A call id in the form the API accepts (letters, digits, ``_`` and ``-``)."""
    cleaned = _ID_BAD_CHARS.sub("_", str(raw or ""))
    return cleaned or "toolu_missing"


def convert_messages(messages: list[Message]) -> tuple[str, list[dict[str, Any]]]:
    """(system text, Anthropic messages) for our history.

    Every ``tool_use`` gets a ``tool_result`` right after it (a placeholder when the history has
    none); results whose call is not in the previous assistant turn become plain text, so a
    compacted or hand-edited history is still a valid request."""
    system: list[str] = []
    out: list[dict[str, Any]] = []
    pending: list[str] = []

    def add(role: str, blocks: list[dict[str, Any]]) -> None:
        if not blocks:
            return
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": list(blocks)})

    def flush_pending() -> None:
        blocks = [
            {
                "type": "tool_result",
                "tool_use_id": i,
                "content": "(no result: the call was not run)",
                "is_error": True,
            }
            for i in pending
        ]
        pending.clear()
        add("user", blocks)

    for msg in messages:
        role = msg.get("role")
        text = as_text(msg.get("content"))
        if role == "system" and not out:
            if text.strip():
                system.append(text)
        elif role == "assistant":
            flush_pending()
            blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text.strip() else []
            for call in msg.get("tool_calls") or []:
                if not isinstance(call, dict):
                    continue
                fn = call.get("function") or {}
                call_id = tool_use_id(call.get("id"))
                blocks.append(
                    {"type": "tool_use", "id": call_id, "name": fn.get("name", ""), "input": _input(fn)}
                )
                pending.append(call_id)
            add("assistant", blocks)
        elif role == "tool":
            call_id = tool_use_id(msg.get("tool_call_id"))
            content = text or "(no output)"
            if call_id in pending:
                pending.remove(call_id)
                block: dict[str, Any] = {"type": "tool_result", "tool_use_id": call_id, "content": content}
                if content.startswith(ERROR_PREFIXES):
                    block["is_error"] = True
                add("user", [block])
            else:
                add("user", [{"type": "text", "text": f"(result of tool call {call_id})\n{content}"}])
        else:  # user, or a system message in mid-conversation
            flush_pending()
            add("user", [{"type": "text", "text": text if text.strip() else "(empty message)"}])
    flush_pending()
    if out and out[0]["role"] != "user":
        out.insert(0, {"role": "user", "content": [{"type": "text", "text": "(conversation resumed)"}]})
    return "\n\n".join(system), out


def _input(fn: dict[str, Any]) -> dict[str, Any]:
    args = fn.get("arguments")
    if isinstance(args, dict):
        return args
    if isinstance(args, str) and args.strip():
        from swerve.models.arguments import decode_arguments

        try:
            return decode_arguments(args)
        except ValueError:
            return {}
    return {}


def usage_from(data: Any) -> Usage | None:
    if not isinstance(data, dict):
        return None
    cache_read = _int(data.get("cache_read_input_tokens"))
    return Usage(
        input_tokens=_int(data.get("input_tokens"))
        + _int(data.get("cache_creation_input_tokens"))
        + cache_read,
        output_tokens=_int(data.get("output_tokens")),
        cache_read_tokens=cache_read,
    )


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


@dataclass
class _ToolBlock:
    id: str
    name: str
    start_input: Any = None
    parts: list[str] = field(default_factory=list)


class AnthropicMessagesModel(HTTPModelBase):
    """A model behind an Anthropic Messages endpoint."""

    def __init__(
        self,
        name: str,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
        *,
        auth_token: str | None = None,
        context_window: int = 200000,
        sampling: Sampling | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_retries: int | None = None,
        extra_headers: dict[str, str] | None = None,
        retry_policy: RetryPolicy | None = None,
        on_retry: Callable[[Retry], None] | None = None,
    ) -> None:
        self.name = name
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        for suffix in ("/v1/messages", "/v1"):
            if self.base_url.endswith(suffix):
                self.base_url = self.base_url[: -len(suffix)]
                break
        self.url = self.base_url + "/v1/messages"
        self.endpoint = public_url(self.url)
        self.context_window = context_window
        self.sampling = sampling or Sampling()
        self.timeout = timeout
        self._init_http(retry_policy, max_retries, on_retry)
        self._secrets = [api_key, auth_token]
        self._headers = {
            "anthropic-version": ANTHROPIC_VERSION,
            "Accept": "text/event-stream",
            "User-Agent": f"swerve/{__version__}",
        }
        if api_key:
            self._headers["x-api-key"] = api_key
        if auth_token:
            self._headers["Authorization"] = f"Bearer {auth_token}"
        self._headers.update(extra_headers or {})

    def __repr__(self) -> str:
        return f"AnthropicMessagesModel({self.name!r}, {self.endpoint!r})"

    def payload(
        self, messages: list[Message], tools: list[ToolSpec], sampling: Sampling | None
    ) -> dict[str, Any]:
        system, wire = convert_messages(messages)
        effective = self.sampling.merged(**vars(sampling)) if sampling else self.sampling
        body: dict[str, Any] = {
            "model": self.name,
            "max_tokens": effective.max_tokens or default_max_tokens(self.name),
            "messages": wire,
            "stream": True,
        }
        if system:
            body["system"] = system
        if tools:
            body["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.parameters} for t in tools
            ]
        for key in ("temperature", "top_p", "top_k"):
            value = getattr(effective, key)
            if value is not None:
                body[key] = value
        return body

    async def _attempt(self, body: dict[str, Any], tools: list[ToolSpec], display: Display) -> ModelTurn:
        state = _MessageState(AttemptText(display, tools), self.endpoint, self._secrets)
        async with open_stream(self._http(), self.url, body, secrets=self._secrets) as response:
            if "text/event-stream" not in response.headers.get("content-type", ""):
                state.apply_message(await read_json_body(response))
                return state.turn(tools)
            lines = body_lines(response.aiter_text())
            async for event in iter_sse(lines):
                for data in parse_json_data(event.data):
                    state.apply_event(event.event, data)
                if state.text.over_budget(body.get("max_tokens")):  # a runaway stream: cut it here
                    state.stop_reason, state.done = "max_tokens", True
                    break
                if state.done:
                    await drain(lines)  # keeps the connection for the next turn
                    break
        if not state.done and state.stop_reason is None:
            raise RetryableError("the stream ended before the message was complete")
        return state.turn(tools)


class _MessageState:
    """What one attempt has received so far."""

    def __init__(self, text: AttemptText, endpoint: str, secrets: list[str | None]) -> None:
        self.text = text
        self.endpoint = endpoint
        self.secrets = secrets
        self.tools: dict[int, _ToolBlock] = {}
        self.order: list[_ToolBlock] = []
        self.usage = Usage()
        self.stop_reason: str | None = None
        self.done = False

    def apply_event(self, event_name: str, data: Any) -> None:
        if not isinstance(data, dict):
            return
        kind = data.get("type") or event_name
        if kind == "message_start":
            message = as_dict(data.get("message"))
            self._merge_usage(message.get("usage"))
        elif kind == "content_block_start":
            self._start_block(data.get("index"), data.get("content_block"))
        elif kind == "content_block_delta":
            self._delta(data.get("index"), data.get("delta"))
        elif kind == "message_delta":
            delta = as_dict(data.get("delta"))
            if delta.get("stop_reason"):
                self.stop_reason = str(delta["stop_reason"])
            self._merge_usage(data.get("usage"))
        elif kind == "message_stop":
            self.done = True
        elif kind == "error":
            self._error(data.get("error"))

    def apply_message(self, data: Any) -> None:
        """A whole non-streaming message (a server that ignored ``stream``)."""
        if not isinstance(data, dict):
            raise RetryableError("the server answered with JSON that is not a message")
        if data.get("type") == "error":
            self._error(data.get("error"))
        for i, block in enumerate(data.get("content") or []):
            self._start_block(i, block)
        self._merge_usage(data.get("usage"))
        self.stop_reason = str(data.get("stop_reason") or "end_turn")
        self.done = True

    def _start_block(self, index: Any, block: Any) -> None:
        if not isinstance(block, dict):
            return
        if block.get("type") == "text":
            self.text.feed(as_text(block.get("text")))
        elif block.get("type") == "tool_use":
            tool = _ToolBlock(
                str(block.get("id") or new_call_id()), str(block.get("name") or ""), block.get("input")
            )
            self.tools[index if isinstance(index, int) else len(self.order)] = tool
            self.order.append(tool)

    def _delta(self, index: Any, delta: Any) -> None:
        if not isinstance(delta, dict):
            return
        if delta.get("type") == "text_delta":
            self.text.feed(as_text(delta.get("text")))
        elif delta.get("type") == "input_json_delta":
            tool = self.tools.get(index) if isinstance(index, int) else None
            if tool is None:  # a delta for a block that never started: keep it, report it later
                tool = _ToolBlock(new_call_id(), "")
                self.tools[index if isinstance(index, int) else -1 - len(self.order)] = tool
                self.order.append(tool)
            if isinstance(delta.get("partial_json"), str):
                tool.parts.append(delta["partial_json"])

    def _merge_usage(self, data: Any) -> None:
        usage = usage_from(data)
        if usage is None:
            return
        self.usage.input_tokens = usage.input_tokens or self.usage.input_tokens
        self.usage.cache_read_tokens = usage.cache_read_tokens or self.usage.cache_read_tokens
        self.usage.output_tokens = max(self.usage.output_tokens, usage.output_tokens)

    def _error(self, error: Any) -> None:
        kind = str(error.get("type", "")) if isinstance(error, dict) else ""
        message = error.get("message") if isinstance(error, dict) else error
        text = redact(f"{kind}: {message}" if kind else str(message), self.secrets)
        if kind in RETRYABLE_ERROR_TYPES or not kind:
            raise RetryableError(f"the server reported an error mid-stream: {text}")
        raise ModelError(f"the server reported an error: {text}", endpoint=self.endpoint)

    def turn(self, tools: list[ToolSpec]) -> ModelTurn:
        content, xml_calls = self.text.finish()
        calls = []
        for block in self.order:
            raw = "".join(block.parts)
            arguments: Any = (
                raw if raw.strip() else (block.start_input if block.start_input is not None else {})
            )
            calls.append(decode_call(block.id, block.name, arguments, tools))
        calls = calls or xml_calls
        return ModelTurn(
            text=content,
            tool_calls=calls,
            usage=self.usage,
            finish_reason=finish_reason(self.stop_reason, bool(calls)),
            raw_text=self.text.raw_text,
        )

"""OpenAI-compatible chat completions (vLLM, SGLang, DashScope, OpenRouter, ModelScope, Ollama,
LM Studio, llama.cpp, OpenAI itself), streamed.

Tool calls are accumulated by index and survive what real servers do: ids only on the first
chunk or never, names and arguments split anywhere, several calls in one turn, two calls sent on
the same index. Calls a server left in the text as Qwen3-Coder XML are recovered.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from swerve import __version__
from swerve.errors import ModelError
from swerve.models.base import Message, ModelTurn, Sampling, TokenTrace, ToolCall, ToolSpec, Usage
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
from swerve.models.turns import (
    AttemptText,
    Display,
    arguments_json,
    as_dict,
    as_text,
    decode_call,
    finish_reason,
)
from swerve.models.urls import public_url
from swerve.secrets import redact

DEFAULT_TIMEOUT_S = 600.0


def wire_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """Our history in the OpenAI wire shape: call arguments as JSON text, only the fields the
    API knows per role."""
    out: list[dict[str, Any]] = []
    for msg in messages:
        role = msg.get("role")
        if role == "assistant":
            wire: dict[str, Any] = {"role": "assistant", "content": msg.get("content") or ""}
            calls = [_wire_call(c) for c in msg.get("tool_calls") or [] if isinstance(c, dict)]
            if calls:
                wire["tool_calls"] = calls
            out.append(wire)
        elif role == "tool":
            out.append(
                {
                    "role": "tool",
                    "tool_call_id": str(msg.get("tool_call_id", "")),
                    "content": as_text(msg.get("content")),
                }
            )
        else:
            out.append(
                {"role": role, "content": msg.get("content") if msg.get("content") is not None else ""}
            )
    return out


def _wire_call(call: dict[str, Any]) -> dict[str, Any]:
    fn = call.get("function") or {}
    return {
        "id": str(call.get("id", "")),
        "type": "function",
        "function": {"name": fn.get("name", ""), "arguments": arguments_json(fn.get("arguments"))},
    }


# the name each kind of server reads the repetition penalty under (llama.cpp ignores the other)
REPETITION_PENALTY_FIELD = {"llama.cpp": "repeat_penalty", "openai": None}


def sampling_fields(sampling: Sampling, server_kind: str | None = None) -> dict[str, Any]:
    """Request fields for the settings that are set, named as ``server_kind`` reads them: top_k
    and the repetition penalty go top-level (vLLM, SGLang, OpenRouter and DashScope read
    ``repetition_penalty`` there, llama.cpp ``repeat_penalty``); OpenAI's own API takes neither."""
    penalty = REPETITION_PENALTY_FIELD.get(server_kind or "", "repetition_penalty")
    fields = {
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "max_tokens": sampling.max_tokens,
        "top_k": sampling.top_k if server_kind != "openai" else None,
        "seed": sampling.seed,
    }
    if penalty is not None:
        fields[penalty] = sampling.repetition_penalty
    return {k: v for k, v in fields.items() if v is not None}


def usage_from(data: Any) -> Usage | None:
    if not isinstance(data, dict):
        return None
    details = data.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    return Usage(
        input_tokens=_int(data.get("prompt_tokens", data.get("input_tokens"))),
        output_tokens=_int(data.get("completion_tokens", data.get("output_tokens"))),
        cache_read_tokens=_int(cached),
    )


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


@dataclass
class _Slot:
    wire_index: int
    id: str | None = None
    name: str = ""
    parts: list[str] = field(default_factory=list)

    def arguments_complete(self) -> bool:
        text = "".join(self.parts).strip()
        if not text:
            return False
        try:
            return isinstance(json.loads(text), dict)
        except (ValueError, RecursionError):
            return False


class ToolCallAccumulator:
    """Builds tool calls from streamed ``delta.tool_calls`` fragments."""

    def __init__(self) -> None:
        self.slots: list[_Slot] = []
        self._by_index: dict[int, _Slot] = {}
        self._by_id: dict[str, _Slot] = {}
        self._last_index = 0

    def feed(self, fragment: Any) -> None:
        if not isinstance(fragment, dict):
            return
        index = fragment.get("index")
        if not isinstance(index, int) or isinstance(index, bool):
            index = self._last_index
        self._last_index = index
        call_id = fragment.get("id") if isinstance(fragment.get("id"), str) and fragment.get("id") else None
        fn = as_dict(fragment.get("function"))
        name = fn["name"] if isinstance(fn.get("name"), str) else ""
        args = fn.get("arguments")
        slot = self._slot_for(index, call_id, name)
        if call_id and slot.id is None:
            slot.id = call_id
            self._by_id[call_id] = slot
        if name and name != slot.name:  # some servers repeat the whole name on every chunk
            slot.name += name
        if isinstance(args, str):
            slot.parts.append(args)
        elif isinstance(args, dict):
            slot.parts.append(json.dumps(args, ensure_ascii=False))

    def _slot_for(self, index: int, call_id: str | None, name: str) -> _Slot:
        if call_id and call_id in self._by_id:
            return self._by_id[call_id]
        slot = self._by_index.get(index)
        collided = slot is not None and (
            (call_id is not None and slot.id is not None and slot.id != call_id)
            or (bool(name) and bool(slot.name) and slot.arguments_complete())
        )
        if slot is None or collided:
            slot = _Slot(index)
            self.slots.append(slot)
            self._by_index[index] = slot
        return slot

    def calls(self, tools: list[ToolSpec]) -> list[ToolCall]:
        out = []
        for slot in self.slots:
            if not slot.name and not "".join(slot.parts).strip():
                continue
            out.append(decode_call(slot.id, slot.name, "".join(slot.parts), tools))
        return out


class OpenAIChatModel(HTTPModelBase):
    """A model behind ``POST {base_url}/chat/completions``."""

    def __init__(
        self,
        name: str,
        base_url: str,
        api_key: str | None = None,
        context_window: int = 131072,
        sampling: Sampling | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_retries: int | None = None,
        extra_headers: dict[str, str] | None = None,
        retry_policy: RetryPolicy | None = None,
        on_retry: Callable[[Retry], None] | None = None,
        server_kind: str | None = None,
        capture_tokens: bool = False,
    ) -> None:
        self.name = name
        self.server_kind = server_kind  # llama.cpp, vllm, sglang, openai (see models.discovery)
        # ask for the token ids the server saw and sampled, with their log-probabilities (vLLM's
        # ``return_token_ids``; swerve's local server speaks it too), for RL trainers
        self.capture_tokens = capture_tokens
        self.base_url = base_url.rstrip("/")
        if self.base_url.endswith("/chat/completions"):
            self.base_url = self.base_url[: -len("/chat/completions")]
        self.url = self.base_url + "/chat/completions"
        self.endpoint = public_url(self.url)
        self.context_window = context_window
        self.sampling = sampling or Sampling()
        self.timeout = timeout
        self._init_http(retry_policy, max_retries, on_retry)
        self._api_key = api_key
        self._headers = {"Accept": "text/event-stream", "User-Agent": f"swerve/{__version__}"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._headers.update(extra_headers or {})

    def __repr__(self) -> str:
        return f"OpenAIChatModel({self.name!r}, {self.endpoint!r})"

    def payload(
        self, messages: list[Message], tools: list[ToolSpec], sampling: Sampling | None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.name,
            "messages": wire_messages(messages),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if tools:
            body["tools"] = [t.openai() for t in tools]
        effective = self.sampling.merged(**vars(sampling)) if sampling else self.sampling
        body.update(sampling_fields(effective, self.server_kind))
        if self.capture_tokens:
            body.update({"return_token_ids": True, "logprobs": True, "top_logprobs": 0})
        return body

    async def _attempt(self, body: dict[str, Any], tools: list[ToolSpec], display: Display) -> ModelTurn:
        state = _TurnState(AttemptText(display, tools))
        async with open_stream(self._http(), self.url, body, secrets=[self._api_key]) as response:
            if "text/event-stream" not in response.headers.get("content-type", ""):
                state.apply_completion(await read_json_body(response), self.endpoint)
                return state.turn(tools)
            lines = body_lines(response.aiter_text())
            async for event in iter_sse(lines):
                if event.data.strip() == "[DONE]":
                    state.done = True
                    await drain(lines)  # keeps the connection for the next turn
                    break
                for chunk in parse_json_data(event.data):
                    state.apply_chunk(chunk, self.endpoint, self._api_key)
                if state.text.over_budget(body.get("max_tokens")):  # a runaway stream: cut it here
                    state.finish, state.done = "length", True
                    break
        if not state.done and state.finish is None:
            raise RetryableError("the stream ended before the turn was complete")
        return state.turn(tools)


class _TurnState:
    """What one attempt has received so far."""

    def __init__(self, text: AttemptText) -> None:
        self.text = text
        self.calls = ToolCallAccumulator()
        self.usage: Usage | None = None
        self.finish: str | None = None
        self.done = False
        self.prompt_ids: list[int] | None = None
        self.output_ids: list[int] = []
        self.logprobs: list[float] = []

    def apply_tokens(self, holder: dict[str, Any], choice: dict[str, Any]) -> None:
        """Token ids and log-probabilities, where the server sends them (vLLM's shape)."""
        if isinstance(holder.get("prompt_token_ids"), list):
            self.prompt_ids = [int(t) for t in holder["prompt_token_ids"]]
        if isinstance(choice.get("token_ids"), list):
            self.output_ids += [int(t) for t in choice["token_ids"]]
        content = as_dict(choice.get("logprobs")).get("content")
        if isinstance(content, list):
            self.logprobs += [float(e.get("logprob", 0.0)) for e in content if isinstance(e, dict)]

    def tokens(self) -> TokenTrace | None:
        if self.prompt_ids is None:
            return None
        logprobs = self.logprobs if len(self.logprobs) == len(self.output_ids) else None
        return TokenTrace(self.prompt_ids, self.output_ids, logprobs, source="server")

    def apply_chunk(self, chunk: Any, endpoint: str, api_key: str | None) -> None:
        if not isinstance(chunk, dict):
            return
        if chunk.get("error"):
            _raise_stream_error(chunk["error"], endpoint, api_key)
        usage = usage_from(chunk.get("usage"))
        if usage is not None:
            self.usage = usage
        choices = chunk.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            return
        choice = choices[0]
        self.apply_tokens(chunk, choice)
        delta = as_dict(choice.get("delta"))
        content = delta.get("content")
        if content:
            self.text.feed(as_text(content))
        fragments = delta.get("tool_calls")
        if isinstance(fragments, list):
            for fragment in fragments:
                self.calls.feed(fragment)
        if choice.get("finish_reason"):
            self.finish = str(choice["finish_reason"])

    def apply_completion(self, data: Any, endpoint: str) -> None:
        """A whole non-streaming completion (a server that ignored ``stream``)."""
        if not isinstance(data, dict):
            raise RetryableError("the server answered with JSON that is not a completion")
        if data.get("error"):
            _raise_stream_error(data["error"], endpoint, None)
        self.usage = usage_from(data.get("usage"))
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise RetryableError("the server answered without choices")
        self.apply_tokens(data, choices[0])
        message = as_dict(choices[0].get("message"))
        self.text.feed(as_text(message.get("content")))
        for i, call in enumerate(message.get("tool_calls") or []):
            if isinstance(call, dict):
                self.calls.feed({**call, "index": call.get("index", i)})
        self.finish = str(choices[0].get("finish_reason") or "stop")
        self.done = True

    def turn(self, tools: list[ToolSpec]) -> ModelTurn:
        content, xml_calls = self.text.finish()
        calls = self.calls.calls(tools) or xml_calls
        return ModelTurn(
            text=content,
            tool_calls=calls,
            usage=self.usage or Usage(),
            finish_reason=finish_reason(self.finish, bool(calls)),
            raw_text=self.text.raw_text,
            tokens=self.tokens(),
        )


def _raise_stream_error(error: Any, endpoint: str, api_key: str | None) -> None:
    """An error object inside a 200 stream: retryable unless it carries a final 4xx code."""
    message = error.get("message") if isinstance(error, dict) else str(error)
    code = error.get("code") if isinstance(error, dict) else None
    message = redact(str(message or error), [api_key])
    status = code if isinstance(code, int) and not isinstance(code, bool) else None
    if status is not None and 400 <= status < 500 and status not in (408, 409, 425, 429):
        raise ModelError(f"the server reported an error: {message}", endpoint=endpoint, status=status)
    raise RetryableError(f"the server reported an error mid-stream: {message}", status=status)

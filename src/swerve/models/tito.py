"""Token-in-token-out over llama.cpp's ``POST /completion``, for RL rollouts with exact ids.

The first turn's prompt is the chat template rendered by the server (``/apply-template``) and
tokenized by it (``/tokenize``). Every later turn's prompt is the previous prompt ids, the ids the
server sampled, and the ids of the new messages only (tool results, nudges): the history is never
re-rendered, so what a trainer reads is exactly what the model saw and sampled. The new messages'
ids come from the template too: the text the template adds after the last assistant message
(rendered with and without them) is tokenized on its own. When the history was rewritten (the
context was compressed), or the template does not extend its own output, the prompt is rendered
afresh and the turn records ``fork`` so the sample builder starts a new row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from swerve import __version__
from swerve.errors import ModelError
from swerve.models.base import Message, ModelTurn, Sampling, TextCallback, TokenTrace, ToolSpec, Usage
from swerve.models.http import HTTPModelBase, open_stream, read_json_body
from swerve.models.openai_chat import DEFAULT_TIMEOUT_S, sampling_fields, wire_messages
from swerve.models.retry import Retry, RetryableError, RetryPolicy
from swerve.models.salvage import salvage_json_calls
from swerve.models.turns import Display, finish_reason
from swerve.models.urls import public_url

STOP_TYPES = {"eos": "stop", "word": "stop", "limit": "length"}


def server_root(base_url: str) -> str:
    """The server's root for llama.cpp's own routes: the base URL without a trailing ``/v1``."""
    root = base_url.rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


class TokenInTokenOutModel(HTTPModelBase):
    """A llama.cpp-compatible server driven by token ids; one instance per episode (it keeps the
    episode's ids). Each turn's ``tokens`` (source ``"tito"``) holds the exact prompt and output."""

    route = "/completion"  # where ``generate`` posts
    dialect = "llama.cpp"  # how the server names sampling fields (``sampling_fields``)

    def __init__(
        self,
        name: str,
        base_url: str,
        api_key: str | None = None,
        context_window: int = 131072,
        sampling: Sampling | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        retry_policy: RetryPolicy | None = None,
        on_retry: Callable[[Retry], None] | None = None,
    ) -> None:
        self.name = name
        self.base_url = server_root(base_url)
        self.endpoint = public_url(self.base_url + self.route)
        self.context_window = context_window
        self.sampling = sampling or Sampling()
        self.timeout = timeout
        self._init_http(retry_policy, None, on_retry)
        self._api_key = api_key
        self._headers = {"User-Agent": f"swerve/{__version__}"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self.ids: list[int] = []  # the episode's sequence so far: prompt, outputs, observations
        self.history: list[Any] = []  # the wire messages those ids stand for (assistant turns included)
        self.forks = 0  # fresh renders after the first turn
        self.logprobs_mode = ""
        self._eos_text: str | None = None
        self._eos_ids: list[int] = []
        self._sampled_eos = True  # whether the last turn ended in the end-of-turn token itself

    def __repr__(self) -> str:
        return f"TokenInTokenOutModel({self.name!r}, {self.endpoint!r})"

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        async def attempt(_n: int) -> Any:
            url = self.base_url + path
            async with open_stream(self._http(), url, body, secrets=[self._api_key]) as response:
                return await read_json_body(response)

        return await self._with_retries(attempt)

    async def _get(self, path: str) -> Any:
        try:
            response = await self._http().get(self.base_url + path)
            return response.json() if response.status_code == 200 else {}
        except (httpx.HTTPError, ValueError):  # facts only: a server without /props still works
            return {}

    async def render(self, messages: list[Any], tools: list[ToolSpec], *, generation: bool) -> str:
        """The template's text for ``messages``; a final assistant message is closed, not continued."""
        data = await self._post("/apply-template", template_body(messages, tools, generation))
        prompt = data.get("prompt") if isinstance(data, dict) else None
        if not isinstance(prompt, str):
            raise ModelError("the server's /apply-template gave no prompt", endpoint=self.endpoint)
        return prompt

    async def tokenize(self, text: str, *, add_special: bool = False) -> list[int]:
        data = await self._post(
            "/tokenize", {"content": text, "add_special": add_special, "parse_special": True}
        )
        ids = data.get("tokens") if isinstance(data, dict) else None
        if not isinstance(ids, list) or not all(isinstance(t, int) for t in ids):
            raise ModelError("the server's /tokenize gave no token ids", endpoint=self.endpoint)
        return ids

    async def _facts(self) -> None:
        if self._eos_text is not None:
            return
        props = await self._get("/props")
        props = props if isinstance(props, dict) else {}
        self._eos_text = str(props.get("eos_token") or "")
        self.logprobs_mode = str(props.get("logprobs_mode") or "llama.cpp")
        self._eos_ids = await self.tokenize(self._eos_text) if self._eos_text else []

    async def prompt_ids(self, wire: list[Any], tools: list[ToolSpec]) -> tuple[list[int], bool]:
        """(the ids of the next prompt, whether they were rendered afresh rather than extended)."""
        seen = len(self.history)
        if self.ids and wire[:seen] == self.history:
            before = await self.render(wire[:seen], tools, generation=False)
            after = await self.render(wire, tools, generation=True)
            glue = self._glue(before)
            if glue is not None and after.startswith(before):
                return self.ids + await self.tokenize(glue + after[len(before) :]), False
        return await self.fresh_ids(wire, tools), bool(self.ids)

    async def fresh_ids(self, wire: list[Any], tools: list[ToolSpec]) -> list[int]:
        """The ids of the template rendered afresh for ``wire``, ready for the model's reply."""
        return await self.tokenize(await self.render(wire, tools, generation=True), add_special=True)

    def _glue(self, rendered: str) -> str | None:
        """What the template writes after the end-of-turn token the model sampled last (``"\\n"``
        for ChatML), or from that token on when the turn was cut before it; None when unknown."""
        eos = self._eos_text or ""
        at = rendered.rfind(eos) if eos else -1
        if at < 0:
            return None
        return rendered[at + len(eos) :] if self._sampled_eos else rendered[at:]

    def sampling_for(self, ids: list[int], sampling: Sampling | None) -> tuple[dict[str, Any], int]:
        """(the sampling fields as this server names them, the reply's token limit: the turn's
        limit, within what the context leaves after ``ids``)."""
        effective = self.sampling.merged(**vars(sampling)) if sampling else self.sampling
        fields = sampling_fields(effective, self.dialect)
        budget = self.context_window - len(ids)
        limit = fields.pop("max_tokens", None)
        return fields, max(1, min(limit, budget) if limit else budget)

    def payload_for(self, ids: list[int], sampling: Sampling | None) -> dict[str, Any]:
        fields, n_predict = self.sampling_for(ids, sampling)
        return {
            "prompt": ids,
            "n_predict": n_predict,
            "n_probs": 1,
            "return_tokens": True,
            "stream": False,
            "cache_prompt": True,
            **fields,
        }

    async def complete(
        self,
        messages: list[Message],
        tools: list[ToolSpec],
        *,
        sampling: Sampling | None = None,
        on_text: TextCallback | None = None,
    ) -> ModelTurn:
        await self._facts()
        wire = wire_messages(messages)
        ids, fork = await self.prompt_ids(wire, tools)
        if len(ids) >= self.context_window:
            raise ModelError(
                f"the prompt is {len(ids)} tokens, which exceeds the available context of"
                f" {self.context_window} tokens",
                endpoint=self.endpoint,
            )
        body = self.payload_for(ids, sampling)
        data = await self.generate(body)
        turn = self._turn(data, ids, tools, fork)
        Display(on_text).show(turn.text)
        self.forks += int(fork)
        self.ids = ids + (turn.tokens.output_ids if turn.tokens else [])
        self.history = wire + wire_messages([turn.message()])
        output = turn.tokens.output_ids if turn.tokens else []
        self._sampled_eos = bool(self._eos_ids) and output[-len(self._eos_ids) :] == self._eos_ids
        turn.request = {
            "endpoint": self.route,
            "messages": wire,
            "tools": [t.openai() for t in tools],
            **{k: v for k, v in body.items() if k != "prompt"},
            "prompt_tokens": len(ids),
        }
        return turn

    async def generate(self, body: dict[str, Any]) -> dict[str, Any]:
        """llama.cpp's ``/completion`` answer for ``body`` (``content``, ``tokens``,
        ``completion_probabilities``, ``stop_type``); another engine can stand in by overriding this."""
        data = await self._post(self.route, body)
        if not isinstance(data, dict) or not isinstance(data.get("content"), str):
            raise RetryableError("the server answered /completion without content")
        return data

    def _turn(self, data: dict[str, Any], ids: list[int], tools: list[ToolSpec], fork: bool) -> ModelTurn:
        output = [int(t) for t in data.get("tokens") or []]
        probs = data.get("completion_probabilities")
        logprobs = None
        if isinstance(probs, list) and len(probs) == len(output):
            logprobs = [float(p.get("logprob", 0.0)) if isinstance(p, dict) else 0.0 for p in probs]
        raw = data["content"]
        text, calls = salvage_json_calls(raw, {t.name: t for t in tools})
        stop = STOP_TYPES.get(str(data.get("stop_type")), "stop")
        trace = TokenTrace(ids, output, logprobs, self.logprobs_mode, source="tito", fork=fork)
        usage = Usage(
            input_tokens=_count(data.get("tokens_evaluated"), len(ids)),
            output_tokens=_count(data.get("tokens_predicted"), len(output)),
            cache_read_tokens=_count((data.get("timings") or {}).get("cache_n"), 0),
        )
        return ModelTurn(
            text=text.strip() if calls else text,
            tool_calls=calls,
            usage=usage,
            finish_reason=finish_reason(stop, bool(calls)),
            raw_text=raw,
            tokens=trace,
        )


def template_body(messages: list[Any], tools: list[ToolSpec], generation: bool) -> dict[str, Any]:
    """A request to render ``messages`` with the served template (llama.cpp's and vLLM's fields)."""
    body: dict[str, Any] = {
        "messages": messages,
        "add_generation_prompt": generation,
        "continue_final_message": False,
    }
    if tools:
        body["tools"] = [t.openai() for t in tools]
    return body


def _count(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default

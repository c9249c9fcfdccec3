"""Token-in-token-out over vLLM: ``/tokenize`` (chat ``messages`` through the served model's
template, or a ``prompt``), ``/detokenize``, and ``/v1/completions`` with a token-id prompt,
``return_token_ids`` and ``logprobs``.

The prompt logic is :class:`~swerve.models.tito.TokenInTokenOutModel`'s: the first prompt is the
template rendered once, every later one the previous ids + the sampled ids + the new messages' ids.
vLLM returns the template's ids rather than its text, so a render is ``/tokenize`` of the messages
then ``/detokenize`` of those ids. vLLM has no ``/props``: the end-of-turn text is read off the
template, as what follows an assistant message's content up to the next line break.
"""

from __future__ import annotations

from typing import Any

from swerve.errors import ModelError
from swerve.models.base import Sampling, ToolSpec
from swerve.models.retry import RetryableError
from swerve.models.tito import TokenInTokenOutModel, template_body

FINISH_TO_STOP = {"length": "limit", "stop": "eos", "abort": "limit"}
SENTINEL = "swerve-end-of-turn-probe"


class VLLMTokenInTokenOutModel(TokenInTokenOutModel):
    """A vLLM server driven by token ids; one instance per episode."""

    route = "/v1/completions"
    dialect = "vllm"

    async def _ids(self, body: dict[str, Any]) -> list[int]:
        data = await self._post("/tokenize", {"model": self.name, **body})
        ids = data.get("tokens") if isinstance(data, dict) else None
        if not isinstance(ids, list) or not all(isinstance(t, int) for t in ids):
            raise ModelError("the server's /tokenize gave no token ids", endpoint=self.endpoint)
        return ids

    async def render(self, messages: list[Any], tools: list[ToolSpec], *, generation: bool) -> str:
        ids = await self._ids(template_body(messages, tools, generation))
        data = await self._post("/detokenize", {"model": self.name, "tokens": ids})
        text = data.get("prompt") if isinstance(data, dict) else None
        if not isinstance(text, str):
            raise ModelError("the server's /detokenize gave no prompt", endpoint=self.endpoint)
        return text

    async def fresh_ids(self, wire: list[Any], tools: list[ToolSpec]) -> list[int]:
        """The ids vLLM's own chat endpoint would prompt with: its template, tokenized by it."""
        return await self._ids(template_body(wire, tools, True))

    async def tokenize(self, text: str, *, add_special: bool = False) -> list[int]:
        return await self._ids({"prompt": text, "add_special_tokens": add_special})

    async def _facts(self) -> None:
        if self._eos_text is not None:
            return
        self.logprobs_mode = "vllm"
        probe = [{"role": "user", "content": "?"}, {"role": "assistant", "content": SENTINEL}]
        rendered = await self.render(probe, [], generation=False)
        after = rendered.rpartition(SENTINEL)[2] if SENTINEL in rendered else ""
        eos = after.split("\n", 1)[0].strip()
        ids = await self.tokenize(eos) if eos else []
        # one token, or none known: a turn that cannot be extended is rendered afresh (a fork)
        self._eos_text, self._eos_ids = (eos, ids) if len(ids) == 1 else ("", [])

    def payload_for(self, ids: list[int], sampling: Sampling | None) -> dict[str, Any]:
        fields, max_tokens = self.sampling_for(ids, sampling)
        return {
            "model": self.name,
            "prompt": ids,
            "max_tokens": max_tokens,
            "logprobs": 0,  # the sampled token's own log-probability only
            "return_token_ids": True,
            "skip_special_tokens": True,
            "stream": False,
            **fields,
        }

    async def generate(self, body: dict[str, Any]) -> dict[str, Any]:
        """vLLM's answer in llama.cpp's ``/completion`` shape, which the turn is built from."""
        data = await self._post(self.route, body)
        choices = data.get("choices") if isinstance(data, dict) else None
        choice = (
            choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else None
        )
        if choice is None or not isinstance(choice.get("text"), str):
            raise RetryableError(f"the server answered {self.route} without a choice's text")
        ids = choice.get("token_ids")
        if not isinstance(ids, list) or not all(isinstance(t, int) for t in ids):
            raise ModelError(
                f"the server's {self.route} gave no token_ids: it needs vLLM 0.10.2 or later"
                " (return_token_ids)",
                endpoint=self.endpoint,
            )
        logprobs = (choice.get("logprobs") or {}).get("token_logprobs")
        probs = None
        if isinstance(logprobs, list) and len(logprobs) == len(ids):
            probs = [{"logprob": float(x) if isinstance(x, int | float) else 0.0} for x in logprobs]
        usage = data.get("usage") or {}
        return {
            "content": choice["text"],
            "tokens": ids,
            "completion_probabilities": probs,
            "stop_type": FINISH_TO_STOP.get(str(choice.get("finish_reason")), "eos"),
            "tokens_evaluated": usage.get("prompt_tokens", len(body["prompt"])),
            "tokens_predicted": usage.get("completion_tokens", len(ids)),
        }

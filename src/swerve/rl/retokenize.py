"""Token ids for episodes whose endpoint returned none, and the drift that re-tokenizing causes.

A text-only endpoint leaves turns without ids. They are rebuilt with the served model's own
tokenizer and chat template, through a llama.cpp-compatible server for the same model
(``/apply-template`` and ``/tokenize``): each turn's prompt is its request's messages rendered
afresh, its output the raw reply tokenized, with the end-of-turn token when the reply ended by
itself. Re-rendering is what corrupts multi-turn samples, so it is never silent: ``drift`` is
the share of rebuilt episodes whose later prompts do not extend the earlier ones (they fork), and
for episodes that do carry the server's ids, the share whose re-rendered prompts differ from them.
"""

from __future__ import annotations

from typing import Any

import httpx

from swerve.agent.requests import decode
from swerve.rl.samples import SampleError, Trace, traces


class ServerTokenizer:
    """The tokenizer and chat template of the model a llama.cpp-compatible server serves."""

    def __init__(self, url: str, timeout: float = 120.0) -> None:
        root = url.rstrip("/")
        self.root = root[: -len("/v1")] if root.endswith("/v1") else root
        self.http = httpx.Client(base_url=self.root, timeout=timeout, trust_env=False)
        try:
            props = self._get("/props")
            models = self._get("/v1/models")
        except (httpx.HTTPError, ValueError) as exc:
            raise SampleError(f"no llama.cpp-compatible server answers at {self.root}: {exc}") from None
        self.eos_text = str(props.get("eos_token") or "")
        meta = ((models.get("data") or [{}])[0] or {}).get("meta") or {}
        self.n_vocab = int(meta.get("n_vocab") or 0)
        self.eos_ids = self.tokenize(self.eos_text) if self.eos_text else []

    def _get(self, path: str) -> dict[str, Any]:
        response = self.http.get(path)
        response.raise_for_status()
        data = response.json()
        return data if isinstance(data, dict) else {}

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(path, json=body)
        if response.status_code != 200:
            raise SampleError(
                f"{self.root}{path} answered HTTP {response.status_code}: {response.text[:300]}"
            )
        return response.json()

    def render(self, messages: list[Any], tools: list[Any] | None) -> str:
        body: dict[str, Any] = {"messages": messages, "add_generation_prompt": True}
        if tools:
            body["tools"] = tools
        return str(self._post("/apply-template", body)["prompt"])

    def tokenize(self, text: str, *, add_special: bool = False) -> list[int]:
        return list(self._post("/tokenize", {"content": text, "add_special": add_special})["tokens"])

    def close(self) -> None:
        self.http.close()


def check_vocabulary(tokenizer: ServerTokenizer, record: dict[str, Any]) -> None:
    """SampleError when the record holds ids this tokenizer's vocabulary cannot have."""
    found = traces(record) or []
    top = max((max(t.prompt_ids + t.output_ids, default=0) for t in found), default=0)
    if tokenizer.n_vocab and top >= tokenizer.n_vocab:
        raise SampleError(
            f"the tokenizer at {tokenizer.root} does not match the served model: episode"
            f" {record.get('id')} holds token id {top}, and its vocabulary has {tokenizer.n_vocab}"
        )


def rebuilt_traces(record: dict[str, Any], tokenizer: ServerTokenizer) -> list[Trace]:
    """Each turn re-rendered and re-tokenized (source ``tokenizer``)."""
    turns = [t for t in record.get("turns") or [] if isinstance(t, dict)]
    try:
        bodies = decode([t.get("request") for t in turns])
    except ValueError as exc:
        raise SampleError(f"episode {record.get('id')}: its requests cannot be rebuilt ({exc})") from None
    out = []
    for turn, body in zip(turns, bodies, strict=True):
        if body is None:
            raise SampleError(f"episode {record.get('id')}: turn {turn.get('turn')} kept no request")
        prompt = tokenizer.tokenize(tokenizer.render(body.get("messages") or [], body.get("tools")))
        output = tokenizer.tokenize(str(turn.get("raw") or ""))
        finish = str(turn.get("finish_reason") or "")
        if finish != "length":
            output += tokenizer.eos_ids
        out.append(Trace(prompt, output, None, "tokenizer", finish))
    return out


def server_drift(record: dict[str, Any], tokenizer: ServerTokenizer) -> bool | None:
    """Whether re-rendering the episode's prompts gives other ids than the server saw (None: no ids)."""
    captured = traces(record)
    if captured is None:
        return None
    check_vocabulary(tokenizer, record)
    return [t.prompt_ids for t in rebuilt_traces(record, tokenizer)] != [t.prompt_ids for t in captured]

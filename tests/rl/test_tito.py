"""Token-in-token-out over the real local server, in llama.cpp's dialect (``/completion``) and in
vLLM's (``/tokenize`` of chat messages, ``/detokenize``, ``/v1/completions`` with a token-id
prompt), which the local server also answers: each later prompt is the previous prompt ids, the
sampled ids and the new observation's ids, never a re-render of the history."""

from __future__ import annotations

import math

import httpx
import pytest

from swerve.models.base import Sampling, ToolSpec
from swerve.models.factory import create_model
from swerve.models.tito import TokenInTokenOutModel
from swerve.models.tito_vllm import VLLMTokenInTokenOutModel

READ = ToolSpec(
    "read_file",
    "Read a file and return its text",
    {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
)
SYSTEM = {"role": "system", "content": "You are a coding agent. Call tools to work."}
GREEDY = Sampling(temperature=0, max_tokens=40)
DIALECTS = pytest.mark.parametrize(
    "tito", [TokenInTokenOutModel, VLLMTokenInTokenOutModel], ids=["llama.cpp", "vllm"]
)


def observation(turn) -> dict:
    if turn.tool_calls:
        return {
            "role": "tool",
            "tool_call_id": turn.tool_calls[0].id,
            "name": "read_file",
            "content": "hello",
        }
    return {"role": "user", "content": "Go on."}


async def detokenize(url: str, ids: list[int]) -> str:
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        return (await http.post("/detokenize", json={"tokens": ids})).json()["content"]


@DIALECTS
async def test_later_prompts_extend_the_ids_the_model_saw(server, tito):
    model = tito("rl", server.base_url, context_window=4096)
    messages = [SYSTEM, {"role": "user", "content": "Read the file notes.txt."}]
    try:
        first = await model.complete(messages, [READ], sampling=GREEDY)
        messages += [first.message(), observation(first)]
        second = await model.complete(messages, [READ], sampling=Sampling(temperature=0, max_tokens=8))
    finally:
        await model.aclose()
    a, b = first.tokens, second.tokens
    assert a is not None and b is not None and a.source == b.source == "tito"
    assert not b.fork and model.forks == 0
    assert b.prompt_ids[: len(a.prompt_ids) + len(a.output_ids)] == a.prompt_ids + a.output_ids
    tail = await detokenize(server.url, b.prompt_ids[len(a.prompt_ids) + len(a.output_ids) :])
    assert tail.endswith("<|im_start|>assistant\n") and ("hello" in tail or "Go on." in tail), tail
    assert a.output_logprobs is not None and len(a.output_logprobs) == len(a.output_ids)
    assert all(math.isfinite(x) and x <= 0 for x in a.output_logprobs)
    assert second.request is not None and second.request["prompt_tokens"] == len(b.prompt_ids)
    assert "prompt" not in second.request  # the ids are kept once, in the trace
    assert second.request["endpoint"] == tito.route and model._eos_text == "<|im_end|>"


@DIALECTS
async def test_first_prompt_is_what_the_chat_endpoint_would_send(server, tito):
    model = tito("rl", server.base_url, context_window=4096)
    messages = [SYSTEM, {"role": "user", "content": "Say hi."}]
    chat = create_model(
        "rl", base_url=server.base_url, api_key="none", context_window=4096, capture_tokens=True
    )
    try:
        tito = await model.complete(messages, [READ], sampling=Sampling(temperature=0, max_tokens=4))
        served = await chat.complete(messages, [READ], sampling=Sampling(temperature=0, max_tokens=4))
    finally:
        await model.aclose()
        await chat.aclose()
    assert tito.tokens is not None and served.tokens is not None
    assert tito.tokens.prompt_ids == served.tokens.prompt_ids
    assert tito.tokens.output_ids and served.tokens.output_ids  # (greedy ids may still differ: cache bits)


async def test_a_rewritten_history_forks(server):
    model = TokenInTokenOutModel("rl", server.base_url, context_window=4096)
    messages = [SYSTEM, {"role": "user", "content": "Read the file notes.txt."}]
    try:
        first = await model.complete(messages, [READ], sampling=Sampling(temperature=0, max_tokens=4))
        rewritten = [SYSTEM, {"role": "user", "content": "Summary: notes.txt was read."}]
        second = await model.complete(rewritten, [READ], sampling=Sampling(temperature=0, max_tokens=4))
    finally:
        await model.aclose()
    assert first.tokens is not None and second.tokens is not None
    assert second.tokens.fork and model.forks == 1


def test_capture_on_a_llama_cpp_server_means_token_in_token_out():
    made = create_model(
        "m", base_url="http://127.0.0.1:9/v1", api_key="none", server_kind="llama.cpp", capture_tokens=True
    )
    assert isinstance(made, TokenInTokenOutModel)
    plain = create_model("m", base_url="http://127.0.0.1:9/v1", api_key="none", server_kind="llama.cpp")
    assert not isinstance(plain, TokenInTokenOutModel)

"""Token-in-token-out in vLLM's dialect (``/tokenize`` of chat messages, ``/detokenize``,
``/v1/completions`` with a token-id prompt and ``return_token_ids``), against the real local
server, which answers those routes as vLLM does."""

from __future__ import annotations

import asyncio
import json
import math

import httpx
import pytest
from test_tito import GREEDY, READ, SYSTEM, detokenize, observation

from swerve.errors import ModelError
from swerve.models.base import Sampling
from swerve.models.factory import create_model
from swerve.models.tito_vllm import VLLMTokenInTokenOutModel


async def test_vllm_prompts_extend_the_ids_the_model_saw(server):
    model = VLLMTokenInTokenOutModel("rl", server.base_url, context_window=4096)
    messages = [SYSTEM, {"role": "user", "content": "Read the file notes.txt."}]
    try:
        first = await model.complete(messages, [READ], sampling=GREEDY)
        messages += [first.message(), observation(first)]
        second = await model.complete(messages, [READ], sampling=Sampling(temperature=0, max_tokens=8))
    finally:
        await model.aclose()
    assert model._eos_text == "<|im_end|>"  # read off the template: vLLM has no /props
    a, b = first.tokens, second.tokens
    assert a is not None and b is not None and a.source == b.source == "tito"
    assert not b.fork and model.forks == 0
    assert b.prompt_ids[: len(a.prompt_ids) + len(a.output_ids)] == a.prompt_ids + a.output_ids
    tail = await detokenize(server.url, b.prompt_ids[len(a.prompt_ids) + len(a.output_ids) :])
    assert tail.endswith("<|im_start|>assistant\n") and ("hello" in tail or "Go on." in tail), tail
    assert a.output_logprobs is not None and len(a.output_logprobs) == len(a.output_ids)
    assert all(math.isfinite(x) and x <= 0 for x in a.output_logprobs)
    assert second.request is not None and second.request["endpoint"] == "/v1/completions"
    assert second.request["prompt_tokens"] == len(b.prompt_ids) and "prompt" not in second.request


async def test_the_first_vllm_prompt_is_what_the_chat_endpoint_would_send(server):
    model = VLLMTokenInTokenOutModel("rl", server.base_url, context_window=4096)
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
    assert tito.tokens.output_ids and tito.tokens.output_logprobs


def test_capture_on_a_vllm_server_means_token_in_token_out():
    made = create_model(
        "m", base_url="http://127.0.0.1:9/v1", api_key="none", server_kind="vllm", capture_tokens=True
    )
    assert isinstance(made, VLLMTokenInTokenOutModel)
    assert made.endpoint == "http://127.0.0.1:9/v1/completions"
    xml = create_model(
        "m", base_url="http://127.0.0.1:9/v1", api_key="none", server_kind="vllm", capture_tokens=True,
        tool_protocol="qwen-xml",
    )  # fmt: skip
    assert not isinstance(xml, VLLMTokenInTokenOutModel)  # text in, ids out: drift is measured


async def test_a_vllm_without_return_token_ids_is_a_clear_error(server):
    # an older vLLM: /tokenize and /detokenize as now, /v1/completions without ``token_ids``
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(
            next(h.split(b":")[1] for h in head.split(b"\r\n") if h.lower().startswith(b"content-length"))
        )
        body = json.loads(await reader.readexactly(length))
        path = head.split(b" ")[1].decode()
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as real:
            reply = (await real.post(path, json=body)).json()
        for choice in reply.get("choices", []):
            choice.pop("token_ids", None)
            choice.pop("prompt_token_ids", None)
        data = json.dumps(reply).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % len(data)
        )
        writer.write(data)
        await writer.drain()
        writer.close()

    old = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = old.sockets[0].getsockname()[1]
    model = VLLMTokenInTokenOutModel("rl", f"http://127.0.0.1:{port}/v1", context_window=4096)
    try:
        with pytest.raises(ModelError, match="no token_ids: it needs vLLM"):
            await model.complete([SYSTEM, {"role": "user", "content": "Hi."}], [READ], sampling=GREEDY)
    finally:
        await model.aclose()
        old.close()

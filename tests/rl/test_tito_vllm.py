"""Token-in-token-out against vLLM: chosen for a vLLM server, and a clear error from a vLLM too old
to send ``token_ids`` (test_tito.py runs the dialect itself against the real local server)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from test_tito import GREEDY, READ, SYSTEM

from swerve.errors import ModelError
from swerve.models.factory import create_model
from swerve.models.tito_vllm import VLLMTokenInTokenOutModel


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

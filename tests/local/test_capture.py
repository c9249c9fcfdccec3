"""Token capture through the model layer: OpenAIChatModel(capture_tokens=True) against the real
local server records the prompt ids the server evaluated and the ids and log-probabilities it sampled."""

from __future__ import annotations

import math

import httpx
import pytest

from swerve.local.process import LocalServer
from swerve.models.base import Sampling, ToolSpec
from swerve.models.openai_chat import OpenAIChatModel

READ = ToolSpec(
    "read_file",
    "Read a file and return its text",
    {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
)
MESSAGES = [{"role": "user", "content": "Read the file notes.txt."}]


@pytest.fixture(scope="module")
def server(model_path, tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SWERVE_CACHE", str(tmp_path_factory.mktemp("cache")))
        srv = LocalServer(model_path, alias="capture", ctx=4096, parallel=1, note=lambda text: None).start()
        try:
            yield srv
        finally:
            srv.stop()


async def test_turn_records_the_servers_tokens(server):
    model = OpenAIChatModel(
        "capture", f"{server.url}/v1", api_key=None, context_window=4096, capture_tokens=True
    )
    try:
        turn = await model.complete(MESSAGES, [READ], sampling=Sampling(temperature=0, max_tokens=24))
    finally:
        await model.aclose()
    assert turn.request and turn.request["return_token_ids"] is True
    trace = turn.tokens
    assert trace is not None and trace.source == "server"
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        body = dict(turn.request, stream=False)
        prompt = (await http.post("/apply-template", json=body)).json()["prompt"]
        ids = (await http.post("/tokenize", json={"content": prompt, "parse_special": True})).json()["tokens"]
        text = (await http.post("/detokenize", json={"tokens": trace.output_ids})).json()["content"]
    assert trace.prompt_ids == ids  # exactly what the server evaluated
    assert trace.output_ids and trace.output_logprobs is not None
    assert len(trace.output_logprobs) == len(trace.output_ids)
    assert all(lp <= 0 and math.isfinite(lp) for lp in trace.output_logprobs)
    assert text.startswith(turn.raw_text[:10])  # the sampled ids are the completion's own text


async def test_no_capture_asks_for_nothing(server):
    model = OpenAIChatModel("capture", f"{server.url}/v1", api_key=None, context_window=4096)
    try:
        turn = await model.complete(MESSAGES, [READ], sampling=Sampling(temperature=0, max_tokens=4))
    finally:
        await model.aclose()
    assert turn.request is not None and "return_token_ids" not in turn.request
    assert turn.tokens is None

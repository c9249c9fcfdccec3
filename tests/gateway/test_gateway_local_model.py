"""The gateway in front of the embedded local model (``--backend local``): one short request per
face through the real SDKs, streamed and not. Small on purpose: a CPU model is slow."""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator

import openai
import pytest

from swerve.gateway.routing import Routes
from swerve.gateway.server import Gateway
from swerve.gateway.setup import build_routes
from swerve.paths import cache_root

anthropic = pytest.importorskip(
    "anthropic", reason="the anthropic SDK is in the dev extra: pip install anthropic"
)
MODEL_FILE = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
HI = [{"role": "user", "content": "Say hello in one word."}]
WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


@pytest.fixture
async def local_gateway(tmp_path) -> AsyncIterator[Gateway]:
    if importlib.util.find_spec("llama_cpp_py_sync") is None:
        pytest.skip("llama-cpp-py-sync is not installed (pip install 'swerve[local]')")
    if not (cache_root() / "models" / MODEL_FILE).is_file():
        pytest.skip("the local test model is absent; to get it: swerve model pull qwen2.5-coder-0.5b")
    routes: Routes = build_routes(str(tmp_path), {"model": "local"})
    async with Gateway(routes) as gateway:
        yield gateway


async def test_anthropic_not_streamed(local_gateway: Gateway) -> None:
    api = anthropic.AsyncAnthropic(base_url=local_gateway.url, api_key="k", max_retries=0)
    reply = await api.messages.create(model="claude-sonnet-4-5", max_tokens=8, messages=HI)
    assert reply.content and reply.content[0].type == "text" and reply.content[0].text.strip()
    assert reply.stop_reason in ("end_turn", "max_tokens") and reply.usage.output_tokens > 0


async def test_anthropic_streamed_with_a_tool(local_gateway: Gateway) -> None:
    api = anthropic.AsyncAnthropic(base_url=local_gateway.url, api_key="k", max_retries=0)
    ask = [{"role": "user", "content": "What is the weather in Paris? Use the tool."}]
    async with api.messages.stream(
        model="claude-sonnet-4-5", max_tokens=48, tools=[WEATHER], messages=ask
    ) as stream:
        final = await stream.get_final_message()
    assert final.stop_reason in ("end_turn", "max_tokens", "tool_use")
    assert final.content, "the model said nothing"
    for block in final.content:
        if block.type == "tool_use":
            assert block.name == "get_weather" and isinstance(block.input, dict)


async def test_chat_streamed(local_gateway: Gateway) -> None:
    api = openai.AsyncOpenAI(base_url=f"{local_gateway.url}/v1", api_key="k", max_retries=0)
    stream = await api.chat.completions.create(model="local", messages=HI, max_tokens=8, stream=True)
    text, finish = "", None
    async for chunk in stream:
        for choice in chunk.choices:
            text += choice.delta.content or ""
            finish = choice.finish_reason or finish
    assert text.strip() and finish in ("stop", "length")


async def test_responses_not_streamed(local_gateway: Gateway) -> None:
    api = openai.AsyncOpenAI(base_url=f"{local_gateway.url}/v1", api_key="k", max_retries=0)
    reply = await api.responses.create(model="local", input="Say hello in one word.", max_output_tokens=8)
    assert reply.output_text.strip() and reply.status in ("completed", "incomplete")


async def test_count_tokens_uses_the_servers_tokenizer(local_gateway: Gateway) -> None:
    import httpx

    backend = local_gateway.routes.backends["default"]
    assert backend.config.server_kind == "llama.cpp", backend.config.server_kind
    api = anthropic.AsyncAnthropic(base_url=local_gateway.url, api_key="k", max_retries=0)
    counted = await api.messages.count_tokens(model="m", system="Be brief.", messages=HI, tools=[WEATHER])
    root = backend.config.base_url.removesuffix("/v1")
    tools = [
        {
            "type": "function",
            "function": {
                "name": WEATHER["name"],
                "description": WEATHER["description"],
                "parameters": WEATHER["input_schema"],
            },
        }
    ]
    async with httpx.AsyncClient(trust_env=False) as http:
        messages = [{"role": "system", "content": "Be brief."}, *HI]
        prompt = (
            await http.post(f"{root}/apply-template", json={"messages": messages, "tools": tools})
        ).json()["prompt"]
        tokens = (await http.post(f"{root}/tokenize", json={"content": prompt, "add_special": True})).json()[
            "tokens"
        ]
    assert counted.input_tokens == len(tokens)

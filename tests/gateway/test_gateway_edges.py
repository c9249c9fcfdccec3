"""Bad input, failing backends, disconnects, auth, the request log and routing, each in the
shape the client's own SDK reads."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import httpx
import openai
import pytest

from swerve.gateway.routing import Routes
from swerve.gateway.server import Gateway
from swerve.httpd import HTTPServer, Request, Router, StreamResponse, sse_event
from swerve.testing.malformed import DEFAULT_TOOLS, generate_malformed_calls
from swerve.testing.openai_server import OpenAIScriptServer

anthropic = pytest.importorskip(
    "anthropic", reason="the anthropic SDK is in the dev extra: pip install anthropic"
)
HI = [{"role": "user", "content": "hi"}]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_invalid_json_is_a_400_in_each_shape(gateway) -> None:
    gw, _ = await gateway([])
    async with httpx.AsyncClient() as http:
        a = await http.post(f"{gw.url}/v1/messages", content=b"{not json")
        o = await http.post(f"{gw.url}/v1/chat/completions", content=b"[1, 2]")
        m = await http.post(f"{gw.url}/v1/messages", json={"model": "m", "messages": "hi"})
    assert a.status_code == 400 and a.json()["type"] == "error"
    assert a.json()["error"]["type"] == "invalid_request_error" and "JSON" in a.json()["error"]["message"]
    assert o.status_code == 400 and o.json()["error"]["type"] == "invalid_request_error"
    assert m.status_code == 400 and "messages" in m.json()["error"]["message"]


async def test_an_oversize_body_is_a_413(gateway) -> None:
    gw, backend = await gateway([], max_body=10_000)
    big = [{"role": "user", "content": "x" * 20_000}]
    with pytest.raises(anthropic.APIStatusError) as caught:
        await anthropic.AsyncAnthropic(base_url=gw.url, api_key="k", max_retries=0).messages.create(
            model="m", max_tokens=5, messages=big
        )
    assert caught.value.status_code == 413 and caught.value.body["error"]["type"] == "request_too_large"
    with pytest.raises(openai.APIStatusError) as again:
        await openai.AsyncOpenAI(base_url=f"{gw.url}/v1", api_key="k", max_retries=0).chat.completions.create(
            model="m", messages=big
        )
    assert again.value.status_code == 413
    assert backend.completions == []


async def test_auth_token_required_when_set(gateway) -> None:
    gw, _ = await gateway([{"text": "in"}, {"text": "in too"}], auth_token="s3cret-token-value")
    with pytest.raises(anthropic.AuthenticationError):
        await anthropic.AsyncAnthropic(base_url=gw.url, api_key="wrong", max_retries=0).messages.create(
            model="m", max_tokens=5, messages=HI
        )
    with pytest.raises(openai.AuthenticationError):
        await openai.AsyncOpenAI(
            base_url=f"{gw.url}/v1", api_key="wrong", max_retries=0
        ).chat.completions.create(model="m", messages=HI)
    ok = await anthropic.AsyncAnthropic(
        base_url=gw.url, auth_token="s3cret-token-value", max_retries=0
    ).messages.create(model="m", max_tokens=5, messages=HI)
    assert ok.content[0].text == "in"
    ok2 = await openai.AsyncOpenAI(
        base_url=f"{gw.url}/v1", api_key="s3cret-token-value", max_retries=0
    ).chat.completions.create(model="m", messages=HI)
    assert ok2.choices[0].message.content == "in too"


async def test_another_interface_needs_a_token() -> None:
    from swerve.errors import ConfigError

    with pytest.raises(ConfigError, match="auth token"):
        Gateway(Routes({}), host="0.0.0.0")


async def test_a_dead_backend_is_the_clients_own_overloaded_error(make_backend) -> None:
    backend = make_backend("default", f"http://127.0.0.1:{free_port()}/v1")
    async with Gateway(Routes({"default": backend}, default="default")) as gw:
        with pytest.raises(anthropic.APIStatusError) as caught:
            await anthropic.AsyncAnthropic(base_url=gw.url, api_key="k", max_retries=0).messages.create(
                model="m", max_tokens=5, messages=HI
            )
        assert caught.value.status_code == 529 and caught.value.body["error"]["type"] == "overloaded_error"
        with pytest.raises(openai.InternalServerError) as again:
            await openai.AsyncOpenAI(
                base_url=f"{gw.url}/v1", api_key="k", max_retries=0
            ).chat.completions.create(model="m", messages=HI, stream=True)
        assert again.value.status_code == 503


async def test_unknown_models_are_a_404_when_routes_are_strict(gateway) -> None:
    gw, _ = await gateway([{"text": "served"}], strict=True)
    with pytest.raises(anthropic.NotFoundError) as caught:
        await anthropic.AsyncAnthropic(base_url=gw.url, api_key="k", max_retries=0).messages.create(
            model="claude-nope", max_tokens=5, messages=HI
        )
    assert "backend-model" in str(caught.value)
    with pytest.raises(openai.NotFoundError):
        await openai.AsyncOpenAI(base_url=f"{gw.url}/v1", api_key="k", max_retries=0).responses.create(
            model="gpt-nope", input="hi"
        )
    ok = await openai.AsyncOpenAI(
        base_url=f"{gw.url}/v1", api_key="k", max_retries=0
    ).chat.completions.create(model="backend-model", messages=HI)
    assert ok.choices[0].message.content == "served"


async def test_a_client_that_goes_away_cancels_the_backend_request(make_backend) -> None:
    """The backend streams forever; the client reads a little and hangs up."""
    closed = asyncio.Event()
    router = Router()

    @router.route("POST", "/v1/chat/completions")
    async def endless(request: Request) -> StreamResponse:
        async def chunks():
            try:
                while True:
                    delta = {"choices": [{"index": 0, "delta": {"content": "tick "}, "finish_reason": None}]}
                    yield sse_event(delta)
                    await asyncio.sleep(0.02)
            finally:
                closed.set()

        return StreamResponse(chunks())

    async with HTTPServer(router) as upstream:
        backend = make_backend("default", f"{upstream.url}/v1")
        async with Gateway(Routes({"default": backend}, default="default")) as gw:
            async with httpx.AsyncClient() as http:
                body = {"model": "m", "max_tokens": 100000, "stream": True, "messages": HI}
                async with http.stream("POST", f"{gw.url}/v1/messages", json=body) as response:
                    async for line in response.aiter_lines():
                        if "tick" in line:
                            break
            await asyncio.wait_for(closed.wait(), 30)
            for _ in range(200):  # the gateway's connection winds down on its own
                if not gw.http._connections:
                    break
                await asyncio.sleep(0.01)
            assert not gw.http._connections


async def test_request_log_has_no_secrets(gateway, tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    gw, _ = await gateway(
        [{"text": "logged"}, {"text": "streamed"}],
        auth_token="gateway-token-123",
        log=str(log),
        apiKey="backend-key-456",
    )
    api = anthropic.AsyncAnthropic(base_url=gw.url, auth_token="gateway-token-123", max_retries=0)
    await api.messages.create(
        model="claude-x", max_tokens=5, messages=[{"role": "user", "content": "my key is backend-key-456"}]
    )
    async with api.messages.stream(model="claude-x", max_tokens=5, messages=HI) as stream:
        await stream.get_final_message()
    with pytest.raises(anthropic.AuthenticationError):
        await anthropic.AsyncAnthropic(
            base_url=gw.url, api_key="gateway-token-123x", max_retries=0
        ).messages.create(model="m", max_tokens=5, messages=HI)
    await gw.close()
    text = log.read_text()
    assert "gateway-token-123" not in text and "backend-key-456" not in text
    records = [json.loads(line) for line in text.splitlines()]
    assert [(r["path"], r["status"]) for r in records] == [
        ("/v1/messages", 200),
        ("/v1/messages", 200),
        ("/v1/messages", 401),
    ]
    assert (
        records[0]["backend"] == "default"
        and records[0]["model"] == "claude-x"
        and records[0]["usage"]["output_tokens"] >= 1
    )
    assert (
        records[1]["stream"] is True
        and "first_byte_ms" in records[1]
        and records[1]["stop_reason"] == "end_turn"
    )
    assert "authorization" not in records[0]["headers"]
    assert "[redacted]" in json.dumps(records[0]["request"])


async def test_routing_by_model_name_and_role(make_backend) -> None:
    with (
        OpenAIScriptServer([{"text": "big"}, {"text": "big again"}]) as big,
        OpenAIScriptServer([{"text": "small"}]) as small,
    ):
        routes = Routes(
            {
                "coder": make_backend("coder", big.base_url, model="qwen3-coder"),
                "quick": make_backend("quick", small.base_url, model="tiny"),
            },
            patterns=[("gpt-*", "coder")],
            default=None,
            background="quick",
        )
        async with Gateway(routes) as gw:
            api = anthropic.AsyncAnthropic(base_url=gw.url, api_key="k", max_retries=0)
            title = await api.messages.create(model="claude-3-5-haiku-20241022", max_tokens=5, messages=HI)
            named = await api.messages.create(model="qwen3-coder", max_tokens=5, messages=HI)
            pattern = await openai.AsyncOpenAI(
                base_url=f"{gw.url}/v1", api_key="k", max_retries=0
            ).chat.completions.create(model="gpt-5", messages=HI)
            with pytest.raises(anthropic.NotFoundError):
                await api.messages.create(model="claude-sonnet-4-5", max_tokens=5, messages=HI)
        assert title.content[0].text == "small" and named.content[0].text == "big"
        assert pattern.choices[0].message.content == "big again"
        assert [r.json["model"] for r in small.completions] == ["tiny"]


def test_routes_from_settings(tmp_path: Path) -> None:
    from swerve.errors import ConfigError
    from swerve.gateway.setup import build_routes

    with OpenAIScriptServer([]) as srv:
        settings = tmp_path / "settings.json"
        gateway = {
            "backends": {"coder": {"model": "qwen3-coder", "baseUrl": srv.base_url, "provider": "openai"}},
            "models": {"claude-*": "coder"},
        }
        settings.write_text(json.dumps({"gateway": gateway}))
        routes = build_routes(str(tmp_path), {}, str(settings))
        assert routes.default == "coder" and routes.pick("claude-opus-4").name == "coder"
        settings.write_text(json.dumps({"gateway": {**gateway, "default": "nope"}}))
        with pytest.raises(ConfigError, match="nope"):
            build_routes(str(tmp_path), {}, str(settings))
        settings.write_text(json.dumps({"gateway": {**gateway, "typo": 1}}))
        with pytest.raises(ConfigError, match="typo"):
            build_routes(str(tmp_path), {}, str(settings))


@pytest.mark.parametrize("native", [True, False], ids=["native-call", "xml-in-text"])
async def test_malformed_backend_output_always_ends_well_formed(gateway, native: bool) -> None:
    cases = [
        c for c in generate_malformed_calls(21, seed=16) if (c["openai"] if native else c["xml"]) is not None
    ]
    steps = []
    for case in cases:
        if native:
            steps.append(
                {
                    "tool_calls": [
                        {"name": case["openai"]["name"], "arguments": case["openai"]["arguments"]}
                    ],
                    "chunk_size": 5,
                }
            )
        else:
            steps.append({"text": case["xml"], "chunk_size": 5})
    gw, _ = await gateway(steps)
    tools = [
        {"name": t.name, "description": t.description, "input_schema": t.parameters} for t in DEFAULT_TOOLS
    ]
    api = anthropic.AsyncAnthropic(base_url=gw.url, api_key="k", max_retries=0)
    for case in cases:
        async with api.messages.stream(model="m", max_tokens=4096, tools=tools, messages=HI) as stream:
            final = await stream.get_final_message()
        assert final.stop_reason in ("end_turn", "tool_use", "max_tokens"), case["kind"]
        for block in final.content:
            assert block.type in ("text", "tool_use"), case["kind"]
            if block.type == "tool_use":
                assert isinstance(block.input, dict) and block.name and block.id, case["kind"]


async def test_rate_limits_are_waited_out_then_passed_on(gateway) -> None:
    limited = {"status": 429, "retry_after": 0, "message": "slow down"}
    gw, backend = await gateway([limited, {"text": "after the wait"}, limited, limited, limited])
    api = anthropic.AsyncAnthropic(base_url=gw.url, api_key="k", max_retries=0)
    reply = await api.messages.create(model="m", max_tokens=5, messages=HI)
    assert reply.content[0].text == "after the wait" and len(backend.completions) == 2
    with pytest.raises(anthropic.RateLimitError) as caught:
        await api.messages.create(model="m", max_tokens=5, messages=HI)
    assert caught.value.body["error"]["type"] == "rate_limit_error"


async def test_an_anthropic_backend_behind_the_openai_faces() -> None:
    from swerve.config import settings_from_mapping
    from swerve.gateway.backends import build_backend
    from swerve.testing.anthropic_server import AnthropicScriptServer

    calls = [{"name": "shell", "arguments": {"cmd": "ls"}, "id": "toolu_1"}]
    with AnthropicScriptServer([{"text": "listing", "tool_calls": calls}]) as upstream:
        entry = {
            "model": "claude-x",
            "provider": "anthropic",
            "baseUrl": upstream.base_url,
            "apiKey": "k-123456",
        }
        backend = build_backend("claude", settings_from_mapping(entry, "test"))
        async with Gateway(Routes({"claude": backend}, default="claude")) as gw:
            tool = {
                "type": "function",
                "function": {
                    "name": "shell",
                    "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}},
                },
            }
            api = openai.AsyncOpenAI(base_url=f"{gw.url}/v1", api_key="k", max_retries=0)
            reply = await api.chat.completions.create(model="qwen", messages=HI, tools=[tool])
        sent = upstream.completions[0]
    (call,) = reply.choices[0].message.tool_calls
    assert call.id == "toolu_1" and json.loads(call.function.arguments) == {"cmd": "ls"}
    assert sent.json["model"] == "claude-x" and sent.json["tools"][0]["name"] == "shell"
    assert sent.headers["x-api-key"] == "k-123456"


async def test_a_quiet_stream_gets_keep_alives_the_sdks_skip(make_backend) -> None:
    router = Router()

    @router.route("POST", "/v1/chat/completions")
    async def slow(request: Request) -> StreamResponse:
        async def chunks():
            yield sse_event({"choices": [{"index": 0, "delta": {"content": "a"}, "finish_reason": None}]})
            await asyncio.sleep(0.5)  # a long tool call being written, say
            yield sse_event({"choices": [{"index": 0, "delta": {"content": "b"}, "finish_reason": "stop"}]})
            yield sse_event("[DONE]")

        return StreamResponse(chunks())

    async with HTTPServer(router) as upstream:
        backend = make_backend("default", f"{upstream.url}/v1")
        async with Gateway(Routes({"default": backend}, default="default"), heartbeat_s=0.1) as gw:
            async with httpx.AsyncClient() as http:
                body = {"model": "m", "max_tokens": 10, "stream": True, "messages": HI}
                raw = (await http.post(f"{gw.url}/v1/messages", json=body)).text
                chat = (await http.post(f"{gw.url}/v1/chat/completions", json=body)).text
            api = openai.AsyncOpenAI(base_url=f"{gw.url}/v1", api_key="k", max_retries=0)
            stream = await api.chat.completions.create(model="m", messages=HI, stream=True)
            text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
            async with anthropic.AsyncAnthropic(base_url=gw.url, api_key="k", max_retries=0).messages.stream(
                model="m", max_tokens=10, messages=HI
            ) as messages:
                final = await messages.get_final_message()
    assert raw.count("event: ping") >= 2 and ": keep-alive" in chat
    assert text == "ab" and final.content[0].text == "ab"


async def test_a_stream_closed_before_its_first_chunk_still_cancels_its_turn(make_backend) -> None:
    from swerve.gateway.server import _Logged
    from swerve.gateway.turns import ClosingStream, TurnRequest, TurnStream
    from swerve.models.base import Sampling

    router = Router()
    started = asyncio.Event()

    @router.route("POST", "/v1/chat/completions")
    async def never(request: Request) -> StreamResponse:
        started.set()
        await asyncio.Event().wait()  # never answers
        raise AssertionError

    async with HTTPServer(router) as upstream:
        backend = make_backend("default", f"{upstream.url}/v1")
        stream = TurnStream(
            backend.model, TurnRequest("m", [{"role": "user", "content": "hi"}], []), Sampling()
        )

        async def chunks():
            yield b""

        records: list[int] = []
        wrapped = _Logged(ClosingStream(chunks(), stream), lambda: records.append(1), {})
        await asyncio.wait_for(started.wait(), 30)
        await wrapped.aclose()
        assert stream._task.cancelled() and records == [1]
        await wrapped.aclose()  # twice is harmless, and records once
        assert records == [1]
        await backend.aclose()


def test_concurrent_requests_spread_over_the_backends_pools(make_backend) -> None:
    from swerve.gateway.backends import POOLS

    backend = make_backend("default", "http://127.0.0.1:9/v1")
    assert len(backend.copies) == POOLS and len({id(m) for m in backend.copies}) == POOLS
    leases = [backend.lease() for _ in range(3)]
    assert len({id(model) for model, _ in leases}) == 3
    first, release = leases[0]
    release()
    release()  # giving back twice counts once
    assert backend.lease()[0] is first
    replay = make_backend("replay", "http://127.0.0.1:9/v1", model="replay:demo")
    assert len(replay.copies) == 1  # a script is played once, not per pool

"""create_model: which provider, endpoint, sampling and context window a setting gives."""

from __future__ import annotations

import pytest

from swerve.models.anthropic_messages import AnthropicMessagesModel
from swerve.models.base import QWEN3_CODER_SAMPLING, Sampling
from swerve.models.factory import create_model, known_context_window
from swerve.models.openai_chat import OpenAIChatModel
from swerve.models.replay import ReplayModel


def test_replay_names():
    demo = create_model("replay:demo")
    assert isinstance(demo, ReplayModel) and demo.name == "replay:demo"
    with pytest.raises(ValueError, match="replay:demo"):
        create_model("replay:")


def test_openai_is_the_default_and_qwen_coders_get_their_sampling():
    model = create_model(
        "qwen3-coder-plus", base_url="https://dashscope-intl.aliyuncs.com/compatible-mode/v1", api_key="k"
    )
    assert isinstance(model, OpenAIChatModel)
    assert model.url == "https://dashscope-intl.aliyuncs.com/compatible-mode/v1/chat/completions"
    assert model.sampling == QWEN3_CODER_SAMPLING.merged(max_tokens=16384)  # every request is bounded
    assert model.context_window == 262144


def test_overrides_merge_with_defaults():
    model = create_model(
        "Qwen/Qwen3-Coder-480B-A35B-Instruct", base_url="http://h/v1", sampling=Sampling(temperature=0.2)
    )
    assert model.sampling == Sampling(
        temperature=0.2, top_p=0.8, top_k=20, repetition_penalty=1.05, max_tokens=16384
    )
    assert create_model("gpt-4o", api_key="k", context_window=5000).context_window == 5000
    assert create_model("gpt-4o", api_key="k").url == "https://api.openai.com/v1/chat/completions"


def test_anthropic_by_model_name_or_base_url():
    claude = create_model("claude-sonnet-4-5", api_key="k", env={})
    assert isinstance(claude, AnthropicMessagesModel) and claude.context_window == 200000
    assert claude.url == "https://api.anthropic.com/v1/messages"
    dashscope = create_model(
        "qwen3-coder-plus", base_url="https://dashscope-intl.aliyuncs.com/apps/anthropic", api_key="k", env={}
    )
    assert isinstance(dashscope, AnthropicMessagesModel)
    assert dashscope.url == "https://dashscope-intl.aliyuncs.com/apps/anthropic/v1/messages"
    forced = create_model("claude-like", provider="openai", base_url="http://h/v1")
    assert isinstance(forced, OpenAIChatModel)


def test_qwen_xml_wraps_an_openai_model():
    from swerve.models.qwen_xml import QwenXMLModel

    model = create_model("qwen3-coder", base_url="http://h/v1", tool_protocol="qwen-xml")
    assert isinstance(model, QwenXMLModel) and isinstance(model.inner, OpenAIChatModel)
    assert model.context_window == 262144
    with pytest.raises(ValueError, match="OpenAI-compatible"):
        create_model("claude-x", tool_protocol="qwen-xml")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": "m", "provider": "gemini"}, "provider"),
        ({"model": "m", "tool_protocol": "json"}, "tool protocol"),
        ({"model": "  "}, "no model"),
    ],
)
def test_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        create_model(**kwargs)


def test_known_context_windows():
    assert known_context_window("qwen/qwen3-coder:free") == 262144
    assert known_context_window("claude-opus-4-1") == 200000
    assert known_context_window("gpt-4o-mini") == 128000
    assert known_context_window("o3-mini") == 200000
    assert known_context_window("some-local-model") == 131072


async def test_end_to_end_through_the_factory(openai_server, anthropic_server):
    srv = openai_server([{"text": "hi"}])
    model = create_model("qwen3-coder-30b-a3b-instruct", base_url=srv.base_url, api_key="k")
    turn = await model.complete([{"role": "user", "content": "x"}], [])
    await model.aclose()
    body = srv.requests[0].json
    assert turn.text == "hi" and (body["top_k"], body["repetition_penalty"], body["temperature"]) == (
        20,
        1.05,
        0.7,
    )

    asrv = anthropic_server([{"text": "hello"}])
    env = {"ANTHROPIC_AUTH_TOKEN": "router-token"}
    model = create_model("claude-sonnet-4-5", base_url=asrv.base_url, api_key="router-token", env=env)
    turn = await model.complete([{"role": "user", "content": "x"}], [])
    await model.aclose()
    assert turn.text == "hello" and asrv.requests[0].headers["authorization"] == "Bearer router-token"
    assert "x-api-key" not in asrv.requests[0].headers


def test_openrouter_gets_an_identifying_header():
    model = create_model("qwen/qwen3-coder", base_url="https://openrouter.ai/api/v1", api_key="k")
    assert model._headers.get("X-Title") == "swerve"


def test_a_public_endpoint_without_a_key_fails_at_once_naming_the_variable():
    with pytest.raises(ValueError, match="set OPENAI_API_KEY"):
        create_model("gpt-4o", env={})
    with pytest.raises(ValueError, match="set ANTHROPIC_API_KEY"):
        create_model("claude-sonnet-4-5", env={})
    assert create_model("m", base_url="http://127.0.0.1:9/v1").name == "m"  # a local server needs none

"""AnthropicMessagesModel against a real loopback server speaking streamed Anthropic Messages."""

from __future__ import annotations

import json

import pytest

from swerve.errors import ModelError
from swerve.models.anthropic_messages import AnthropicMessagesModel, convert_messages, default_max_tokens
from swerve.models.base import Sampling, ToolSpec
from swerve.models.retry import RetryPolicy

KEY = "sk-ant-test-0123456789"
FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.02)
EDIT = ToolSpec(
    "edit",
    "Replace text in a file.",
    {
        "type": "object",
        "properties": {"path": {"type": "string"}, "old": {"type": "string"}, "new": {"type": "string"}},
        "required": ["path", "old", "new"],
    },
)
READ = ToolSpec("read_file", "Read a file.", {"type": "object", "properties": {"path": {"type": "string"}}})
TOOLS = [READ, EDIT]
USER = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "hi"}]


def model_for(srv, **kw) -> AnthropicMessagesModel:
    kw.setdefault("retry_policy", FAST)
    return AnthropicMessagesModel("claude-sonnet-4-5", srv.base_url, KEY, **kw)


async def run(model, messages=USER, tools=TOOLS, **kw):
    shown: list[str] = []
    try:
        turn = await model.complete(messages, tools, on_text=shown.append, **kw)
    finally:
        await model.aclose()
    return turn, shown


async def test_text_streaming_and_request_shape(anthropic_server):
    srv = anthropic_server(
        [
            {
                "text": "Hello from the messages API.",
                "chunk_size": 4,
                "usage": {"input_tokens": 50, "output_tokens": 9, "cache_read_tokens": 30},
            }
        ]
    )
    turn, shown = await run(model_for(srv))
    assert turn.text == "Hello from the messages API." and "".join(shown) == turn.text and len(shown) > 2
    assert turn.finish_reason == "stop" and turn.tool_calls == []
    assert (turn.usage.input_tokens, turn.usage.output_tokens, turn.usage.cache_read_tokens) == (80, 9, 30)
    req = srv.requests[0]
    assert req.path == "/v1/messages"
    assert req.headers["x-api-key"] == KEY and req.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in req.headers
    body = req.json
    assert body["stream"] is True and body["model"] == "claude-sonnet-4-5"
    assert body["system"] == "You are terse."
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    assert body["max_tokens"] == default_max_tokens("claude-sonnet-4-5")
    assert body["tools"][1] == {
        "name": "edit",
        "description": "Replace text in a file.",
        "input_schema": EDIT.parameters,
    }


async def test_auth_token_is_sent_as_bearer(anthropic_server):
    srv = anthropic_server([{"text": "ok"}])
    model = AnthropicMessagesModel(
        "qwen3-coder-plus", srv.base_url + "/v1", auth_token="tok-123", retry_policy=FAST
    )
    await run(model)
    headers = srv.requests[0].headers
    assert headers["authorization"] == "Bearer tok-123" and "x-api-key" not in headers
    assert srv.requests[0].path == "/v1/messages"  # a base URL ending in /v1 is not doubled


async def test_tool_use_with_input_json_delta(anthropic_server):
    args = {"path": "app.py", "old": "x = 1\n", "new": 'x = "two"\n'}
    step = {
        "text": "Editing now.",
        "tool_calls": [{"id": "toolu_01", "name": "edit", "arguments": args}],
        "chunk_size": 3,
    }
    srv = anthropic_server([step])
    turn, shown = await run(model_for(srv))
    assert turn.text == "Editing now." and "".join(shown) == "Editing now."
    assert [(c.id, c.name, c.arguments, c.error) for c in turn.tool_calls] == [
        ("toolu_01", "edit", args, None)
    ]
    assert turn.finish_reason == "tool_calls"


async def test_several_tool_uses_and_thinking_is_ignored(anthropic_server):
    calls = [
        {"name": "read_file", "arguments": {"path": "a"}},
        {"name": "read_file", "arguments": {"path": "b"}},
    ]
    srv = anthropic_server([{"thinking": "hmm, two files", "tool_calls": calls, "chunk_size": 2}])
    turn, shown = await run(model_for(srv))
    assert [c.arguments for c in turn.tool_calls] == [{"path": "a"}, {"path": "b"}]
    assert turn.text == "" and shown == []
    assert turn.tool_calls[0].id != turn.tool_calls[1].id


async def test_tool_result_round_trip_on_the_wire(anthropic_server):
    srv = anthropic_server([{"text": "All done."}])
    history = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "fix app.py"},
        {
            "role": "assistant",
            "content": "Looking.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "read_file", "arguments": {"path": "app.py"}},
                },
                {
                    "id": "call.2",
                    "type": "function",
                    "function": {"name": "edit", "arguments": '{"path": "app.py", "old": "a", "new": "b"}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "name": "read_file", "content": "a = 1"},
        {"role": "tool", "tool_call_id": "call.2", "name": "edit", "content": "Error: old text not found"},
        {"role": "user", "content": "try again"},
    ]
    turn, _ = await run(model_for(srv), history)
    assert turn.text == "All done."
    body = srv.requests[0].json
    assert body["system"] == "You are terse."
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "fix app.py"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Looking."},
                {"type": "tool_use", "id": "call_1", "name": "read_file", "input": {"path": "app.py"}},
                {
                    "type": "tool_use",
                    "id": "call_2",
                    "name": "edit",
                    "input": {"path": "app.py", "old": "a", "new": "b"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": "a = 1"},
                {
                    "type": "tool_result",
                    "tool_use_id": "call_2",
                    "content": "Error: old text not found",
                    "is_error": True,
                },
                {"type": "text", "text": "try again"},
            ],
        },
    ]


def test_history_repairs_missing_and_orphan_results():
    history = [
        {"role": "user", "content": "go"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "c1", "function": {"name": "read_file", "arguments": {}}}],
        },
        {"role": "user", "content": "stop that"},
        {"role": "tool", "tool_call_id": "gone", "content": "late result"},
        {"role": "assistant", "content": ""},
    ]
    system, wire = convert_messages(history)
    assert system == ""
    assert wire[1] == {
        "role": "assistant",
        "content": [{"type": "tool_use", "id": "c1", "name": "read_file", "input": {}}],
    }
    placeholder, text, orphan = wire[2]["content"]
    assert (
        placeholder["type"] == "tool_result"
        and placeholder["tool_use_id"] == "c1"
        and placeholder["is_error"]
    )
    assert text == {"type": "text", "text": "stop that"}
    assert orphan["type"] == "text" and "late result" in orphan["text"]
    assert len(wire) == 3  # the empty assistant message is dropped


def test_history_starting_with_assistant_gets_a_user_turn_first():
    _, wire = convert_messages([{"role": "assistant", "content": "hello"}])
    assert [m["role"] for m in wire] == ["user", "assistant"]


async def test_sampling_fields(anthropic_server):
    srv = anthropic_server([{"text": "ok"}])
    model = model_for(srv, sampling=Sampling(temperature=0.7, top_p=0.8, top_k=20, repetition_penalty=1.05))
    await run(model, sampling=Sampling(max_tokens=1000))
    body = srv.requests[0].json
    assert (body["temperature"], body["top_p"], body["top_k"], body["max_tokens"]) == (0.7, 0.8, 20, 1000)
    assert "repetition_penalty" not in body


@pytest.mark.parametrize(
    ("stop_reason", "expected"), [("end_turn", "stop"), ("max_tokens", "length"), ("stop_sequence", "stop")]
)
async def test_stop_reason_mapping(anthropic_server, stop_reason, expected):
    srv = anthropic_server([{"text": "x", "stop_reason": stop_reason}])
    turn, _ = await run(model_for(srv))
    assert turn.finish_reason == expected


async def test_401_fails_at_once_without_the_key(anthropic_server):
    srv = anthropic_server([{"status": 401, "message": f"invalid x-api-key {KEY}"}])
    model = model_for(srv)
    with pytest.raises(ModelError) as info:
        await run(model)
    assert info.value.status == 401 and "invalid x-api-key" in str(info.value)
    assert KEY not in str(info.value) and f"{srv.base_url}/v1/messages" in str(info.value)
    assert len(srv.requests) == 1


async def test_overloaded_then_success(anthropic_server):
    srv = anthropic_server(
        [{"status": 529, "retry_after": 0}, {"error_event": "overloaded_error"}, {"text": "fine"}]
    )
    model = model_for(srv)
    turn, _ = await run(model)
    assert turn.text == "fine"
    assert [r.status for r in model.retries] == [529, None]
    assert model.retry_delays[0] == 0.0 and "overloaded_error" in model.retries[1].cause


async def test_error_event_that_is_final(anthropic_server):
    srv = anthropic_server([{"error_event": "invalid_request_error"}])
    with pytest.raises(ModelError, match="invalid_request_error"):
        await run(model_for(srv))
    assert len(srv.requests) == 1


async def test_dropped_and_malformed_streams_are_retried(anthropic_server):
    srv = anthropic_server(
        [
            {"text": "abcdefgh", "chunk_size": 2, "drop_after_chunks": 4},
            {"text": "x", "malformed_chunk": True},
            {"text": "abcdefgh"},
        ]
    )
    model = model_for(srv)
    turn, shown = await run(model)
    assert turn.text == "abcdefgh" and "".join(shown) == "abcdefgh"
    assert len(model.retries) == 2 and "malformed" in model.retries[1].cause


async def test_stream_without_message_stop_is_retried(anthropic_server):
    start = {
        "data": json.dumps({"type": "message_start", "message": {"usage": {"input_tokens": 3}}}),
        "event": "message_start",
    }
    srv = anthropic_server([{"raw": [start]}, {"text": "ok"}])
    model = model_for(srv)
    turn, _ = await run(model)
    assert turn.text == "ok" and "ended before" in model.retries[0].cause


async def test_non_streaming_answer_is_accepted(anthropic_server):
    srv = anthropic_server(
        [
            {
                "no_stream": True,
                "text": "whole",
                "tool_calls": [{"name": "read_file", "arguments": {"path": "q"}}],
            }
        ]
    )
    turn, shown = await run(model_for(srv))
    assert turn.text == "whole" and "".join(shown) == "whole"
    assert [(c.name, c.arguments) for c in turn.tool_calls] == [("read_file", {"path": "q"})]


async def test_xml_calls_in_text_are_recovered(anthropic_server):
    text = "Let me look.\n<tool_call>\n<function=read_file>\n<parameter=path>\nREADME.md\n</parameter>\n</function>\n</tool_call>"
    srv = anthropic_server([{"text": text, "chunk_size": 7}])
    turn, shown = await run(model_for(srv))
    assert [(c.name, c.arguments) for c in turn.tool_calls] == [("read_file", {"path": "README.md"})]
    assert "<" not in "".join(shown)

"""The Anthropic Messages face through the real ``anthropic`` SDK, in front of a scripted
OpenAI-compatible backend (a model with no Anthropic API)."""

from __future__ import annotations

import json

import httpx
import pytest

anthropic = pytest.importorskip(
    "anthropic", reason="the anthropic SDK is in the dev extra: pip install anthropic"
)

EDIT_TOOL = {
    "name": "Edit",
    "description": "Replace text in a file.",
    "input_schema": {
        "type": "object",
        "properties": {
            "file_path": {"type": "string"},
            "old_string": {"type": "string"},
            "new_string": {"type": "string"},
        },
        "required": ["file_path", "old_string", "new_string"],
    },
    "cache_control": {"type": "ephemeral"},
}
EDIT_ARGS = {"file_path": "/w/a.py", "old_string": "x = 1", "new_string": "x = 2"}


def client(url: str, **kw: object) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=url, api_key=kw.pop("api_key", "unused"), max_retries=0, **kw)  # type: ignore[arg-type]


async def test_a_plain_reply_not_streamed(gateway) -> None:
    gw, backend = await gateway(
        [{"text": "Hello from the backend.", "usage": {"prompt_tokens": 12, "completion_tokens": 5}}]
    )
    reply = await client(gw.url).messages.create(
        model="claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
    )
    assert [b.type for b in reply.content] == ["text"]
    assert reply.content[0].text == "Hello from the backend."
    assert reply.stop_reason == "end_turn"
    assert reply.model == "claude-sonnet-4-5"
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (12, 5)
    sent = backend.completions[0].json
    assert sent["model"] == "backend-model"
    assert sent["messages"][-1] == {"role": "user", "content": "hi"}
    assert sent["max_tokens"] == 64


async def test_streamed_text_and_a_tool_call_in_the_apis_event_order(gateway) -> None:
    gw, _ = await gateway(
        [
            {
                "text": "I will edit it.",
                "tool_calls": [{"name": "Edit", "arguments": EDIT_ARGS}],
                "chunk_size": 3,
            }
        ]
    )
    seen = []
    async with client(gw.url).messages.stream(
        model="claude-sonnet-4-5",
        max_tokens=256,
        tools=[EDIT_TOOL],
        messages=[{"role": "user", "content": "edit a.py"}],
    ) as stream:
        async for event in stream:
            seen.append(event.type)
        final = await stream.get_final_message()
    assert seen[0] == "message_start" and seen[-1] == "message_stop"
    assert "text" in seen and "input_json" in seen
    text, call = final.content
    assert text.type == "text" and text.text == "I will edit it."
    assert call.type == "tool_use" and call.name == "Edit" and call.input == EDIT_ARGS
    assert final.stop_reason == "tool_use"


async def test_raw_stream_grammar(gateway) -> None:
    """Every block starts, gets deltas and stops in index order; the partial JSON parses at its stop."""
    calls = [{"name": "Edit", "arguments": {**EDIT_ARGS, "new_string": f"x = {i}"}} for i in range(4)]
    gw, _ = await gateway([{"text": "four edits", "tool_calls": calls}])
    body = {
        "model": "m",
        "max_tokens": 100,
        "stream": True,
        "tools": [EDIT_TOOL],
        "messages": [{"role": "user", "content": "go"}],
    }
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{gw.url}/v1/messages", json=body)
    events = [json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: ")]
    kinds = [e["type"] for e in events]
    assert kinds[:2] == ["message_start", "ping"] and kinds[-2:] == ["message_delta", "message_stop"]
    open_index, partial, inputs = None, "", []
    for event in events:
        if event["type"] == "content_block_start":
            assert open_index is None
            open_index, partial = event["index"], ""
        elif event["type"] == "content_block_delta":
            assert event["index"] == open_index
            partial += event["delta"].get("partial_json", "")
        elif event["type"] == "content_block_stop":
            assert event["index"] == open_index
            if partial:
                inputs.append(json.loads(partial))
            open_index = None
    assert [i["new_string"] for i in inputs] == ["x = 0", "x = 1", "x = 2", "x = 3"]
    starts = [e["index"] for e in events if e["type"] == "content_block_start"]
    assert starts == [0, 1, 2, 3, 4]
    assert events[-2]["delta"]["stop_reason"] == "tool_use"


async def test_parallel_calls_keep_their_ids_through_the_results(gateway) -> None:
    calls = [{"name": "Edit", "arguments": EDIT_ARGS, "id": f"call_{i}"} for i in range(4)]
    gw, backend = await gateway([{"tool_calls": calls}, {"text": "all done"}])
    api = client(gw.url)
    first = await api.messages.create(
        model="m", max_tokens=100, tools=[EDIT_TOOL], messages=[{"role": "user", "content": "go"}]
    )
    uses = [b for b in first.content if b.type == "tool_use"]
    assert [u.id for u in uses] == ["call_0", "call_1", "call_2", "call_3"]
    results = [
        {"type": "tool_result", "tool_use_id": u.id, "content": f"edited {i}"} for i, u in enumerate(uses)
    ]
    history = [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {"role": "user", "content": [*results, {"type": "text", "text": "and?"}]},
    ]
    second = await api.messages.create(model="m", max_tokens=100, tools=[EDIT_TOOL], messages=history)
    assert second.content[0].text == "all done"
    sent = backend.completions[1].json["messages"]
    assert [c["id"] for c in sent[1]["tool_calls"]] == ["call_0", "call_1", "call_2", "call_3"]
    assert [(m["role"], m.get("tool_call_id")) for m in sent[2:6]] == [
        ("tool", f"call_{i}") for i in range(4)
    ]
    assert sent[6] == {"role": "user", "content": "and?"}


async def test_unpaired_calls_and_results_are_repaired(gateway) -> None:
    gw, backend = await gateway([{"text": "ok"}])
    history = [
        {"role": "user", "content": "go"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_a", "name": "Edit", "input": EDIT_ARGS}],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_zzz", "content": "stray"}],
        },
    ]
    await client(gw.url).messages.create(model="m", max_tokens=10, messages=history)
    sent = backend.completions[0].json["messages"]
    assert sent[2]["role"] == "tool" and sent[2]["tool_call_id"] == "toolu_a"
    assert sent[2]["content"].startswith("Error")
    assert sent[3]["role"] == "user" and "stray" in sent[3]["content"]


async def test_system_blocks_thinking_cache_control_and_unknown_fields_are_tolerated(gateway) -> None:
    gw, backend = await gateway([{"text": "fine"}])
    body = {
        "model": "m",
        "max_tokens": 50,
        "system": [
            {"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": " Be kind."},
        ],
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "metadata": {"user_id": "u1"},
        "some_future_field": {"x": 1},
        "messages": [
            {
                "role": "user",
                "content": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                    {"type": "text", "text": "hello"},
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"},
                    },
                    {"type": "text", "text": "see?"},
                ],
            },
        ],
    }
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{gw.url}/v1/messages",
            json=body,
            headers={"anthropic-beta": "prompt-caching-2024-07-31", "anthropic-version": "2023-06-01"},
        )
    assert response.status_code == 200, response.text
    assert response.json()["content"][0]["text"] == "fine"
    sent = backend.completions[0].json["messages"]
    assert sent[0] == {"role": "system", "content": "You are terse. Be kind."}
    assert sent[2] == {"role": "assistant", "content": "hello"}
    assert "image omitted" in sent[3]["content"] and sent[3]["content"].endswith("see?")


async def test_qwen_xml_left_in_the_text_becomes_a_tool_use(gateway) -> None:
    xml = "Let me fix it.\n<tool_call>\n<function=Edit>\n<parameter=file_path>\n/w/a.py\n</parameter>\n<parameter=old_string>\nx = 1\n</parameter>\n<parameter=new_string>\nx = 2\n</parameter>\n</function>\n</tool_call>"
    gw, _ = await gateway([{"text": xml, "chunk_size": 7}])
    async with client(gw.url).messages.stream(
        model="m", max_tokens=256, tools=[EDIT_TOOL], messages=[{"role": "user", "content": "fix"}]
    ) as stream:
        final = await stream.get_final_message()
    text, call = final.content
    assert "<tool_call>" not in text.text and text.text.strip() == "Let me fix it."
    assert call.type == "tool_use" and call.input == EDIT_ARGS
    assert final.stop_reason == "tool_use"


async def test_the_qwen_xml_protocol_for_a_backend_without_a_tool_parser(gateway) -> None:
    xml = "<tool_call>\n<function=Edit>\n<parameter=file_path>\n/w/a.py\n</parameter>\n<parameter=old_string>\nx = 1\n</parameter>\n<parameter=new_string>\nx = 2\n</parameter>\n</function>\n</tool_call>"
    gw, backend = await gateway([{"text": xml}], toolProtocol="qwen-xml")
    reply = await client(gw.url).messages.create(
        model="m", max_tokens=256, tools=[EDIT_TOOL], messages=[{"role": "user", "content": "fix"}]
    )
    assert [b.type for b in reply.content] == ["tool_use"] and reply.content[0].input == EDIT_ARGS
    sent = backend.completions[0].json
    assert "tools" not in sent and "<function=Edit>" not in sent["messages"][0]["content"]
    assert "Edit" in sent["messages"][0]["content"]


async def test_broken_json_arguments_are_repaired(gateway) -> None:
    broken = "{'file_path': '/w/a.py', 'old_string': 'x = 1', 'new_string': 'x = 2',}"
    gw, _ = await gateway([{"tool_calls": [{"name": "Edit", "arguments": broken}]}])
    reply = await client(gw.url).messages.create(
        model="m", max_tokens=256, tools=[EDIT_TOOL], messages=[{"role": "user", "content": "fix"}]
    )
    assert reply.content[0].input == EDIT_ARGS


async def test_a_truncated_stream_is_retried_and_arrives_whole(gateway) -> None:
    gw, backend = await gateway([{"text": "first try", "drop_after_chunks": 1}, {"text": "second try"}])
    async with client(gw.url).messages.stream(
        model="m", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        final = await stream.get_final_message()
    assert final.content[0].text == "second try"
    assert len(backend.completions) == 2


async def test_a_stream_that_keeps_breaking_ends_in_an_error_event(gateway) -> None:
    broken = {"text": "partial text that is long enough", "chunk_size": 4, "drop_after_chunks": 3}
    gw, _ = await gateway([broken, broken, broken, broken])
    with pytest.raises(anthropic.APIStatusError) as caught:
        async with client(gw.url).messages.stream(
            model="m", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
        ) as stream:
            await stream.get_final_message()
    assert "overloaded" in str(caught.value) or "backend failed" in str(caught.value)


async def test_count_tokens_and_models(gateway) -> None:
    gw, _ = await gateway([])
    api = client(gw.url)
    counted = await api.messages.count_tokens(
        model="m", messages=[{"role": "user", "content": "hello " * 100}], tools=[EDIT_TOOL]
    )
    assert 100 < counted.input_tokens < 1000
    names = [m.id async for m in api.models.list()]
    assert names == ["default", "backend-model"]

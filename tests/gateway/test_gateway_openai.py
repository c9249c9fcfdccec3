"""The Chat Completions and Responses faces through the real ``openai`` SDK."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

SHELL_ARGS = {"cmd": "sed -i s/hi/bye/ a.txt"}
CHAT_TOOL = {
    "type": "function",
    "function": {
        "name": "shell",
        "description": "Run a command.",
        "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}, "required": ["cmd"]},
    },
}
RESPONSES_TOOL = {
    "type": "function",
    "name": "shell",
    "description": "Run a command.",
    "parameters": CHAT_TOOL["function"]["parameters"],
}


def client(url: str, key: str = "unused") -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)


async def test_chat_not_streamed_with_a_tool_call(gateway) -> None:
    gw, backend = await gateway(
        [{"text": "running it", "tool_calls": [{"name": "shell", "arguments": SHELL_ARGS, "id": "call_7"}]}]
    )
    reply = await client(gw.url).chat.completions.create(
        model="qwen3-coder", messages=[{"role": "user", "content": "go"}], tools=[CHAT_TOOL]
    )
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content == "running it"
    (call,) = choice.message.tool_calls
    assert (
        call.id == "call_7"
        and call.function.name == "shell"
        and json.loads(call.function.arguments) == SHELL_ARGS
    )
    assert reply.model == "qwen3-coder" and reply.usage.total_tokens > 0
    assert backend.completions[0].json["tools"][0]["function"]["name"] == "shell"


async def test_chat_streamed_tool_call_deltas_and_usage(gateway) -> None:
    calls = [{"name": "shell", "arguments": {"cmd": f"echo {i}"}} for i in range(3)]
    gw, _ = await gateway([{"text": "three", "tool_calls": calls, "chunk_size": 2}])
    stream = await client(gw.url).chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "go"}],
        tools=[CHAT_TOOL],
        stream=True,
        stream_options={"include_usage": True},
    )
    text, slots, finish, usage = "", {}, None, None
    async for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            text += choice.delta.content or ""
            for frag in choice.delta.tool_calls or []:
                slot = slots.setdefault(frag.index, {"id": None, "name": "", "args": ""})
                slot["id"] = slot["id"] or frag.id
                slot["name"] += frag.function.name or ""
                slot["args"] += frag.function.arguments or ""
            finish = choice.finish_reason or finish
    assert text == "three" and finish == "tool_calls" and usage is not None
    assert [json.loads(s["args"])["cmd"] for s in slots.values()] == ["echo 0", "echo 1", "echo 2"]
    assert all(s["id"] and s["name"] == "shell" for s in slots.values())


async def test_chat_history_with_tool_results_reaches_the_backend(gateway) -> None:
    gw, backend = await gateway([{"text": "done"}])
    history = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "go"}]},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "shell", "arguments": json.dumps(SHELL_ARGS)},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "ok"},
    ]
    reply = await client(gw.url).chat.completions.create(model="m", messages=history, tools=[CHAT_TOOL])
    assert reply.choices[0].message.content == "done"
    sent = backend.completions[0].json["messages"]
    assert sent[2]["tool_calls"][0]["function"] == {"name": "shell", "arguments": json.dumps(SHELL_ARGS)}
    assert sent[3] == {"role": "tool", "tool_call_id": "c1", "content": "ok"}


async def test_responses_not_streamed(gateway) -> None:
    gw, backend = await gateway([{"text": "hi there"}])
    reply = await client(gw.url).responses.create(model="m", instructions="be brief", input="hello")
    assert reply.output_text == "hi there" and reply.status == "completed"
    assert backend.completions[0].json["messages"][:2] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hello"},
    ]


async def test_responses_streamed_with_a_function_call_and_a_custom_tool(gateway) -> None:
    calls = [
        {"name": "shell", "arguments": SHELL_ARGS, "id": "call_1"},
        {"name": "apply_patch", "arguments": {"input": "*** Begin Patch"}, "id": "call_2"},
    ]
    gw, backend = await gateway([{"text": "patching", "tool_calls": calls}])
    custom = {
        "type": "custom",
        "name": "apply_patch",
        "description": "Apply a patch.",
        "format": {"type": "grammar", "syntax": "lark", "definition": "start: /.+/"},
    }
    stream = await client(gw.url).responses.create(
        model="m",
        input=[{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "go"}]}],
        tools=[RESPONSES_TOOL, custom, {"type": "web_search"}],
        stream=True,
    )
    kinds, completed = [], None
    async for event in stream:
        kinds.append(event.type)
        if event.type == "response.completed":
            completed = event.response
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "response.output_text.delta" in kinds and "response.function_call_arguments.delta" in kinds
    message, function, patch = completed.output
    assert message.content[0].text == "patching"
    assert (
        function.type == "function_call"
        and function.call_id == "call_1"
        and json.loads(function.arguments) == SHELL_ARGS
    )
    assert patch.type == "custom_tool_call" and patch.input == "*** Begin Patch"
    assert completed.usage.total_tokens > 0
    assert [t["function"]["name"] for t in backend.completions[0].json["tools"]] == ["shell", "apply_patch"]


async def test_responses_history_items(gateway) -> None:
    gw, backend = await gateway([{"text": "ok"}])
    items = [
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "rules"}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "go"}]},
        {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "xyz"},
        {"type": "function_call", "call_id": "c1", "name": "shell", "arguments": json.dumps(SHELL_ARGS)},
        {"type": "function_call", "call_id": "c2", "name": "shell", "arguments": '{"cmd": "ls"}'},
        {"type": "function_call_output", "call_id": "c1", "output": "done 1"},
        {"type": "function_call_output", "call_id": "c2", "output": "done 2"},
    ]
    await client(gw.url).responses.create(model="m", input=items, tools=[RESPONSES_TOOL])
    sent = backend.completions[0].json["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "tool", "tool"]
    assert [c["id"] for c in sent[2]["tool_calls"]] == ["c1", "c2"]


async def test_responses_refuses_previous_response_id(gateway) -> None:
    gw, _ = await gateway([])
    with pytest.raises(openai.BadRequestError, match="previous_response_id"):
        await client(gw.url).responses.create(model="m", input="hi", previous_response_id="resp_1")


async def test_models_list(gateway) -> None:
    gw, _ = await gateway([])
    assert [m.id async for m in client(gw.url).models.list()] == ["default", "backend-model"]


async def test_chat_stream_error_mid_stream_is_an_error_chunk(gateway) -> None:
    broken = {"text": "some text that breaks off", "chunk_size": 3, "drop_after_chunks": 3}
    gw, _ = await gateway([broken] * 6)  # three tries per request
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{gw.url}/v1/chat/completions",
            json={"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]},
        )
    datas = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
    assert "error" in json.loads(datas[-1])
    with pytest.raises(openai.APIError):
        stream = await client(gw.url).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        async for _ in stream:
            pass

"""The local server over the real Qwen2.5-Coder 0.5B model: both dialects, token capture, batching.

Generations are greedy (temperature 0) and short; comparisons of ids across requests turn the
prompt cache off, so both sides prefill the same way and match exactly.
"""

from __future__ import annotations

import asyncio
import json
import os

import httpx
import pytest

from swerve.local.process import LocalServer

ALIAS = "qwen-test"
READ_FILE = {"type": "function", "function": {
    "name": "read_file", "description": "Read a file and return its text",
    "parameters": {"type": "object", "properties": {"path": {"type": "string", "description": "file path"}},
                   "required": ["path"]}}}
USER = [{"role": "user", "content": "Write a Python function that adds two numbers."}]


@pytest.fixture(scope="module")
def server(model_path, tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SWERVE_CACHE", str(tmp_path_factory.mktemp("cache")))
        srv = LocalServer(model_path, alias=ALIAS, ctx=4096, parallel=2, note=lambda text: None).start()
        try:
            yield srv
        finally:
            srv.stop()


@pytest.fixture
async def client(server):
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
        yield http


async def chat(client, **body):
    body.setdefault("messages", USER)
    body.setdefault("temperature", 0)
    body.setdefault("max_tokens", 8)
    response = await client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def test_discovery_in_llama_cpp_shapes(client, model_path):
    assert (await client.get("/health")).json() == {"status": "ok"}
    models = (await client.get("/v1/models")).json()
    entry = models["data"][0]
    assert entry["id"] == ALIAS and entry["object"] == "model"
    assert entry["meta"]["n_ctx"] == 2048 and entry["meta"]["n_ctx_train"] == 32768
    assert entry["meta"]["n_params"] > 400_000_000 and entry["meta"]["size"] > 0
    props = (await client.get("/props")).json()
    assert props["total_slots"] == 2
    assert props["default_generation_settings"]["n_ctx"] == 2048
    assert props["default_generation_settings"]["params"]["repeat_penalty"] == 1.0
    assert "<|im_start|>" in props["chat_template"] and props["model_path"] == str(model_path)
    assert "llama.cpp" in props["build_info"] and props["logprobs_mode"]
    slots = (await client.get("/slots")).json()
    assert [s["id"] for s in slots] == [0, 1] and all(s["n_ctx"] == 2048 for s in slots)


async def test_slots_show_the_sampling_in_effect(client):
    await chat(client, temperature=0.3, repetition_penalty=1.05, top_k=20, max_tokens=2, seed=1)
    slots = (await client.get("/slots")).json()
    used = [s["params"] for s in slots if s["params"]["top_k"] == 20]
    assert used and used[0]["repeat_penalty"] == 1.05 and used[0]["temperature"] == 0.3


async def test_tokenizer_endpoints_round_trip(client):
    ids = (await client.post("/tokenize", json={"content": "Hello wörld <|im_end|>"})).json()["tokens"]
    assert ids[-1] == 151645  # special markup is parsed into its token
    text = (await client.post("/detokenize", json={"tokens": ids})).json()["content"]
    assert text == "Hello wörld <|im_end|>"
    pieces = (await client.post("/tokenize", json={"content": "Hi", "with_pieces": True})).json()["tokens"]
    assert len(pieces) == 1 and pieces[0]["piece"] == "Hi" and isinstance(pieces[0]["id"], int)
    bad = await client.post("/detokenize", json={"tokens": [1, -5]})
    assert bad.status_code == 400 and "-5" in bad.json()["error"]["message"]


async def test_prompt_token_ids_are_the_rendered_template(client):
    prompt = (await client.post("/apply-template", json={"messages": USER, "tools": [READ_FILE]})).json()["prompt"]
    assert prompt.startswith("<|im_start|>system") and '"name": "read_file"' in prompt
    assert prompt.endswith("<|im_start|>assistant\n")
    ids = (await client.post("/tokenize", json={"content": prompt})).json()["tokens"]
    reply = await chat(client, tools=[READ_FILE], return_token_ids=True, max_tokens=2)
    assert reply["prompt_token_ids"] == ids
    assert reply["usage"]["prompt_tokens"] == len(ids)


async def test_token_in_token_out_is_exact(client):
    reply = await chat(client, return_token_ids=True, logprobs=True, max_tokens=6, cache_prompt=False)
    prompt_ids = reply["prompt_token_ids"]
    out_ids = reply["choices"][0]["token_ids"]
    assert len(out_ids) == reply["usage"]["completion_tokens"] == len(reply["choices"][0]["logprobs"]["content"])
    native = (await client.post("/completion", json={
        "prompt": prompt_ids, "n_predict": 6, "temperature": 0, "return_tokens": True, "n_probs": 1,
        "cache_prompt": False})).json()
    assert native["tokens_evaluated"] == len(prompt_ids)
    assert native["tokens"] == out_ids
    chat_lp = [e["logprob"] for e in reply["choices"][0]["logprobs"]["content"]]
    native_lp = [p["logprob"] for p in native["completion_probabilities"]]
    assert native_lp == pytest.approx(chat_lp, abs=1e-5)
    legacy = (await client.post("/v1/completions", json={
        "prompt": prompt_ids, "max_tokens": 6, "temperature": 0, "return_token_ids": True, "logprobs": 1,
        "cache_prompt": False})).json()
    choice = legacy["choices"][0]
    assert choice["prompt_token_ids"] == prompt_ids and choice["token_ids"] == out_ids
    assert choice["logprobs"]["token_logprobs"] == pytest.approx(chat_lp, abs=1e-5)
    assert "".join(choice["logprobs"]["tokens"]).startswith(choice["text"][:5])


async def test_logprobs_in_openai_shape(client):
    reply = await chat(client, logprobs=True, top_logprobs=3, max_tokens=5)
    entries = reply["choices"][0]["logprobs"]["content"]
    assert entries
    for entry in entries:
        assert set(entry) == {"token", "logprob", "bytes", "top_logprobs"}
        assert entry["logprob"] <= 0 and bytes(entry["bytes"]).decode("utf-8", "replace") == entry["token"]
        tops = [t["logprob"] for t in entry["top_logprobs"]]
        assert len(tops) == 3 and tops == sorted(tops, reverse=True)
        assert entry["top_logprobs"][0]["token"] == entry["token"]  # greedy: the best one was taken


async def test_greedy_is_repeatable_and_the_cache_is_reused(client):
    first = await chat(client, max_tokens=8)
    second = await chat(client, max_tokens=8)
    assert first["choices"][0]["message"]["content"] == second["choices"][0]["message"]["content"]
    assert second["usage"]["prompt_tokens_details"]["cached_tokens"] == second["usage"]["prompt_tokens"] - 1
    assert second["timings"]["prompt_n"] == 1
    for key in ("prompt_n", "prompt_ms", "predicted_n", "predicted_ms", "predicted_per_second"):
        assert key in second["timings"]


async def test_second_turn_prefills_only_the_new_suffix(client):
    turn1 = await chat(client, max_tokens=12)
    history = [*USER, turn1["choices"][0]["message"], {"role": "user", "content": "Now add a docstring."}]
    turn2 = await chat(client, messages=history, max_tokens=4)
    cached = turn2["usage"]["prompt_tokens_details"]["cached_tokens"]
    assert cached >= turn1["usage"]["prompt_tokens"]
    assert turn2["timings"]["prompt_n"] == turn2["usage"]["prompt_tokens"] - cached


async def test_stream_equals_non_stream(client):
    whole = await chat(client, max_tokens=10, cache_prompt=False)
    pieces, finish, usage = [], None, None
    async with client.stream("POST", "/v1/chat/completions", json={
            "messages": USER, "temperature": 0, "max_tokens": 10, "stream": True, "cache_prompt": False,
            "stream_options": {"include_usage": True}}) as response:
        async for line in response.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            data = json.loads(line[6:])
            if data.get("usage"):
                usage = data["usage"]
            for choice in data["choices"]:
                pieces.append(choice["delta"].get("content") or "")
                finish = choice["finish_reason"] or finish
    assert "".join(pieces) == whole["choices"][0]["message"]["content"]
    assert finish == whole["choices"][0]["finish_reason"]
    assert usage["completion_tokens"] == whole["usage"]["completion_tokens"]


async def test_stop_strings_and_limits(client):
    body = {"prompt": "1, 2, 3, 4,", "n_predict": 24, "temperature": 0, "stop": [" 7"]}
    done = (await client.post("/completion", json=body)).json()
    assert done["stop_type"] == "word" and done["stopping_word"] == " 7"
    assert " 7" not in done["content"] and "6" in done["content"]
    cut = (await client.post("/completion", json={**body, "stop": [], "n_predict": 3})).json()
    assert cut["stop_type"] == "limit" and cut["tokens_predicted"] == 3
    legacy = (await client.post("/v1/completions", json={"prompt": "1, 2, 3, 4,", "max_tokens": 3,
                                                         "temperature": 0})).json()
    assert legacy["choices"][0]["finish_reason"] == "length" and legacy["object"] == "text_completion"


async def test_bad_requests_get_clear_errors(client):
    long_text = "word " * 2100
    too_long = await client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": long_text}]})
    assert too_long.status_code == 400
    error = too_long.json()["error"]
    assert error["type"] == "exceed_context_size_error" and "2048 tokens per slot" in error["message"]
    wrong = await client.post("/v1/chat/completions", json={"model": "gpt-4", "messages": USER})
    assert wrong.status_code == 404 and ALIAS in wrong.json()["error"]["message"]
    for body, needle in (({"messages": USER, "temperature": "hot"}, "'temperature'"),
                         ({"messages": "hi"}, "'messages'"),
                         ({"messages": USER, "n": 3}, "'n'")):
        response = await client.post("/v1/chat/completions", json=body)
        assert response.status_code == 400 and needle in response.json()["error"]["message"], response.text
    ids = await client.post("/completion", json={"prompt": [1, 99_999_999]})
    assert ids.status_code == 400 and "99999999" in ids.json()["error"]["message"]
    empty = await client.post("/v1/completions", json={"prompt": []})
    assert empty.status_code == 400


async def test_concurrent_requests_share_the_batch(client):
    prompts = ["def fib(n):", "class Stack:"]
    results = await asyncio.gather(*(client.post("/completion", json={
        "prompt": p, "n_predict": 12, "temperature": 0, "cache_prompt": False}) for p in prompts))
    bodies = [r.json() for r in results]
    assert sorted(b["id_slot"] for b in bodies) == [0, 1]
    assert all(b["tokens_predicted"] == 12 for b in bodies)


async def test_client_disconnect_cancels_generation(server, client):
    body = {"messages": [{"role": "user", "content": "Write a very long story about a lighthouse."}],
            "temperature": 0.8, "seed": 5, "max_tokens": 2000, "stream": True}
    async with (httpx.AsyncClient(base_url=server.url, timeout=60) as other,
                other.stream("POST", "/v1/chat/completions", json=body) as response):
        async for line in response.aiter_lines():
            if '"content"' in line and '"role"' not in line:
                break  # one real token arrived; now hang up
    busy = True
    for _ in range(200):  # bounded wait: a 2000-token story would take minutes here
        slots = (await client.get("/slots")).json()
        busy = any(s["is_processing"] for s in slots)
        if not busy:
            break
        await asyncio.sleep(0.1)
    assert not busy
    assert all(s["n_cached"] < 1000 for s in slots)


def test_openai_sdk_streams_tool_calls(server):
    openai = pytest.importorskip("openai", reason="the openai SDK is not installed (it is in the dev extra)")
    sdk = openai.OpenAI(base_url=server.base_url, api_key="unused")
    # The 0.5B model writes bare JSON unless its reply opens the tag; continuing an assistant
    # message that does (llama.cpp's assistant prefill) gets the Hermes form it was trained on.
    messages = [{"role": "user", "content": "Read the file notes.txt"}, {"role": "assistant", "content": "<tool_call>\n"}]
    stream = sdk.chat.completions.create(model=ALIAS, messages=messages, tools=[READ_FILE], stream=True,
                                         temperature=0, max_tokens=40, stream_options={"include_usage": True})
    calls: dict[int, dict[str, str]] = {}
    finish = None
    usage = None
    text = ""
    for chunk in stream:
        usage = chunk.usage or usage
        for choice in chunk.choices:
            finish = choice.finish_reason or finish
            text += choice.delta.content or ""
            for call in choice.delta.tool_calls or []:
                slot = calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
                slot["id"] = call.id or slot["id"]
                slot["name"] += (call.function.name or "") if call.function else ""
                slot["arguments"] += (call.function.arguments or "") if call.function else ""
    assert finish == "tool_calls" and text == ""
    assert [c["name"] for c in calls.values()] == ["read_file"]
    assert json.loads(calls[0]["arguments"]) == {"path": "notes.txt"} and calls[0]["id"].startswith("call_")
    assert usage is not None and usage.completion_tokens > 0
    whole = sdk.chat.completions.create(model=ALIAS, messages=messages, tools=[READ_FILE], temperature=0, max_tokens=40)
    message = whole.choices[0].message
    assert whole.choices[0].finish_reason == "tool_calls" and message.content is None
    assert message.tool_calls[0].function.name == "read_file"


async def test_swerve_openai_client_drives_it(server):
    from swerve.models.base import Sampling, ToolSpec
    from swerve.models.openai_chat import OpenAIChatModel

    model = OpenAIChatModel(ALIAS, server.base_url, "unused", sampling=Sampling(temperature=0.0, max_tokens=8))
    tool = ToolSpec("read_file", "Read a file", READ_FILE["function"]["parameters"])
    shown: list[str] = []
    try:
        turn = await model.complete([{"role": "user", "content": "Say hello."}], [tool], on_text=shown.append)
    finally:
        await model.aclose()
    assert turn.text and "".join(shown) == turn.text
    assert turn.finish_reason in ("stop", "length")


def test_the_server_process_is_ours(server):
    assert server.started and server.process is not None and server.alive()
    assert os.getpgid(server.process.pid) == server.process.pid  # its own group, stopped as one

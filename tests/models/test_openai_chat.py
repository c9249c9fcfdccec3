"""OpenAIChatModel against a real loopback server speaking streamed chat completions."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import sys

import pytest

from swerve.errors import ModelError
from swerve.models.base import Sampling, ToolSpec
from swerve.models.openai_chat import OpenAIChatModel, ToolCallAccumulator
from swerve.models.retry import RetryPolicy

KEY = "sk-test-0123456789abcdef"
FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.02)
CALL_ID = re.compile(r"^call_[0-9a-f]{24}$")

READ_FILE = ToolSpec(
    "read_file",
    "Read a file.",
    {
        "type": "object",
        "properties": {"path": {"type": "string"}, "limit": {"type": "integer"}},
        "required": ["path"],
    },
)
SHELL = ToolSpec(
    "run_shell_command", "Run a command.", {"type": "object", "properties": {"command": {"type": "string"}}}
)
TOOLS = [READ_FILE, SHELL]
USER = [{"role": "user", "content": "hello"}]


def model_for(srv, **kw) -> OpenAIChatModel:
    kw.setdefault("retry_policy", FAST)
    return OpenAIChatModel("qwen3-coder-test", srv.base_url, KEY, **kw)


async def run(model: OpenAIChatModel, messages=USER, tools=TOOLS, **kw):
    shown: list[str] = []
    try:
        turn = await model.complete(messages, tools, on_text=shown.append, **kw)
    finally:
        await model.aclose()
    return turn, shown


async def test_text_streams_in_pieces_and_request_is_well_formed(openai_server):
    srv = openai_server([{"text": "Hello there, friend.", "chunk_size": 3}])
    turn, shown = await run(model_for(srv))
    assert turn.text == "Hello there, friend."
    assert "".join(shown) == turn.text and len(shown) > 3
    assert turn.tool_calls == [] and turn.finish_reason == "stop"
    req = srv.requests[0]
    assert req.path == "/v1/chat/completions"
    assert req.headers["authorization"] == f"Bearer {KEY}"
    body = req.json
    assert body["model"] == "qwen3-coder-test"
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["messages"] == USER
    assert [t["function"]["name"] for t in body["tools"]] == ["read_file", "run_shell_command"]


async def test_unicode_line_separators_inside_data_do_not_break_the_stream(openai_server):
    text = "a\u2028b\u2029c\x85d"
    srv = openai_server([{"text": text, "chunk_size": 2}])
    model = model_for(srv)
    turn, _ = await run(model)
    assert turn.text == text
    assert model.retries == []


async def test_no_tools_field_when_no_tools(openai_server):
    srv = openai_server([{"text": "ok"}])
    await run(model_for(srv), tools=[])
    assert "tools" not in srv.requests[0].json


async def test_tool_call_split_across_chunks_without_ids(openai_server):
    step = {
        "text": "Reading.",
        "tool_calls": [{"name": "read_file", "arguments": {"path": "src/app.py", "limit": 20}}],
        "chunk_size": 2,
        "omit_ids": True,
        "split_names": True,
    }
    srv = openai_server([step])
    turn, _ = await run(model_for(srv))
    assert turn.text == "Reading."
    assert len(turn.tool_calls) == 1
    call = turn.tool_calls[0]
    assert CALL_ID.match(call.id)
    assert (call.name, call.arguments, call.error) == ("read_file", {"path": "src/app.py", "limit": 20}, None)
    assert turn.finish_reason == "tool_calls"


async def test_ids_repeated_on_every_fragment_and_whole_name_repeated(openai_server):
    # Some servers resend the id (and the whole name) on every fragment of a call.
    raw = [
        json.dumps({"choices": [{"index": 0, "delta": {"tool_calls": [frag]}, "finish_reason": None}]})
        for frag in (
            {"index": 0, "id": "call_a", "function": {"name": "read_file", "arguments": '{"pa'}},
            {"index": 0, "id": "call_a", "function": {"name": "read_file", "arguments": 'th": "x"}'}},
        )
    ]
    raw += [json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}), "[DONE]"]
    srv = openai_server([{"raw": raw}])
    turn, _ = await run(model_for(srv))
    assert [(c.id, c.name, c.arguments) for c in turn.tool_calls] == [("call_a", "read_file", {"path": "x"})]


async def test_several_calls_in_one_turn_keep_their_ids_and_order(openai_server):
    calls = [
        {"id": "call_1", "name": "read_file", "arguments": {"path": "a.py"}},
        {"id": "call_2", "name": "read_file", "arguments": '{"path": "b.py"}'},
        {"id": "call_3", "name": "run_shell_command", "arguments": {"command": "ls -la"}},
    ]
    srv = openai_server([{"tool_calls": calls, "chunk_size": 4}])
    turn, shown = await run(model_for(srv))
    assert [(c.id, c.name, c.arguments) for c in turn.tool_calls] == [
        ("call_1", "read_file", {"path": "a.py"}),
        ("call_2", "read_file", {"path": "b.py"}),
        ("call_3", "run_shell_command", {"command": "ls -la"}),
    ]
    assert shown == [] and turn.text == ""


@pytest.mark.parametrize("omit_ids", [False, True])
async def test_two_calls_sent_on_the_same_index_stay_two_calls(openai_server, omit_ids):
    calls = [
        {"id": "call_x", "name": "read_file", "arguments": {"path": "a.py"}},
        {"id": "call_y", "name": "run_shell_command", "arguments": {"command": "pwd"}},
    ]
    srv = openai_server([{"tool_calls": calls, "chunk_size": 5, "same_index": True, "omit_ids": omit_ids}])
    turn, _ = await run(model_for(srv))
    assert [(c.name, c.arguments) for c in turn.tool_calls] == [
        ("read_file", {"path": "a.py"}),
        ("run_shell_command", {"command": "pwd"}),
    ]
    if not omit_ids:
        assert [c.id for c in turn.tool_calls] == ["call_x", "call_y"]
    else:
        assert all(CALL_ID.match(c.id) for c in turn.tool_calls)
        assert turn.tool_calls[0].id != turn.tool_calls[1].id


def test_accumulator_tolerates_junk_fragments():
    acc = ToolCallAccumulator()
    for fragment in (None, "x", {"index": "nope", "function": "bad"}, {"function": {"name": "read_file"}}):
        acc.feed(fragment)
    acc.feed({"function": {"arguments": '{"path": "z"}'}})
    calls = acc.calls(TOOLS)
    assert [(c.name, c.arguments) for c in calls] == [("read_file", {"path": "z"})]


async def test_usage_from_the_last_chunk(openai_server):
    usage = {"prompt_tokens": 1200, "completion_tokens": 34, "cached_tokens": 1000}
    srv = openai_server(
        [{"text": "hi", "usage": usage}, {"text": "again", "usage": usage, "usage_every_chunk": True}]
    )
    model = model_for(srv)
    first = await model.complete(USER, TOOLS)
    second = await model.complete(USER, TOOLS)
    await model.aclose()
    for turn in (first, second):
        assert (turn.usage.input_tokens, turn.usage.output_tokens, turn.usage.cache_read_tokens) == (
            1200,
            34,
            1000,
        )


async def test_finish_reason_length_and_reasoning_content_ignored(openai_server):
    srv = openai_server(
        [{"reasoning": "let me think about it", "text": "partial answ", "finish_reason": "length"}]
    )
    turn, shown = await run(model_for(srv))
    assert turn.text == "partial answ" and "".join(shown) == "partial answ"
    assert turn.finish_reason == "length"


async def test_history_and_sampling_on_the_wire(openai_server):
    srv = openai_server([{"text": "ok"}])
    history = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "read a.py"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "call_9",
                    "type": "function",
                    "function": {"name": "read_file", "arguments": {"path": "a.py"}},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_9", "name": "read_file", "content": "print('hi')"},
    ]
    sampling = Sampling(temperature=0.7, top_p=0.8, top_k=20, repetition_penalty=1.05)
    model = model_for(srv, sampling=sampling)
    await run(model, history, sampling=Sampling(temperature=0.2, max_tokens=512))
    body = srv.requests[0].json
    wire_call = body["messages"][2]["tool_calls"][0]
    assert wire_call["function"]["arguments"] == '{"path": "a.py"}'
    assert body["messages"][3] == {"role": "tool", "tool_call_id": "call_9", "content": "print('hi')"}
    assert body["messages"][0] == {"role": "system", "content": "be brief"}
    assert (
        body["temperature"],
        body["top_p"],
        body["top_k"],
        body["repetition_penalty"],
        body["max_tokens"],
    ) == (
        0.2,
        0.8,
        20,
        1.05,
        512,
    )


async def test_unset_sampling_is_not_sent(openai_server):
    srv = openai_server([{"text": "ok"}])
    await run(model_for(srv))
    assert not {"temperature", "top_p", "top_k", "repetition_penalty", "max_tokens"} & set(
        srv.requests[0].json
    )


async def test_undecodable_arguments_become_a_call_error(openai_server):
    srv = openai_server(
        [{"tool_calls": [{"id": "call_b", "name": "read_file", "arguments": '{"path": "a.py'}]}]
    )
    turn, _ = await run(model_for(srv))
    call = turn.tool_calls[0]
    assert call.arguments == {} and call.error and "read_file" in call.error


async def test_python_style_arguments_are_repaired(openai_server):
    srv = openai_server(
        [{"tool_calls": [{"name": "read_file", "arguments": "{'path': 'a.py', 'limit': 5,}"}]}]
    )
    turn, _ = await run(model_for(srv))
    assert turn.tool_calls[0].arguments == {"path": "a.py", "limit": 5}


# ---------------------------------------------------------------- faults and retries


async def test_429_with_retry_after_is_honoured(openai_server):
    srv = openai_server(
        [{"status": 429, "retry_after": 1, "message": "slow down"}, {"text": "after the wait"}]
    )
    model = model_for(srv)
    turn, _ = await run(model)
    assert turn.text == "after the wait"
    assert len(srv.requests) == 2
    assert len(model.retries) == 1
    retry = model.retries[0]
    assert (retry.status, retry.retry_after, retry.delay) == (429, 1.0, 1.0)
    assert "slow down" in retry.cause


async def test_long_retry_after_is_capped_by_the_policy(openai_server):
    srv = openai_server([{"status": 429, "retry_after": 3600}, {"text": "ok"}])
    model = model_for(srv, retry_policy=RetryPolicy(max_attempts=3, base_delay=0.01, max_retry_after=0.05))
    await run(model)
    assert model.retry_delays == [0.05]


async def test_500_then_success(openai_server):
    srv = openai_server([{"status": 500}, {"status": 502}, {"text": "fine"}])
    model = model_for(srv)
    turn, _ = await run(model)
    assert turn.text == "fine"
    assert [r.status for r in model.retries] == [500, 502]
    assert all(0 <= d <= FAST.max_delay for d in model.retry_delays)


async def test_connection_dropped_mid_stream_then_success_shows_text_once(openai_server):
    text = "The answer is forty-two, as always."
    srv = openai_server(
        [{"text": text, "chunk_size": 4, "drop_after_chunks": 4}, {"text": text, "chunk_size": 4}]
    )
    model = model_for(srv)
    turn, shown = await run(model)
    assert turn.text == text
    assert "".join(shown) == text  # the retried stream did not repeat what was already shown
    assert len(model.retries) == 1 and model.retries[0].status is None


async def test_retry_that_says_something_else_starts_on_a_new_line(openai_server):
    srv = openai_server([{"text": "First try", "chunk_size": 3, "drop_after_chunks": 3}, {"text": "Second"}])
    turn, shown = await run(model_for(srv))
    assert turn.text == "Second"
    assert "".join(shown) == "First\nSecond"  # (trailing space held back by the XML parser)


async def test_malformed_chunk_then_success(openai_server):
    srv = openai_server([{"text": "broken", "malformed_chunk": True}, {"text": "clean"}])
    model = model_for(srv)
    turn, _ = await run(model)
    assert turn.text == "clean"
    assert "malformed" in model.retries[0].cause


async def test_stream_that_ends_early_is_retried(openai_server):
    partial = json.dumps({"choices": [{"index": 0, "delta": {"content": "half"}, "finish_reason": None}]})
    srv = openai_server([{"raw": [partial]}, {"text": "whole"}])
    model = model_for(srv)
    turn, _ = await run(model)
    assert turn.text == "whole" and "ended before" in model.retries[0].cause


async def test_error_object_mid_stream(openai_server):
    transient = json.dumps({"error": {"message": "upstream overloaded", "code": 502}})
    final = json.dumps({"error": {"message": "context too long", "code": 400}})
    srv = openai_server([{"raw": [transient]}, {"text": "ok"}, {"raw": [final]}])
    model = model_for(srv)
    turn, _ = await run(model)
    assert turn.text == "ok" and "upstream overloaded" in model.retries[0].cause
    with pytest.raises(ModelError) as info:
        await run(model)
    assert info.value.status == 400 and "context too long" in str(info.value)


async def test_read_timeout_is_retried(openai_server):
    srv = openai_server([{"delay_s": 1.0, "text": "late"}, {"text": "on time"}])
    model = model_for(srv, timeout=0.2)
    turn, _ = await run(model)
    assert turn.text == "on time"
    assert "timed out" in model.retries[0].cause


async def test_gives_up_after_max_attempts_naming_endpoint_and_status_not_key(openai_server):
    srv = openai_server([{"status": 503, "message": f"overloaded (key {KEY})"}] * 5)
    model = model_for(srv, retry_policy=RetryPolicy(max_attempts=3, base_delay=0.01))
    with pytest.raises(ModelError) as info:
        await run(model)
    message = str(info.value)
    assert "gave up after 3 attempts" in message
    assert f"{srv.base_url}/chat/completions" in message
    assert "503" in message and info.value.status == 503
    assert KEY not in message
    assert len(srv.requests) == 3


async def test_max_retries_argument(openai_server):
    srv = openai_server([{"status": 500}] * 3)
    with pytest.raises(ModelError, match="gave up after 2 attempts"):
        await run(model_for(srv, max_retries=1))


async def test_401_fails_at_once(openai_server):
    srv = openai_server([{"status": 401, "message": "Incorrect API key provided"}, {"text": "never"}])
    model = model_for(srv)
    with pytest.raises(ModelError) as info:
        await run(model)
    message = str(info.value)
    assert (
        info.value.status == 401
        and "Incorrect API key provided" in message
        and "check the API key" in message
    )
    assert info.value.endpoint == f"{srv.base_url}/chat/completions"
    assert KEY not in message
    assert len(srv.requests) == 1 and model.retries == []


async def test_404_names_the_endpoint(openai_server):
    srv = openai_server([])
    model = OpenAIChatModel("m", srv.base_url.removesuffix("/v1") + "/wrong", KEY, retry_policy=FAST)
    with pytest.raises(ModelError) as info:
        await run(model)
    assert info.value.status == 404 and "/wrong/chat/completions" in str(info.value)


async def test_connection_refused_gives_up_with_a_clear_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    model = OpenAIChatModel("m", f"http://127.0.0.1:{port}/v1", KEY, retry_policy=RetryPolicy(2, 0.01))
    with pytest.raises(ModelError) as info:
        await run(model)
    assert "gave up after 2 attempts" in str(info.value) and "connection failed" in str(info.value)
    assert f"127.0.0.1:{port}" in str(info.value)


async def test_base_url_without_scheme_fails_at_once():
    model = OpenAIChatModel("m", "localhost:1/v1", retry_policy=FAST)
    with pytest.raises(ModelError, match="http://"):
        await run(model)
    assert model.retries == []


async def test_non_streaming_answer_is_accepted(openai_server):
    srv = openai_server(
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


# ---------------------------------------------------------------- Qwen3-Coder XML left in content


async def test_xml_calls_left_in_content_are_recovered(openai_server):
    text = (
        "I'll read the file.\n<tool_call>\n<function=read_file>\n<parameter=path>\nsrc/main.py\n</parameter>\n"
        "<parameter=limit>\n40\n</parameter>\n</function>\n</tool_call>"
    )
    srv = openai_server([{"text": text, "chunk_size": 5}])
    turn, shown = await run(model_for(srv))
    assert [(c.name, c.arguments) for c in turn.tool_calls] == [
        ("read_file", {"path": "src/main.py", "limit": 40})
    ]
    assert turn.finish_reason == "tool_calls"
    assert turn.text.strip() == "I'll read the file."
    assert "<" not in "".join(shown) and "I'll read the file." in "".join(shown)


async def test_xml_is_left_alone_without_tools(openai_server):
    text = "<tool_call>\n<function=read_file>\n<parameter=path>\na\n</parameter>\n</function>\n</tool_call>"
    srv = openai_server([{"text": text}])
    turn, shown = await run(model_for(srv), tools=[])
    assert turn.text == text and turn.tool_calls == [] and "".join(shown) == text


# ---------------------------------------------------------------- event loops and the server as a process


def test_model_works_across_event_loops(openai_server):
    srv = openai_server([{"text": "one"}, {"text": "two"}])
    model = model_for(srv)
    assert asyncio.run(model.complete(USER, TOOLS)).text == "one"
    assert asyncio.run(model.complete(USER, TOOLS)).text == "two"


def test_server_runs_as_a_process_and_logs_requests(tmp_path):
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"steps": [{"text": "from a process"}]}))
    log = tmp_path / "requests.jsonl"
    command = [sys.executable, "-m", "swerve.testing.openai_server", "--script", str(script)]
    with subprocess.Popen([*command, "--requests-log", str(log)], stdout=subprocess.PIPE, text=True) as proc:
        try:
            line = proc.stdout.readline().strip()
            assert line.startswith("READY http://127.0.0.1:") and line.endswith("/v1")
            model = OpenAIChatModel("m", line.split()[1], KEY, retry_policy=FAST)
            first = asyncio.run(model.complete(USER, []))
            second = asyncio.run(model.complete(USER, []))
            assert (first.text, second.text) == ("from a process", "done")
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    entries = [json.loads(x) for x in log.read_text().splitlines()]
    assert len(entries) == 2
    assert entries[0]["path"] == "/v1/chat/completions" and entries[0]["json"]["messages"] == USER
    assert isinstance(entries[0]["time"], float) and entries[0]["time"] <= entries[1]["time"]


def test_server_cli_rejects_a_bad_script(tmp_path):
    script = tmp_path / "script.json"
    script.write_text("{not json")
    result = subprocess.run(
        [sys.executable, "-m", "swerve.testing.openai_server", "--script", str(script)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "cannot use script" in result.stderr


async def test_a_web_page_instead_of_an_api_fails_at_once():
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Page(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            body = b"<html><body>Welcome</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        model = OpenAIChatModel("m", f"http://127.0.0.1:{httpd.server_address[1]}", KEY, retry_policy=FAST)
        with pytest.raises(ModelError, match="check the base URL"):
            await run(model)
        assert model.retries == []
    finally:
        httpd.shutdown()
        httpd.server_close()


async def test_a_runaway_stream_is_cut_at_the_token_budget(openai_server):
    srv = openai_server([{"text": "la " * 5000, "chunk_size": 30}])  # a server that ignores max_tokens
    turn, _ = await run(model_for(srv, sampling=Sampling(max_tokens=100)), tools=[])
    assert turn.finish_reason == "length" and 800 <= len(turn.text) < 900

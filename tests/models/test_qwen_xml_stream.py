"""The Qwen3-Coder XML protocol: streaming parse, and the model wrapper over scripted and real servers."""

from __future__ import annotations

import json
import random

import pytest
from qwen_xml_tools import TOOLS, call_xml, summary

from swerve.models.base import Message, ModelTurn, Sampling, TextCallback, ToolSpec, Usage
from swerve.models.qwen_xml import QwenXMLModel, StreamParser, parse_tool_calls, render_call

# ---------------------------------------------------------------- streaming

STREAM_EXAMPLES = [
    "Plain answer with no calls.\n\nTwo paragraphs.",
    "  \n Let me check.\n\n" + call_xml("read_file", path="/a") + "\n",
    "Intro `<tool_call>` inline.\n```\n"
    + call_xml("read_file", path="/x")
    + "\n```\nThen:\n"
    + call_xml("read_file", path="/y")
    + "\nbye",
    "<function=read_file>\n<parameter=path>\n/bare\n</parameter>\n</function>",
    'a < b and c <tool_cal d <functio\n````\n~~~\n````\n<tool_call>\n{"name": "read_file", "arguments": {}}\n</tool_call>',
    "Text </tool_call> stray\n   ```py\n<function=x>\n   ```   \n"
    + call_xml("write_file", path="/p", content="</parameter>\nx"),
    "Dangling <tool_call> mention and more text after it.",
    "ends with a partial <tool_ca",
    "ends in a fence line ``",
]


def stream(text: str, cuts: list[int]) -> tuple[StreamParser, list[str]]:
    parser = StreamParser(TOOLS)
    pieces = []
    last = 0
    for cut in [*cuts, len(text)]:
        pieces.append(parser.feed(text[last:cut]))
        last = cut
    return parser, pieces


def check_stream(text: str, cuts: list[int]) -> None:
    expected_content, expected_calls = parse_tool_calls(text, TOOLS)
    parser, pieces = stream(text, cuts)
    content, calls = parser.finish()
    assert content == expected_content
    assert summary(calls) == summary(expected_calls)
    shown = "".join(pieces)
    assert shown == parser.shown
    assert content.startswith(shown)
    assert shown + parser.unshown(content) == content
    for markup in ("<tool_call>\n", "<function=read_file>", "</parameter>", "</tool_call>"):
        if markup in shown:
            assert markup in content  # only prose (e.g. fenced examples) may show tags


@pytest.mark.parametrize("text", STREAM_EXAMPLES)
def test_stream_every_single_split_point(text: str) -> None:
    for cut in range(len(text) + 1):
        check_stream(text, [cut])


@pytest.mark.parametrize("text", STREAM_EXAMPLES)
def test_stream_char_by_char_and_random_chunkings(text: str) -> None:
    check_stream(text, list(range(1, len(text))))
    rng = random.Random(1234)
    for _ in range(40):
        cuts = sorted(rng.sample(range(1, len(text)), k=min(len(text) - 1, rng.randint(1, 12))))
        check_stream(text, cuts)


def test_stream_shows_prose_before_the_call_as_it_arrives() -> None:
    parser = StreamParser(TOOLS)
    assert parser.feed("Hello") == "Hello"
    assert parser.feed(" there \n") == " there"
    assert parser.feed("<tool") == ""
    assert parser.feed("_call>\n<function=read_file>") == ""
    assert parser.feed("\nmore") == ""
    assert parser.shown == "Hello there"


def test_stream_holds_back_possible_tags_then_releases_them() -> None:
    parser = StreamParser(TOOLS)
    assert parser.feed("a <func") == "a"
    assert parser.feed("tional style") == " <functional style"


# ---------------------------------------------------------------- the model wrapper


class ScriptedEndpoint:
    """A stand-in for a raw chat endpoint: streams scripted replies in small chunks and records
    the messages it was sent (a test double of the remote side, not of swerve code)."""

    name = "scripted-qwen"
    context_window = 32_768

    def __init__(self, replies: list[tuple[str, str]], chunk: int = 3, stream_text: bool = True) -> None:
        self.replies = list(replies)
        self.chunk = chunk
        self.stream_text = stream_text
        self.received: list[tuple[list[Message], list[ToolSpec], Sampling | None]] = []
        self.closed = False

    async def complete(
        self,
        messages: list[Message],
        tools: list[ToolSpec],
        *,
        sampling: Sampling | None = None,
        on_text: TextCallback | None = None,
    ) -> ModelTurn:
        self.received.append((messages, tools, sampling))
        text, finish = self.replies.pop(0)
        if on_text is not None and self.stream_text:
            for i in range(0, len(text), self.chunk):
                on_text(text[i : i + self.chunk])
        return ModelTurn(text=text, usage=Usage(10, 5), finish_reason=finish)

    async def aclose(self) -> None:
        self.closed = True


async def test_qwen_xml_model_turns_text_into_calls() -> None:
    reply = "I'll read it.\n\n" + call_xml("read_file", path="/a.py", offset="2") + "\n"
    inner = ScriptedEndpoint([(reply, "stop"), ("All done.", "stop")])
    model = QwenXMLModel(inner)
    assert model.name == "scripted-qwen" and model.context_window == 32_768
    seen: list[str] = []
    history: list[Message] = [{"role": "system", "content": "sys"}, {"role": "user", "content": "read a.py"}]
    turn = await model.complete(history, TOOLS, sampling=Sampling(temperature=0.7), on_text=seen.append)
    sent, sent_tools, sampling = inner.received[0]
    assert sent_tools == [] and sampling == Sampling(temperature=0.7)
    assert sent[0]["content"].startswith("sys\n\n# Tools")
    assert turn.finish_reason == "tool_calls"
    assert turn.text == "I'll read it."
    assert "".join(seen) == "I'll read it."
    assert summary(turn.tool_calls) == [("read_file", {"path": "/a.py", "offset": 2}, None)]
    assert turn.usage == Usage(10, 5)

    history += [turn.message(), {"role": "tool", "tool_call_id": turn.tool_calls[0].id, "content": "x = 1"}]
    seen.clear()
    final = await model.complete(history, TOOLS, on_text=seen.append)
    sent = inner.received[1][0]
    assert sent[2]["content"] == reply  # what the model wrote goes back as it was, not a rendering
    assert sent[3] == {"role": "user", "content": "<tool_response>\nx = 1\n</tool_response>"}
    assert (final.text, final.tool_calls, final.finish_reason) == ("All done.", [], "stop")
    assert "".join(seen) == "All done."
    await model.aclose()
    assert inner.closed


async def test_qwen_xml_model_flushes_prose_after_calls_and_unstreamed_text() -> None:
    reply = "Before.\n" + call_xml("read_file", path="/a") + "\nAfter."
    for stream_text in (True, False):
        seen: list[str] = []
        turn = await QwenXMLModel(ScriptedEndpoint([(reply, "stop")], stream_text=stream_text)).complete(
            [{"role": "user", "content": "x"}], TOOLS, on_text=seen.append
        )
        assert turn.text == "Before.\n\nAfter."
        assert "".join(seen) == turn.text


async def test_qwen_xml_model_marks_a_call_cut_by_the_token_limit() -> None:
    reply = (
        "<tool_call>\n<function=write_file>\n<parameter=path>\n/a\n</parameter>\n<parameter=content>\nhalf"
    )
    turn = await QwenXMLModel(ScriptedEndpoint([(reply, "length")])).complete(
        [{"role": "user", "content": "x"}], TOOLS
    )
    assert turn.finish_reason == "length"  # the server's reason stands: a cut-off call is not a complete one
    assert turn.tool_calls[0].error and "output token limit" in turn.tool_calls[0].error
    # the same text with a normal stop is accepted as the reference parsers do
    turn = await QwenXMLModel(ScriptedEndpoint([(reply, "stop")])).complete(
        [{"role": "user", "content": "x"}], TOOLS
    )
    assert turn.tool_calls[0].error is None


def test_render_call_matches_history_rendering() -> None:
    assert render_call("f", {"a": 1, "b": "x", "c": [1], "d": None, "e": True}) == (
        "<tool_call>\n<function=f>\n<parameter=a>\n1\n</parameter>\n<parameter=b>\nx\n</parameter>\n"
        "<parameter=c>\n[1]\n</parameter>\n<parameter=d>\nnull\n</parameter>\n<parameter=e>\ntrue\n</parameter>\n"
        "</function>\n</tool_call>"
    )
    assert json.loads(render_call("f", {"c": {"k": "日本"}}).split("\n")[3]) == {"k": "日本"}


# ---------------------------------------------------------------- end to end over a real server


async def test_qwen_xml_model_over_a_loopback_openai_server() -> None:
    from swerve.models.openai_chat import OpenAIChatModel
    from swerve.testing.openai_server import OpenAIScriptServer

    reply = "Let me look.\n\n" + call_xml("todo_write", todos="[{'id': '1', 'content': 'read'}]") + "\n"
    script = [{"text": reply, "chunk_size": 4}, {"text": "All **done**.", "chunk_size": 2}]
    with OpenAIScriptServer(script) as server:
        model = QwenXMLModel(OpenAIChatModel("Qwen3-Coder-30B-A3B-Instruct", server.base_url, "k"))
        seen: list[str] = []
        history: list[Message] = [{"role": "user", "content": "plan it"}]
        turn = await model.complete(history, TOOLS, on_text=seen.append)
        assert turn.finish_reason == "tool_calls"
        assert turn.text == "Let me look." == "".join(seen)
        assert summary(turn.tool_calls) == [("todo_write", {"todos": [{"id": "1", "content": "read"}]}, None)]

        history += [
            turn.message(),
            {"role": "tool", "tool_call_id": turn.tool_calls[0].id, "content": "saved"},
        ]
        final = await model.complete(history, TOOLS)
        assert (final.text, final.tool_calls) == ("All **done**.", [])
        await model.aclose()

        first, second = (r.json for r in server.requests)
        assert not first.get("tools")
        assert first["messages"][0]["role"] == "system"
        assert first["messages"][0]["content"].startswith("# Tools")
        # what the model wrote goes back as it wrote it (single quotes and all), not re-rendered
        assert second["messages"][2]["content"] == turn.raw_text
        assert "[{'id': '1', 'content': 'read'}]" in turn.raw_text
        assert second["messages"][3] == {
            "role": "user",
            "content": "<tool_response>\nsaved\n</tool_response>",
        }
        assert all(isinstance(m["content"], str) for m in second["messages"])


async def test_generated_malformed_replies_over_a_loopback_server() -> None:
    from swerve.models.openai_chat import OpenAIChatModel
    from swerve.testing.malformed import DEFAULT_TOOLS, generate_malformed_calls
    from swerve.testing.openai_server import OpenAIScriptServer

    cases = [c for c in generate_malformed_calls(84, seed=5) if c["xml"] and len(c["xml"]) < 20_000]
    assert len(cases) > 60
    script = [{"text": c["xml"], "chunk_size": 7} for c in cases]
    with OpenAIScriptServer(script) as server:
        model = QwenXMLModel(OpenAIChatModel("qwen3-coder", server.base_url, "k"))
        for case in cases:
            turn = await model.complete([{"role": "user", "content": "go"}], DEFAULT_TOOLS)
            assert (turn.text, summary(turn.tool_calls)) == _parsed_summary(case["xml"], DEFAULT_TOOLS)
            assert turn.finish_reason == ("tool_calls" if turn.tool_calls else "stop")
        await model.aclose()


def _parsed_summary(text: str, tools: list[ToolSpec]) -> tuple[str, list[tuple]]:
    content, calls = parse_tool_calls(text, tools)
    return content, summary(calls)

"""Hundreds of generated malformed tool calls: each gives calls (maybe with an error) or content,
never an exception; JSON arguments decode to a dict or fail with a clear ValueError."""

from __future__ import annotations

import json
import random
import re
from collections import Counter

import pytest

from swerve.models.arguments import decode_arguments
from swerve.models.base import ToolCall
from swerve.models.qwen_xml import StreamParser, parse_tool_calls
from swerve.testing.malformed import DEFAULT_TOOLS, generate_malformed_calls

N_CASES = 630
CASES = generate_malformed_calls(N_CASES, seed=20250722)
SPECS = {t.name: t for t in DEFAULT_TOOLS}
CALL_ID = re.compile(r"^call_[0-9a-f]{24}$")


def by_kind(kind: str) -> list[dict]:
    return [c for c in CASES if c["kind"] == kind]


def schema_of(name: str) -> dict | None:
    spec = SPECS.get(name)
    return spec.parameters if spec else None


def check_call(call: ToolCall) -> None:
    assert CALL_ID.match(call.id)
    assert isinstance(call.name, str)
    assert isinstance(call.arguments, dict)
    json.dumps(call.arguments)  # arguments must be storable in history and trajectories
    if call.error is not None:
        assert call.error.strip()
        assert len(call.error) < 2000


def test_generator_is_deterministic_and_covers_every_kind() -> None:
    assert generate_malformed_calls(50, seed=3) == generate_malformed_calls(50, seed=3)
    assert generate_malformed_calls(50, seed=3) != generate_malformed_calls(50, seed=4)
    kinds = Counter(c["kind"] for c in CASES)
    assert len(kinds) == 21
    assert min(kinds.values()) >= 25
    for case in CASES:
        assert set(case) == {"kind", "xml", "openai"}
        assert case["xml"] is None or isinstance(case["xml"], str)
        if case["openai"] is not None:
            assert set(case["openai"]) == {"name", "arguments"}
            assert isinstance(case["openai"]["arguments"], str)
    assert sum(c["xml"] is not None for c in CASES) >= 500
    assert sum(c["openai"] is not None for c in CASES) >= 500


@pytest.mark.parametrize("index", [i for i, c in enumerate(CASES) if c["xml"] is not None])
def test_xml_case_never_raises(index: int) -> None:
    case = CASES[index]
    content, calls = parse_tool_calls(case["xml"], DEFAULT_TOOLS)
    assert isinstance(content, str)
    for call in calls:
        check_call(call)
    if case["xml"].strip():
        assert calls or content


@pytest.mark.parametrize("index", [i for i, c in enumerate(CASES) if c["openai"] is not None])
def test_openai_case_decodes_or_fails_clearly(index: int) -> None:
    case = CASES[index]
    raw, schema = case["openai"]["arguments"], schema_of(case["openai"]["name"])
    try:
        args = decode_arguments(raw, schema)
    except ValueError as exc:
        message = str(exc)
        assert message.strip() and len(message) < 800
        assert case["kind"] not in {
            "python_repr",
            "trailing_comma",
            "double_encoded",
            "unknown_tool",
            "unicode",
            "missing_wrapper",
            "missing_param_close",
        }
    else:
        assert isinstance(args, dict)
        json.dumps(args)
        assert case["kind"] not in {"bad_json", "non_object_json"}


def test_fenced_examples_never_run() -> None:
    for case in by_kind("fenced_example"):
        content, calls = parse_tool_calls(case["xml"], DEFAULT_TOOLS)
        assert calls == []
        assert content == case["xml"].strip()


def test_bad_names_always_carry_an_error() -> None:
    for case in by_kind("invalid_name"):
        _, calls = parse_tool_calls(case["xml"], DEFAULT_TOOLS)
        assert calls and all(c.error for c in calls)


def test_recoverable_shapes_give_exactly_the_intended_call() -> None:
    for kind in (
        "missing_wrapper",
        "missing_param_close",
        "missing_required",
        "tags_in_value",
        "huge_value",
        "unicode",
    ):
        for case in by_kind(kind):
            _, calls = parse_tool_calls(case["xml"], DEFAULT_TOOLS)
            assert len(calls) == 1, (kind, case["xml"][:300])
            assert calls[0].error is None
            if case["openai"] is not None:
                assert calls[0].name == case["openai"]["name"]
                assert calls[0].arguments == json.loads(case["openai"]["arguments"])


def test_unknown_tools_are_returned_for_the_registry_to_report() -> None:
    for case in by_kind("unknown_tool"):
        _, calls = parse_tool_calls(case["xml"], DEFAULT_TOOLS)
        assert [c.name for c in calls] == [case["openai"]["name"]]
        assert calls[0].error is None


def test_streaming_any_chunking_matches_whole_text_parse() -> None:
    rng = random.Random(99)
    for case in CASES:
        text = case["xml"]
        if not text or len(text) > 5000:
            continue
        content, calls = parse_tool_calls(text, DEFAULT_TOOLS)
        parser = StreamParser(DEFAULT_TOOLS)
        cuts = sorted(rng.sample(range(len(text) + 1), k=min(len(text) + 1, rng.randint(1, 30))))
        last, shown = 0, []
        for cut in [*cuts, len(text)]:
            shown.append(parser.feed(text[last:cut]))
            last = cut
        got_content, got_calls = parser.finish()
        assert got_content == content
        assert [(c.name, c.arguments, c.error) for c in got_calls] == [
            (c.name, c.arguments, c.error) for c in calls
        ]
        assert content.startswith("".join(shown))


ADVERSARIAL = {
    "unbalanced nested openers": "<function=write_file>\n" + "<parameter=content>\n<function=x>\n" * 3000,
    "many prose mentions": "<tool_call> word " * 10_000,
    "wrappers with junk": "<tool_call>\njunk\n" * 10_000,
    "closing tag candidates": "<function=write_file>\n<parameter=content>\n" + "</parameter>\nx\n" * 10_000,
    "angle soup": "<" * 100_000,
    "fence lines": "```\n" * 50_000 + "<function=read_file>",
    "deep json in wrapper": "<tool_call>\n" + "{" * 50_000,
    "deep json arguments": '<tool_call>\n{"name": "todo_write", "arguments": '
    + "[" * 50_000
    + "\n</tool_call>",
    "deep literal value": "<function=todo_write>\n<parameter=todos>\n" + "[" * 50_000 + "\n</parameter>",
    "many calls": "<tool_call>\n<function=read_file>\n<parameter=path>\n/a\n</parameter>\n</function>\n</tool_call>\n"
    * 3000,
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_adversarial_replies_parse_without_error(name: str) -> None:
    text = ADVERSARIAL[name]
    content, calls = parse_tool_calls(text, DEFAULT_TOOLS)
    assert calls or content
    for call in calls:
        check_call(call)
    parser = StreamParser(DEFAULT_TOOLS)
    for i in range(0, len(text), 4096):
        parser.feed(text[i : i + 4096])
    streamed_content, streamed_calls = parser.finish()
    assert streamed_content == content and len(streamed_calls) == len(calls)

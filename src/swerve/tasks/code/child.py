"""What runs in the verifier's children: one candidate's job, under its limits (standard library only).

Imported by ``server.py`` from beside it in the sandbox. A job's child writes what the candidate
computed (never a verdict) as framed JSON messages to a pipe. ``serve_jobs`` is the child that runs
many jobs one after another (``server.py --reuse N``): it reports after each whether the job left
a trace (``_Watch``), and ends when one did.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from typing import Any

if __package__:
    from swerve.tasks.code.codec import Unencodable, decode, encode
else:  # in the sandbox, imported from beside the codec
    from codec import Unencodable, decode, encode  # type: ignore[no-redef]

FLUSH_S = 0.002  # a child's messages wait at most this long for company


# -- one candidate ---------------------------------------------------------------


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


def _detach(keep: tuple[int, ...], limits: dict[str, Any], workdir: str, cpu_s: int) -> None:
    """A child's start: its own session, only the ``keep`` descriptors, its limits, the workdir."""
    import resource

    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    low = 3  # the server's standard output, devnull (0, 1 and 2 keep it), the rest
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 16)
    for name, value in (
        ("RLIMIT_AS", limits.get("memory_mb", 512) << 20),
        ("RLIMIT_CPU", cpu_s),
        ("RLIMIT_FSIZE", limits.get("file_mb", 1) << 20),
    ):
        try:
            resource.setrlimit(getattr(resource, name), (value, value))
        except (ValueError, OSError):
            pass
    os.chdir(workdir)


def _sender(wfd: int) -> tuple[Any, Any]:
    """``send(message)`` and ``flush()`` for a child's framed messages to ``wfd``."""
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

    return send, flush


def _guarded(job: dict[str, Any], send: Any) -> None:
    try:
        _run_job(job, send)
    except BaseException as exc:  # anything raised outside a test fails the whole job
        try:
            send({"error": _describe(exc)})
        except BaseException:
            pass


def run_child(job: dict[str, Any], wfd: int, workdir: str) -> None:
    """Run ``job`` and write its messages to ``wfd``; never returns."""
    limits = job.get("limits", {})
    _detach((wfd,), limits, workdir, limits.get("cpu_s", 10))
    send, flush = _sender(wfd)
    _guarded(job, send)
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


# -- a child that runs many jobs -----------------------------------------------------------------

# audit events after which a child is not reused: reaching into the interpreter (frames, objects,
# memory, audit hooks, tracing), starting processes or threads, changing the process's environment
TAINTING = (
    "ctypes.", "sys._getframe", "sys._current_frames", "sys.addaudithook", "sys.settrace",
    "sys.setprofile", "gc.get_", "object.__setattr__", "object.__delattr__", "object.__getattr__",
    "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.exec", "os.system", "os.kill",
    "subprocess.", "pty.", "os.putenv", "os.unsetenv", "os.chdir", "os.fchdir", "os.chroot",
    "os.setuid", "os.setgid", "socket.", "_thread.", "function.__new__", "code.__new__",
    "signal.", "resource.setrlimit", "sys.setrecursionlimit", "os.umask",
)  # fmt: skip


class _Watch:
    """What tells a shared child that a job left a trace for the next: audit events raised while the
    job ran (``TAINTING``), and a fingerprint of what a later candidate would see: every module's
    and Python class's namespace, the module table, interpreter settings and hooks, signal
    handlers, masks and timers, threads, open descriptors and the working directory."""

    def __init__(self) -> None:
        import signal

        self.armed = self.tainted = False
        self.signals = sorted(set(signal.valid_signals()) - {signal.SIGKILL, signal.SIGSTOP})
        modules = [m for m in list(sys.modules.values()) if getattr(m, "__dict__", None)]
        mutable_classes = {  # classes written in Python: their namespaces can change in place
            id(v): v
            for m in modules
            for v in list(vars(m).values())
            if isinstance(v, type) and not v.__flags__ & (1 << 8)
        }
        self.namespaces = [m.__dict__ for m in modules] + [c.__dict__ for c in mutable_classes.values()]
        self.copies = [dict(d) for d in self.namespaces]
        self.module_names = set(sys.modules)
        self.baseline = self._state()
        sys.addaudithook(self._audit)

    def _audit(self, event: str, args: tuple[Any, ...]) -> None:
        if self.armed and event.startswith(TAINTING):
            self.tainted = True

    def _state(self) -> tuple[Any, ...]:
        """Plain values only (ints, floats, strings; objects by id), so nothing here can lie."""
        import signal

        ids = lambda items: tuple(map(id, items))  # noqa: E731
        return (
            sys.getrecursionlimit(), sys.getswitchinterval(), id(sys.gettrace()),
            id(sys.getprofile()), gc.isenabled(), gc.get_threshold(), ids(gc.callbacks),
            ids(sys.path), ids(sys.meta_path), ids(sys.path_hooks), ids(sys.modules.values()),
            id(sys.excepthook), id(sys.displayhook), id(sys.unraisablehook), os.getcwd(),
            ids(map(signal.getsignal, self.signals)), signal.getitimer(signal.ITIMER_REAL),
            signal.getitimer(signal.ITIMER_VIRTUAL), signal.getitimer(signal.ITIMER_PROF),
            tuple(sorted(map(int, signal.pthread_sigmask(signal.SIG_BLOCK, ())))),
            tuple(sorted(map(int, signal.sigpending()))), len(os.listdir("/proc/self/task")),
            tuple(os.listdir("/proc/self/fd")),
        )  # fmt: skip

    def clean(self) -> bool:
        """Whether the process is as it was; forgets modules a job imported (the next imports anew)."""
        import operator

        for name in set(sys.modules) - self.module_names:
            del sys.modules[name]
        if self.tainted:
            return False
        # the namespaces compare in C; Python code runs only if a value put there has its own
        # __eq__ (one that might claim to equal what it replaced): the profile hook sees that
        called: list[str] = []
        sys.setprofile(lambda frame, event, arg: called.append(event) if event == "call" else None)
        try:
            same = all(map(operator.eq, self.namespaces, self.copies))
        finally:
            sys.setprofile(None)
        return same and not called and self._state() == self.baseline


def serve_jobs(jobs_fd: int, wfd: int, workdir: str, limits: dict[str, Any]) -> None:
    """A shared child: run framed jobs from ``jobs_fd`` until one leaves a trace; never returns."""
    import random
    import resource

    cpu_s = int(limits.get("cpu_s", 10))
    _detach((jobs_fd, wfd), limits, workdir, resource.RLIM_INFINITY)
    streams, rng_state = (sys.stdin, sys.stdout, sys.stderr), random.getstate()
    watch = _Watch()
    growth = 64 << 20  # bytes of resident memory a child may gain before it makes way
    rss = _rss()
    while True:
        head = _read_exact(jobs_fd, 4)
        if head is None:
            os._exit(0)
        body = _read_exact(jobs_fd, int.from_bytes(head, "big"))
        if body is None:
            os._exit(0)
        job = json.loads(body)
        used = resource.getrusage(resource.RUSAGE_SELF)
        soft = int(used.ru_utime + used.ru_stime) + cpu_s
        resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.RLIM_INFINITY))
        send, flush = _sender(wfd)
        heavy = [False]

        def relay(message: dict[str, Any], send: Any = send, heavy: list[bool] = heavy) -> None:
            if str(message.get("raised", "")).startswith(("MemoryError", "RecursionError")):
                heavy[0] = True
            send(message)

        older = _older_collections()
        watch.armed = True
        _guarded(job, relay)
        watch.armed = False
        del job
        sys.stdin, sys.stdout, sys.stderr = streams
        random.setstate(rng_state)
        # The job's garbage goes now, finalizers and all, never into the next job. While no
        # collection promoted anything to the oldest generation, all it made is in the younger two.
        gc.collect(1 if _older_collections() == older else 2)
        clean = not heavy[0] and watch.clean() and _rss() < rss + growth
        send({"end": clean})
        flush()
        if not clean:
            os._exit(0)


def _read_exact(fd: int, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = os.read(fd, n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _older_collections() -> tuple[int, int]:
    """How many collections of generations 1 and 2 have run (the ones that promote objects)."""
    stats = gc.get_stats()
    return stats[1]["collections"], stats[2]["collections"]


def _rss() -> int:
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

"""Start, or reuse, a local model server for a model file, and stop only what was started here.

    async with local_server("model.gguf", alias="qwen") as srv:
        srv.base_url            # http://127.0.0.1:PORT/v1

    with LocalServer("model.gguf").start() as srv:   # the same, for synchronous callers
        ...

A server already running for the same file (its state file under ``cache_root()/local/servers/``,
its process alive, its ``/health`` and ``/props`` agreeing) is reused and left running. Otherwise
one is started in its own process group on a free port (or the given one: a taken port is a
clear error naming it), with a "loading model" note while it loads; on exit, or if this process
goes away, the whole group is stopped. A server that dies is reported with the tail of its log.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import fcntl
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from swerve.errors import LocalModelError
from swerve.local.state import pid_alive, read_state, remove_state, servers_dir, state_path

_READY = re.compile(r"ready: (http://\S+?)/v1\b")


class LocalServerError(LocalModelError):
    """The local server could not be started, or it died; the message says why."""


def _get_json(url: str, timeout: float = 2.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def _answers(url: str, model_path: str) -> bool:
    try:
        props = _get_json(url + "/props")
        return _get_json(url + "/health").get("status") == "ok" and props.get("model_path") == model_path
    except (OSError, ValueError, AttributeError):
        return False


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        # as the server binds: a port whose last connections are in TIME_WAIT is free for it
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


class LocalServer:
    """A handle on a local server for one model file; :meth:`start` starts or reuses it."""

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        *,
        alias: str | None = None,
        port: int | None = None,
        host: str = "127.0.0.1",
        ctx: int | None = None,
        parallel: int | None = None,
        threads: int | None = None,
        startup_timeout_s: float = 300.0,
        reuse: bool = True,
        note: Callable[[str], None] | None = None,
    ) -> None:
        self.model_path = str(Path(model_path).expanduser().resolve())
        self.alias = alias or Path(self.model_path).stem
        self.port = port
        self.host = host
        self.ctx = ctx
        self.parallel = parallel
        self.threads = threads
        self.startup_timeout_s = startup_timeout_s
        self.reuse = reuse
        self.note = note or (lambda text: print(text, file=sys.stderr, flush=True))
        self.url = ""
        self.started = False  # True when this handle started the process (and so stops it)
        self.process: subprocess.Popen[str] | None = None
        self._log: collections.deque[str] = collections.deque(maxlen=40)
        self._readers: list[threading.Thread] = []

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    # ----- start or reuse -----
    def start(self) -> LocalServer:
        if not Path(self.model_path).is_file():
            raise LocalServerError(f"model file not found: {self.model_path}")
        servers_dir().mkdir(parents=True, exist_ok=True)
        lock_path = state_path(self.model_path).with_suffix(".lock")
        with open(lock_path, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.reuse and self._try_reuse():
                return self
            self._spawn()
        return self

    def _try_reuse(self) -> bool:
        record = read_state(self.model_path)
        if record is None:
            return False
        url = str(record.get("url", ""))
        fits = self.port in (None, record.get("port")) and record.get("alias") == self.alias
        if pid_alive(record.get("pid")) and url and _answers(url, self.model_path):
            if not fits:
                return False
            self.url = url
            self.note(f"using the local model server already running at {url}/v1")
            return True
        remove_state(self.model_path)  # stale: its process is gone or does not answer
        return False

    def _command(self, port: int) -> list[str]:
        cmd = [
            sys.executable,
            "-m",
            "swerve.local.server",
            "--model",
            self.model_path,
            "--host",
            self.host,
            "--port",
            str(port),
            "--alias",
            self.alias,
            "--exit-with",
            str(os.getpid()),
        ]
        for flag, value in (("--ctx", self.ctx), ("--parallel", self.parallel), ("--threads", self.threads)):
            if value:
                cmd += [flag, str(value)]
        return cmd

    def _spawn(self) -> None:
        if self.port and not port_free(self.host, self.port):
            raise LocalServerError(f"port {self.port} on {self.host} is in use; choose another with --port")
        self.note(
            f"loading model {Path(self.model_path).name} (a local server starts; this takes a few seconds)"
        )
        self.process = subprocess.Popen(
            self._command(self.port or 0),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        self.started = True
        ready: list[str] = []
        got_ready = threading.Event()
        self._readers = [
            threading.Thread(target=self._drain, args=(self.process.stdout, ready, got_ready), daemon=True),
            threading.Thread(target=self._drain, args=(self.process.stderr, None, None), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        deadline = time.monotonic() + self.startup_timeout_s
        while not got_ready.wait(0.05):
            if self.process.poll() is not None:
                self._readers[0].join(1.0)
                if got_ready.is_set():
                    break
                self.stop()
                raise LocalServerError(
                    f"the local model server exited with code {self.process.returncode} "
                    f"before it was ready:\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise LocalServerError(
                    f"the local model server was not ready after {self.startup_timeout_s:.0f} s:"
                    f"\n{self.log_tail()}"
                )
        self.url = ready[0]

    def _drain(self, stream: Any, ready: list[str] | None, got_ready: threading.Event | None) -> None:
        for line in stream:
            self._log.append(line.rstrip("\n"))
            if ready is not None and got_ready is not None and not got_ready.is_set():
                match = _READY.search(line)
                if match:
                    ready.append(match.group(1))
                    got_ready.set()

    def log_tail(self) -> str:
        return "\n".join(self._log) or "(no output)"

    # ----- health -----
    def alive(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        record = read_state(self.model_path)
        return bool(record and pid_alive(record.get("pid")))

    def check(self) -> None:
        """Raise :class:`LocalServerError` (with its log) if the server has died."""
        if not self.alive():
            code = self.process.returncode if self.process is not None else "unknown"
            raise LocalServerError(
                f"the local model server at {self.url} is gone (exit code {code}):\n{self.log_tail()}"
            )

    # ----- stop -----
    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the server if this handle started it (its whole process group); else do nothing."""
        process = self.process
        if process is None or not self.started:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # anything left in its group
        for reader in self._readers:
            reader.join(2.0)
        remove_state(self.model_path, process.pid)
        self.started = False

    def __enter__(self) -> LocalServer:
        if not self.url:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.asynccontextmanager
async def local_server(
    model_path: str | os.PathLike[str], *, alias: str | None = None, port: int | None = None, **options: Any
) -> AsyncIterator[LocalServer]:
    """Async form of :class:`LocalServer`: start or reuse on entry, stop what was started on exit."""
    import asyncio

    server = LocalServer(model_path, alias=alias, port=port, **options)
    await asyncio.to_thread(server.start)
    try:
        yield server
    finally:
        await asyncio.to_thread(server.stop)


_shared: dict[str, LocalServer] = {}


def shared_server(model_path: str | os.PathLike[str], *, alias: str, parallel: int = 2) -> LocalServer:
    """The server this process uses for ``model_path`` (``--model local``): started or reused once,
    and, when this process started it, stopped when the process exits (the server also stops by
    itself if this process dies)."""
    key = str(Path(model_path).expanduser().resolve())
    server = _shared.get(key)
    if server is not None and server.url and (not server.started or server.alive()):
        return server
    server = LocalServer(key, alias=alias, parallel=parallel, ctx=32768 * max(1, parallel)).start()
    _shared[key] = server
    if server.started:
        import atexit

        atexit.register(server.stop)
    return server

"""Commands started through the namespace launcher: one bounded output stream, background jobs.

stdout and stderr of a sandboxed command share one pipe, read on the event loop into a buffer
that keeps the head and the tail (``swerve.sandbox.host.OutputBuffer``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

from swerve.sandbox.ns import launcher as ns_launcher
from swerve.sandbox.ns.launcher import Launched
from swerve.sandbox.output import OutputBuffer, PipeReader
from swerve.sandbox.proctree import kill_tree

DRAIN_GRACE_S = 0.3  # how long to read on after a command exited, while something it left holds the pipe


def exit_code(wait_status: int) -> int:
    code = os.waitstatus_to_exitcode(wait_status)
    return 128 - code if code < 0 else code


class StartedCommand:
    """A launcher whose stdout and stderr flow into one bounded buffer."""

    def __init__(self, launched: Launched, reader: PipeReader, transport: asyncio.BaseTransport) -> None:
        self.launched = launched
        self.reader = reader
        self.transport = transport

    @classmethod
    async def start(
        cls, argv: list[str], env: dict[str, str], stdin: bytes | None, limit: int
    ) -> StartedCommand:
        stdin_fd = ns_launcher.memfd_with(stdin) if stdin else os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
        try:
            launched = Launched.spawn(argv, env, stdin=stdin_fd, stdout=write_fd, stderr=write_fd)
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
            os.close(stdin_fd)
        reader = PipeReader(OutputBuffer(limit))
        pipe = os.fdopen(read_fd, "rb", buffering=0)
        transport, _ = await asyncio.get_running_loop().connect_read_pipe(lambda: reader, pipe)
        return cls(launched, reader, transport)

    async def drain(self, grace: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.reader.done), grace)
        self.transport.close()

    def close(self) -> None:
        self.transport.close()
        self.launched.close()


class NamespaceJob:
    """A background command in a persistent sandbox (``NamespaceWorkspace.spawn``)."""

    def __init__(self, job_id: str, command: str, started: StartedCommand, tag: str) -> None:
        self.id = job_id
        self.command = command
        self._started = started
        self._tag = tag
        self._finished = False
        self._waiter = asyncio.ensure_future(self._wait())

    async def _wait(self) -> None:
        await self._started.launched.wait()
        # the output it printed before exiting arrives a moment after the exit itself
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._started.reader.done), DRAIN_GRACE_S)
        self._finished = True
        await self._started.reader.done  # what it left running may still write
        self._started.close()

    def output(self) -> str:
        return self._started.reader.buffer.text()

    def returncode(self) -> int | None:
        launched = self._started.launched
        if launched.returncode is None or not self._finished:
            return None
        status = launched.read_status().wait_status
        return exit_code(status) if status is not None else -1

    async def kill(self) -> None:
        """Kill the job and everything it started, wherever it was reparented."""
        await stop_entered(self._started.launched, self._tag)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._waiter), 2 * DRAIN_GRACE_S + 2)
        self._finished = True
        self._started.close()


async def stop_entered(launched: Launched, tag: str) -> None:
    """Kill an entered command's tree inside the sandbox (found by parentage and by its tag).

    The launcher itself is left to reap its child and exit: were it killed first, the child
    would be reparented outside the sandbox's pid namespace and linger there as a zombie."""
    child = launched.read_status().pid
    kill_tree(child, tag)
    try:
        await launched.wait(5.0)
    except TimeoutError:
        launched.signal(signal.SIGKILL)
        await launched.wait()

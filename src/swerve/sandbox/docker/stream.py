"""A started exec's output, read over asyncio: attaching to it, demultiplexing its frames into one
bounded buffer, and the exit code the wrapper reports."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from typing import Any

from swerve.errors import SandboxError
from swerve.sandbox.docker.api import DRAIN_MAX_S, SENTINEL, STDERR_KEEP, Endpoint
from swerve.sandbox.output import DRAIN_GRACE_S

# -- command streams ----------------------------------------------------------------------------


class Sink:
    """Where an exec's frames go: stdout into ``out``, stderr kept apart for the wrapper's report."""

    def __init__(self, out: Any) -> None:
        self.out = out  # OutputBuffer or io.BytesIO
        self.err = bytearray()
        self.exit_code: int | None = None
        self.exited = asyncio.Event()
        self.last_data = time.monotonic()

    def frame(self, stream: int, payload: bytes) -> None:
        self.last_data = time.monotonic()
        if stream != 2:
            self.out.write(payload)
            return
        self.err += payload
        if len(self.err) > STDERR_KEEP:
            del self.err[: len(self.err) - STDERR_KEEP]
        for match in SENTINEL.finditer(self.err):
            self.exit_code = int(match.group(1))
        if self.exit_code is not None:
            self.exited.set()

    def message(self) -> str:
        """What the script printed on stderr, without the wrapper's report."""
        return SENTINEL.sub(b"", bytes(self.err)).decode("utf-8", "replace").strip()


async def pump(reader: asyncio.StreamReader, sink: Sink) -> None:
    """Read multiplexed frames (8-byte header: stream, 3 zero bytes, big-endian length) to EOF."""
    while True:
        try:
            header = await reader.readexactly(8)
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise SandboxError("the Docker daemon ended a command's stream mid-frame") from exc
            return
        size = int.from_bytes(header[4:8], "big")
        try:
            payload = await reader.readexactly(size) if size else b""
        except asyncio.IncompleteReadError as exc:
            sink.frame(header[0], exc.partial)
            return
        sink.frame(header[0], payload)


async def attach(endpoint: Endpoint, exec_id: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Start a created exec and take over the connection that carries its output."""
    body = b'{"Detach":false,"Tty":false}'
    request = (
        f"POST /v{endpoint.version}/exec/{exec_id}/start HTTP/1.1\r\n"
        "Host: docker\r\nContent-Type: application/json\r\n"
        "Connection: Upgrade\r\nUpgrade: tcp\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    reader, writer = await endpoint.connect()
    try:
        writer.write(request + body)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        parts = head.split(b" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        if status in (101, 200):
            return reader, writer
        detail = await _error_body(reader, head)
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
        writer.close()
        raise SandboxError(f"docker: starting a command failed: {exc}") from exc
    except BaseException:
        writer.close()
        raise
    writer.close()
    raise SandboxError(f"docker: starting a command failed ({status}): {detail}")


async def _error_body(reader: asyncio.StreamReader, head: bytes) -> str:
    match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    try:
        if match:
            data = await asyncio.wait_for(reader.readexactly(min(int(match.group(1)), 1 << 16)), 2.0)
        else:
            data = await asyncio.wait_for(reader.read(1 << 16), 2.0)
    except (TimeoutError, asyncio.IncompleteReadError, OSError):
        return "(no detail)"
    with contextlib.suppress(ValueError, KeyError, TypeError):
        return str(json.loads(data)["message"])
    return data.decode("utf-8", "replace").strip()


class Run:
    """One started exec: its stream, the task that reads it, and the tag of its processes."""

    def __init__(self, exec_id: str, tag: str, writer: asyncio.StreamWriter, sink: Sink, pump: asyncio.Task):
        self.exec_id = exec_id
        self.tag = tag
        self.writer = writer
        self.sink = sink
        self.pump = pump

    async def wait(self, timeout: float | None, *, until_eof: bool = False) -> bool:
        """True once the command exited (or the stream ended) within ``timeout`` seconds.

        After the wrapper reported the exit, output still on its way is read: to the end of the
        stream with ``until_eof``, else while it keeps coming (leftover background processes may
        hold the stream open), for at most DRAIN_MAX_S."""
        exited = asyncio.ensure_future(self.sink.exited.wait())
        try:
            done, _ = await asyncio.wait(
                {self.pump, exited}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            exited.cancel()
        if not done:
            return False
        if until_eof:
            await asyncio.wait({self.pump}, timeout=timeout)
            return self.pump.done()
        limit = time.monotonic() + DRAIN_MAX_S
        while not self.pump.done():
            now = time.monotonic()
            quiet = self.sink.last_data + DRAIN_GRACE_S - now
            if quiet <= 0 or now >= limit:
                break
            await asyncio.wait({self.pump}, timeout=min(quiet, limit - now))
        return True

    def failure(self) -> BaseException | None:
        if self.pump.done() and not self.pump.cancelled():
            return self.pump.exception()
        return None

    def close(self) -> None:
        if self.pump.done():
            self.failure()  # retrieved, so that asyncio does not report it as forgotten
        else:
            self.pump.cancel()
        self.writer.close()

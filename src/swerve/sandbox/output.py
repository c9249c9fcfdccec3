"""Command output as every backend keeps it: one bounded buffer of stdout and stderr in order."""

from __future__ import annotations

import asyncio
from collections import deque

DEFAULT_OUTPUT_LIMIT = 1 << 20  # bytes of output kept per command (head and tail)
DRAIN_GRACE_S = 0.3  # how long to keep reading after the shell exited, when a leftover holds the pipe
# Non-interactive defaults so that pagers and credential prompts never wait for a person.
QUIET_ENV = {"PAGER": "cat", "GIT_PAGER": "cat", "GIT_TERMINAL_PROMPT": "0"}


class OutputBuffer:
    """Bytes kept within ``limit``: the first half and the last half, with a count of the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = max(2, limit)
        self._head = bytearray()
        self._tail: deque[bytes] = deque()
        self._tail_len = 0
        self.dropped = 0

    def write(self, data: bytes) -> None:
        room = self.limit // 2 - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        if not data:
            return
        self._tail.append(data)
        self._tail_len += len(data)
        keep = self.limit - self.limit // 2
        while self._tail_len > keep:
            first = self._tail[0]
            extra = self._tail_len - keep
            if len(first) <= extra:
                self._tail.popleft()
                self._tail_len -= len(first)
                self.dropped += len(first)
            else:
                self._tail[0] = first[extra:]
                self._tail_len -= extra
                self.dropped += extra

    def text(self) -> str:
        """The kept output, decoded, with a marker where bytes were dropped."""
        head = bytes(self._head).decode("utf-8", errors="replace")
        tail = b"".join(self._tail).decode("utf-8", errors="replace")
        if not self.dropped:
            return head + tail
        sep = "" if head.endswith("\n") else "\n"
        return f"{head}{sep}[... {self.dropped} bytes of output omitted ...]\n{tail}"


class PipeReader(asyncio.Protocol):
    """Feeds a pipe's bytes into a bounded buffer; ``done`` resolves when the pipe closes."""

    def __init__(self, buffer: OutputBuffer) -> None:
        self.buffer = buffer
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self.buffer.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)

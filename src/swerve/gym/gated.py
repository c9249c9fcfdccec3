"""A view of a Workspace for the farm: commands wait for a shared gate.

``GatedWorkspace`` passes everything through to the workspace it wraps, except that command
executions (``exec``, and starting a ``spawn``) hold ``gate`` while they run, so that one
process bounds how many commands of all its environments run at once. It can also narrow the
view: ``root`` (a folder inside the inner workspace) becomes the default working directory and
what tools see as the workspace root, ``env`` is added to every command's environment, and
``max_timeout_s`` caps each command's timeout.

File operations the inner workspace answers by running a command of its own are not gated:
they are short, and gating them could stall an agent's reads behind other agents' test runs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from swerve.sandbox.base import BackgroundJob, DirEntry, ExecResult, FileStat, Workspace


class GatedWorkspace:
    """``inner`` with command executions bounded by ``gate`` (None: not bounded)."""

    def __init__(
        self,
        inner: Workspace,
        gate: asyncio.Semaphore | None = None,
        *,
        root: str | None = None,
        env: Mapping[str, str] | None = None,
        max_timeout_s: float | None = None,
    ) -> None:
        self.inner = inner
        self.gate = gate
        self.root = root or inner.root
        self.env = dict(env or {})
        self.max_timeout_s = max_timeout_s

    def _gate(self) -> contextlib.AbstractAsyncContextManager[Any]:
        return self.gate if self.gate is not None else contextlib.nullcontext()

    def _env(self, env: Mapping[str, str] | None) -> dict[str, str] | None:
        merged = {**self.env, **(env or {})}
        return merged or None

    # -- commands ----------------------------------------------------------------------------

    async def exec(
        self,
        command: str,
        *,
        cwd: str | None = None,
        timeout: float = 120.0,
        env: dict[str, str] | None = None,
        stdin: bytes | None = None,
    ) -> ExecResult:
        if self.max_timeout_s is not None and timeout and timeout > self.max_timeout_s:
            timeout = self.max_timeout_s
        async with self._gate():
            return await self.inner.exec(
                command, cwd=cwd or self.root, timeout=timeout, env=self._env(env), stdin=stdin
            )

    async def spawn(
        self, command: str, *, cwd: str | None = None, env: dict[str, str] | None = None
    ) -> BackgroundJob:
        async with self._gate():
            return await self.inner.spawn(command, cwd=cwd or self.root, env=self._env(env))

    # -- files and state: passed through --------------------------------------------------------

    async def read_bytes(self, path: str) -> bytes:
        return await self.inner.read_bytes(path)

    async def write_bytes(self, path: str, data: bytes) -> None:
        await self.inner.write_bytes(path, data)

    async def list_dir(self, path: str) -> list[DirEntry]:
        return await self.inner.list_dir(path)

    async def stat(self, path: str) -> FileStat | None:
        return await self.inner.stat(path)

    async def realpath(self, path: str) -> str:
        return await self.inner.realpath(path)

    async def diff(self) -> str:
        """The inner workspace's diff (taken at its own root, not at this view's)."""
        return await self.inner.diff()

    async def close(self) -> None:
        await self.inner.close()

    def __getattr__(self, name: str) -> Any:
        # anything else a backend offers (snapshot, upper_dir, ...) is the inner workspace's
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

"""A project's protected paths inside its sandbox: what exists is bound read-only by the sandbox
itself (``NamespaceWorkspace.open_project(read_only=...)``); what does not exist yet may not be
created: ``KeepAbsent`` removes such a path after every command and says so in the output."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
from collections.abc import Iterable
from typing import Any

from swerve.sandbox.base import BackgroundJob, ExecResult, Workspace


def split_protected(project: str, paths: Iterable[str]) -> tuple[list[str], list[str]]:
    """(the protected paths that exist, to bind read-only; those that do not, to keep absent),
    as absolute paths under ``project``."""
    present, absent = [], []
    has_git = os.path.isdir(os.path.join(project, ".git"))
    for rel in paths:
        path = os.path.join(project, rel)
        if os.path.lexists(path):
            present.append(path)
        elif has_git or not rel.startswith(".git/"):  # a repository made in the session is its own
            absent.append(path)
    return present, absent


class KeepAbsent:
    """A Workspace whose commands cannot leave the ``absent`` paths behind (everything else is
    passed through to the inner workspace)."""

    def __init__(self, inner: Workspace, absent: Iterable[str]) -> None:
        self.inner = inner
        self.absent = [p for p in absent if not os.path.lexists(p)]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def sweep(self) -> list[str]:
        """Remove the kept-absent paths that now exist; the ones removed."""
        removed = []
        for path in self.absent:
            if not os.path.lexists(path):
                continue
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(path)
            removed.append(path)
        return removed

    async def exec(self, command: str, **kwargs: Any) -> ExecResult:
        result = await self.inner.exec(command, **kwargs)
        removed = self.sweep()
        if not removed:
            return result
        note = "".join(
            f"\n[swerve sandbox: {p} is protected (it changes how git or an agent behaves); "
            "the command created it and it was removed]"
            for p in removed
        )
        return dataclasses.replace(result, output=result.output + note)

    async def spawn(self, command: str, **kwargs: Any) -> BackgroundJob:
        self.sweep()
        return await self.inner.spawn(command, **kwargs)

    async def close(self) -> None:
        try:
            await self.inner.close()
        finally:
            self.sweep()

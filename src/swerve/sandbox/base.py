"""The Workspace contract: a root directory with files and command execution.

Paths given to a Workspace are absolute in the workspace's own view (inside a sandbox that may
differ from the host path). Tools resolve and check paths before they call these methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass
class ExecResult:
    exit_code: int
    output: str  # stdout and stderr merged, in order
    duration_s: float
    timed_out: bool = False
    truncated_bytes: int = 0  # bytes of output dropped from the middle


@dataclass(frozen=True)
class FileStat:
    path: str
    is_dir: bool
    is_file: bool
    is_symlink: bool
    size: int
    mtime: float


@dataclass(frozen=True)
class DirEntry:
    name: str
    is_dir: bool
    is_symlink: bool
    size: int


class BackgroundJob(Protocol):
    """A command left running by ``Workspace.spawn``."""

    id: str
    command: str

    def output(self) -> str:
        """Everything the job printed so far (bounded)."""
        ...

    def returncode(self) -> int | None: ...

    async def kill(self) -> None: ...


class Workspace(Protocol):
    root: str

    async def read_bytes(self, path: str) -> bytes: ...

    async def write_bytes(self, path: str, data: bytes) -> None:
        """Write a file, creating parent directories."""
        ...

    async def list_dir(self, path: str) -> list[DirEntry]: ...

    async def stat(self, path: str) -> FileStat | None:
        """None when nothing is there. Does not follow a final symlink."""
        ...

    async def realpath(self, path: str) -> str:
        """The path with every symlink resolved, in the workspace's view."""
        ...

    async def exec(
        self,
        command: str,
        *,
        cwd: str | None = None,
        timeout: float = 120.0,
        env: dict[str, str] | None = None,
        stdin: bytes | None = None,
    ) -> ExecResult:
        """Run a shell command; a timeout kills the whole process tree."""
        ...

    async def spawn(
        self, command: str, *, cwd: str | None = None, env: dict[str, str] | None = None
    ) -> BackgroundJob:
        """Start a command in the background. Raises SandboxError where the backend cannot
        keep processes between steps."""
        ...

    async def diff(self) -> str:
        """Changes against the base state (a git diff when the base is a git tree)."""
        ...

    async def close(self) -> None: ...

"""The host workspace: files and commands directly on this machine, with no isolation."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import stat as stat_mod
import tempfile
import time
from collections.abc import Iterable

from swerve.errors import SandboxError
from swerve.gitenv import SAFE_DIFF_FLAGS, safe_git_env
from swerve.sandbox.base import DirEntry, ExecResult, FileStat
from swerve.sandbox.output import DEFAULT_OUTPUT_LIMIT, DRAIN_GRACE_S, QUIET_ENV, OutputBuffer, PipeReader
from swerve.sandbox.proctree import TAG_VAR, kill_tree, new_tag
from swerve.secrets import scrub_env


def _exit_code(returncode: int | None) -> int:
    if returncode is None:
        return -1
    return 128 - returncode if returncode < 0 else returncode  # killed by a signal: 128 + signo


class _Process:
    """A shell command whose stdout and stderr go into one bounded buffer, in order."""

    def __init__(
        self,
        proc: asyncio.subprocess.Process,
        reader: PipeReader,
        transport: asyncio.BaseTransport,
        tag: str,
    ):
        self.proc = proc
        self.reader = reader
        self.transport = transport
        self.tag = tag

    @classmethod
    async def start(
        cls,
        command: str,
        *,
        cwd: str,
        env: dict[str, str],
        stdin: bytes | None,
        limit: int,
    ) -> _Process:
        if not os.path.isdir(cwd):
            raise SandboxError(f"working directory does not exist: {cwd}")
        tag = new_tag()
        env = {**env, TAG_VAR: tag}
        stdin_file = tempfile.TemporaryFile() if stdin else open(os.devnull, "rb")  # noqa: SIM115
        read_fd, write_fd = os.pipe()
        try:
            if stdin:
                stdin_file.write(stdin)
                stdin_file.seek(0)
            proc = await asyncio.create_subprocess_exec(
                "/bin/bash" if os.path.exists("/bin/bash") else "/bin/sh",
                "-c",
                command,
                cwd=cwd,
                env=env,
                stdin=stdin_file,
                stdout=write_fd,
                stderr=write_fd,
                start_new_session=True,
            )
        except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the command or env
            os.close(read_fd)
            raise SandboxError(f"cannot start the shell: {exc}") from exc
        finally:
            os.close(write_fd)
            stdin_file.close()
        loop = asyncio.get_running_loop()
        reader = PipeReader(OutputBuffer(limit))
        pipe = os.fdopen(read_fd, "rb", buffering=0)
        transport, _ = await loop.connect_read_pipe(lambda: reader, pipe)
        return cls(proc, reader, transport, tag)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kill(self) -> None:
        """Kill the shell, everything it started (even detached), and its process group."""
        kill_tree(self.proc.pid, self.tag, pgid=self.proc.pid)

    async def drain(self, grace: float = DRAIN_GRACE_S) -> None:
        """Read what is left in the pipe; stop after ``grace`` s if a leftover process keeps it open."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.reader.done), grace)
        self.transport.close()


class HostJob:
    """A background command on the host (see ``Workspace.spawn``)."""

    def __init__(self, job_id: str, command: str, process: _Process) -> None:
        self.id = job_id
        self.command = command
        self._process = process
        self._waiter = asyncio.ensure_future(self._wait())

    async def _wait(self) -> None:
        # keep reading while anything the job started still writes, even after the shell exited
        await self._process.proc.wait()
        await self._process.reader.done
        self._process.transport.close()

    @property
    def pid(self) -> int:
        return self._process.pid

    def output(self) -> str:
        return self._process.reader.buffer.text()

    def returncode(self) -> int | None:
        code = self._process.proc.returncode
        return None if code is None else _exit_code(code)

    async def kill(self) -> None:
        """Kill the job's shell and everything it started; keep the output read so far."""
        if self._process.proc.returncode is None:
            self._process.kill()
        else:  # the shell is gone; what it left behind may still run
            kill_tree(None, self._process.tag)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._waiter), 2 * DRAIN_GRACE_S + 1)
        self._process.transport.close()


class HostWorkspace:
    """A Workspace over a directory of this machine: no isolation, commands run as this user.

    Commands run in ``/bin/bash -c`` in a new session, with stdout and stderr merged and at
    most ``output_limit_bytes`` of output kept (head and tail). A timeout or a cancellation
    kills the command's whole process tree; after a normal exit, processes it deliberately left
    running (``nohup server &``) are left alone, as in a terminal.
    """

    def __init__(
        self,
        root: str,
        *,
        env: dict[str, str] | None = None,
        output_limit_bytes: int = DEFAULT_OUTPUT_LIMIT,
        scrub_secrets: bool = True,
        keep_env: Iterable[str] = (),
    ):
        self.root = os.path.realpath(os.path.abspath(root))
        self.env = dict(env or {})
        # commands do not inherit *KEY* / *TOKEN* / *SECRET* / *PASSWORD* variables unless kept
        self.scrub_secrets = scrub_secrets
        self.keep_env = tuple(keep_env)
        self.output_limit_bytes = output_limit_bytes
        self._jobs: dict[str, HostJob] = {}
        self._job_counter = 0

    # -- files ----------------------------------------------------------------------------

    async def read_bytes(self, path: str) -> bytes:
        with open(path, "rb") as f:
            return f.read()

    async def write_bytes(self, path: str, data: bytes) -> None:
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)

    async def list_dir(self, path: str) -> list[DirEntry]:
        entries = []
        with os.scandir(path) as it:
            for e in it:
                try:
                    is_dir = e.is_dir()
                    size = 0 if is_dir else e.stat().st_size
                except OSError:  # a dangling symlink
                    is_dir, size = False, 0
                entries.append(DirEntry(e.name, is_dir, e.is_symlink(), size))
        return entries

    async def stat(self, path: str) -> FileStat | None:
        try:
            st = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        return FileStat(
            path,
            stat_mod.S_ISDIR(st.st_mode),
            stat_mod.S_ISREG(st.st_mode),
            stat_mod.S_ISLNK(st.st_mode),
            st.st_size,
            st.st_mtime,
        )

    async def realpath(self, path: str) -> str:
        return os.path.realpath(path)

    # -- commands -------------------------------------------------------------------------

    def _env(self, extra: dict[str, str] | None) -> dict[str, str]:
        inherited = scrub_env(dict(os.environ), self.keep_env) if self.scrub_secrets else dict(os.environ)
        return {**inherited, **QUIET_ENV, **self.env, **(extra or {})}

    async def exec(
        self,
        command: str,
        *,
        cwd: str | None = None,
        timeout: float = 120.0,
        env: dict[str, str] | None = None,
        stdin: bytes | None = None,
    ) -> ExecResult:
        start = time.monotonic()
        process = await _Process.start(
            command, cwd=cwd or self.root, env=self._env(env), stdin=stdin, limit=self.output_limit_bytes
        )
        timed_out = False
        try:
            try:
                await asyncio.wait_for(process.proc.wait(), timeout)
            except TimeoutError:
                timed_out = True
                process.kill()
                await process.proc.wait()
        except BaseException:  # cancelled: leave nothing running
            process.kill()
            process.transport.close()
            raise
        await process.drain()
        buffer = process.reader.buffer
        return ExecResult(
            exit_code=_exit_code(process.proc.returncode),
            output=buffer.text(),
            duration_s=time.monotonic() - start,
            timed_out=timed_out,
            truncated_bytes=buffer.dropped,
        )

    async def spawn(
        self, command: str, *, cwd: str | None = None, env: dict[str, str] | None = None
    ) -> HostJob:
        process = await _Process.start(
            command, cwd=cwd or self.root, env=self._env(env), stdin=None, limit=self.output_limit_bytes
        )
        self._job_counter += 1
        job = HostJob(f"bg{self._job_counter}", command, process)
        self._jobs[job.id] = job
        return job

    # -- state ----------------------------------------------------------------------------

    async def diff(self) -> str:
        """Uncommitted changes under the root against HEAD, untracked files included, as a
        patch with paths relative to the root; "" outside a git work tree. The user's index is
        never touched: untracked files are marked in a temporary copy of it."""
        if shutil.which("git") is None:
            return ""
        code, out = await _git(self.root, "rev-parse", "--is-inside-work-tree", "--git-path", "index")
        lines = out.splitlines()
        if code != 0 or not lines or lines[0].strip() != "true":
            return ""
        index = os.path.join(self.root, lines[1]) if len(lines) > 1 else ""
        code, _ = await _git(self.root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
        base = "HEAD"
        if code != 0:  # no commit yet: compare with the empty tree
            code, out = await _git(self.root, "hash-object", "-t", "tree", "/dev/null")
            base = out.strip()
        with tempfile.TemporaryDirectory(prefix="swerve-index-") as tmp:
            tmp_index = os.path.join(tmp, "index")
            if index and os.path.isfile(index):
                shutil.copy2(index, tmp_index)  # keep the mtime: git trusts stat data older than its index
            env = {"GIT_INDEX_FILE": tmp_index}
            await _git(self.root, "add", "--intent-to-add", "--all", "--", ".", env=env)
            code, out = await _git(
                self.root, "diff", *SAFE_DIFF_FLAGS, "--relative", base, "--", ".", env=env
            )
        if code != 0:
            raise SandboxError(f"git diff failed in {self.root}: {out.strip()[:500]}")
        return out

    async def close(self) -> None:
        """Stop the background jobs this workspace started."""
        for job in list(self._jobs.values()):
            await job.kill()
        self._jobs.clear()


async def _git(cwd: str, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    full_env = {**os.environ, **safe_git_env(), **(env or {})}  # nothing the repository configures runs
    try:
        proc = await asyncio.create_subprocess_exec(
            "git",
            *args,
            cwd=cwd,
            env=full_env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
    except OSError as exc:
        return 127, str(exc)
    try:
        out, _ = await proc.communicate()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGKILL)
        raise
    return proc.returncode or 0, out.decode("utf-8", errors="replace")

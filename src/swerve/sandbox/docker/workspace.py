"""``DockerWorkspace``: a Workspace whose files and commands live in one container (see the package
docstring for how commands, output and kills work)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import errno
import io
import json
import math
import os
import posixpath
import re
import tempfile
import time
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from swerve.errors import SandboxError
from swerve.sandbox.base import DirEntry, ExecResult, FileStat
from swerve.sandbox.docker.api import (
    ENV_NAME,
    KILL_WAIT_S,
    NO_CWD,
    NO_STDIN,
    OP_TIMEOUT_S,
    Docker,
    call,
    explain,
    http_status,
    in_thread,
    is_not_found,
    remove_quietly,
)
from swerve.sandbox.docker.scripts import (
    COMMAND_WRAPPER,
    GIT_DIFF,
    KILL,
    LIST,
    OP_WRAPPER,
    READ,
    REALPATH,
    WRITE,
)
from swerve.sandbox.docker.stream import Run, Sink, attach, pump
from swerve.sandbox.docker.tardiff import base_archive, tree_diff
from swerve.sandbox.output import DEFAULT_OUTPUT_LIMIT, QUIET_ENV, OutputBuffer
from swerve.sandbox.proctree import TAG_VAR, new_tag

# -- helpers ------------------------------------------------------------------------------------


def _os_error(code: int, path: str, message: str) -> OSError:
    if code in (errno.ENOENT, errno.EACCES, errno.ENOTDIR, errno.EISDIR):
        return OSError(code, os.strerror(code), path)
    return OSError(errno.EIO, message or f"failed with exit code {code}", path)


def _check_text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise SandboxError(f"{what} must be a string, not {type(value).__name__}")
    if "\0" in value:
        raise SandboxError(f"{what} contains a NUL byte")
    return value


def _tar_of(name: str, data: bytes, mode: int, ids: tuple[int, int]) -> bytes:
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = mode
        info.uid, info.gid = ids
        info.mtime = int(time.time())
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _numeric_user(user: str) -> tuple[int, int] | None:
    """(uid, gid) of an image's USER when it says so without a name lookup."""
    if user in ("", "root", "0", "0:0", "root:root", "root:0", "0:root"):
        return 0, 0
    m = re.match(r"^(\d+):(\d+)$", user)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _parse_go_time(text: str) -> float:
    """Seconds since the epoch of an RFC 3339 time with up to nanoseconds, as Go writes it."""
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$", text or "")
    if not m:
        return 0.0
    stamp = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
    zone = m.group(3) or "Z"
    offset = timedelta(0)
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        offset = sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    stamp = stamp.replace(tzinfo=timezone(offset))
    return stamp.timestamp() + (float("0." + m.group(2)) if m.group(2) else 0.0)


_GO_MODE_DIR = 1 << 31
_GO_MODE_SYMLINK = 1 << 27
_GO_MODE_TYPES = (1 << 31) | (1 << 27) | (1 << 26) | (1 << 25) | (1 << 24) | (1 << 21) | (1 << 19)


# -- the workspace ------------------------------------------------------------------------------


class DockerJob:
    """A command left running in the container by ``DockerWorkspace.spawn``."""

    def __init__(self, workspace: DockerWorkspace, job_id: str, command: str, run: Run) -> None:
        self.id = job_id
        self.command = command
        self._workspace = workspace
        self._run = run
        self._code: int | None = None
        self._waiter = asyncio.ensure_future(self._watch())

    async def _watch(self) -> None:
        await asyncio.wait({self._run.pump})  # until every writer of the stream is gone
        if self._run.sink.exit_code is None:
            with contextlib.suppress(SandboxError):
                info = await call("exec inspect", self._workspace._docker.api.exec_inspect, self._run.exec_id)
                code = info.get("ExitCode")
                self._code = -1 if code is None else int(code)
        self._run.close()

    def output(self) -> str:
        return self._run.sink.out.text()

    def returncode(self) -> int | None:
        code = self._run.sink.exit_code
        return code if code is not None else self._code

    async def kill(self) -> None:
        """Kill the job and everything it started; keep the output read so far."""
        await self._workspace._kill(self._run.tag)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._waiter), KILL_WAIT_S)
        if self.returncode() is None:
            self._code = 137
        self._run.close()

    def _abandon(self) -> None:
        self._waiter.cancel()
        self._run.close()


class DockerWorkspace:
    """A Workspace in a Docker container (see ``open_docker_workspace``).

    ``root`` is the working directory in the container. Commands keep at most
    ``output_limit_bytes`` of output (head and tail); ``env`` is added to every command's
    environment.
    """

    def __init__(
        self,
        docker: Docker,
        container_id: str,
        *,
        root: str,
        image: str,
        expires_at: float,
        user: str = "",
        base_is_git: bool = False,
        output_limit_bytes: int = DEFAULT_OUTPUT_LIMIT,
    ) -> None:
        self._docker = docker
        self.container_id = container_id
        self.root = root
        self.image = image
        self.expires_at = expires_at
        self.env: dict[str, str] = {}
        self.output_limit_bytes = output_limit_bytes
        self._snapshot: Any = None  # tar of the base, for diff() when the base is no git tree
        self._base_is_git = base_is_git
        self._ids = _numeric_user(user)  # the container user's (uid, gid), looked up when needed
        self._diff_lock = asyncio.Lock()
        self._jobs: dict[str, DockerJob] = {}
        self._job_counter = 0
        self._closed = False

    async def __aenter__(self) -> DockerWorkspace:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- running things ---------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise SandboxError("the docker workspace is closed")

    def _path(self, path: str) -> str:
        path = _check_text(path, "path")
        if not path:
            raise SandboxError("empty path")
        return posixpath.normpath(posixpath.join(self.root, path))

    def _env(self, extra: Mapping[str, str] | None, tag: str) -> dict[str, str]:
        env = {**QUIET_ENV, **self.env, **(extra or {})}
        for key, value in env.items():
            if not isinstance(key, str) or not ENV_NAME.match(key):
                raise SandboxError(f"invalid environment variable name {key!r}")
            _check_text(value, f"environment variable {key}")
        env[TAG_VAR] = tag
        return env

    async def _start(
        self, argv: list[str], *, env: dict[str, str], tag: str, out: Any, user: str = ""
    ) -> Run:
        self._check_open()
        api = self._docker.api
        try:
            created = await in_thread(
                api.exec_create,
                self.container_id,
                argv,
                stdout=True,
                stderr=True,
                stdin=False,
                tty=False,
                environment=env,
                user=user,
            )
        except Exception as exc:
            raise self._failure("starting a command", exc) from exc
        exec_id = created["Id"]
        reader, writer = await attach(self._docker.endpoint, exec_id)
        sink = Sink(out)
        return Run(exec_id, tag, writer, sink, asyncio.ensure_future(pump(reader, sink)))

    def _failure(self, what: str, exc: BaseException) -> SandboxError:
        if isinstance(exc, SandboxError):
            return exc
        if is_not_found(exc) or http_status(exc) == 409:
            return SandboxError(
                f"docker: {what} failed: the container {self.container_id[:12]} is gone or stopped "
                f"(closed, removed, or its TTL ran out): {explain(exc)}"
            )
        return SandboxError(f"docker: {what} failed: {explain(exc)}")

    async def _kill(self, tag: str) -> None:
        """Kill the processes that carry ``tag`` (best effort: the container may be gone)."""
        with contextlib.suppress(SandboxError):
            # as the commands' own user: root in a container lacks CAP_SYS_PTRACE, so it could
            # not read the environment (the tag) of another user's processes
            await self._op(KILL, tag, timeout=30.0, kill_on_timeout=False)

    async def _op(
        self,
        script: str,
        *args: str,
        user: str = "",
        timeout: float = OP_TIMEOUT_S,
        kill_on_timeout: bool = True,
    ) -> tuple[int, bytes, str]:
        """Run an internal script; returns its exit code, stdout and stderr."""
        tag = new_tag()
        out = io.BytesIO()
        run = await self._start(
            ["/bin/sh", "-c", OP_WRAPPER, "swerve", script, *args],
            env={TAG_VAR: tag},
            tag=tag,
            out=out,
            user=user,
        )
        try:
            finished = await run.wait(timeout, until_eof=True)
            if not finished:
                if kill_on_timeout:
                    await self._kill(tag)
                raise SandboxError(f"docker: an internal command did not finish within {timeout:g} s")
        except BaseException:
            if kill_on_timeout and not run.pump.done():
                await asyncio.shield(self._kill(tag))
            raise
        finally:
            run.close()
        failure = run.failure()
        if failure is not None:
            raise self._failure("an internal command", failure)
        if run.sink.exit_code is None:
            await self._check_running()
            raise SandboxError(
                f"docker: an internal command ended without an exit code: {run.sink.message()}"
            )
        return run.sink.exit_code, out.getvalue(), run.sink.message()

    async def _check_running(self) -> None:
        try:
            info = await in_thread(self._docker.api.inspect_container, self.container_id)
        except Exception as exc:
            raise self._failure("inspecting the container", exc) from exc
        if not (info.get("State") or {}).get("Running"):
            raise SandboxError(
                f"docker: the container {self.container_id[:12]} has stopped "
                f"(state {info.get('State', {}).get('Status')!r}; its TTL may have run out)"
            )

    async def _user_ids(self) -> tuple[int, int]:
        """The (uid, gid) the container's commands run as, so that files put there are theirs."""
        if self._ids is None:
            code, out, _ = await self._op("id -u && id -g")
            numbers = out.split()
            if code == 0 and len(numbers) == 2 and all(n.isdigit() for n in numbers):
                self._ids = int(numbers[0]), int(numbers[1])
            else:
                self._ids = 0, 0
        return self._ids

    async def _put_file(self, path: str, data: bytes, mode: int = 0o600) -> None:
        archive = _tar_of(path.lstrip("/"), data, mode, await self._user_ids())
        try:
            await in_thread(self._docker.api.put_archive, self.container_id, "/", archive)
        except Exception as exc:
            raise self._failure(f"copying {path} into the container", exc) from exc

    async def _copy_base(self, base: str) -> None:
        """Copy the host directory ``base`` to the root; keep its archive for diff() unless it is
        a git tree (then git in the container knows the base)."""
        ids = await self._user_ids()
        parent, name = posixpath.split(self.root)
        archive = await in_thread(base_archive, base, name, ids)
        try:  # the root itself is in the archive, so that it too becomes the user's
            await in_thread(self._docker.api.put_archive, self.container_id, parent, archive)
        except BaseException as exc:
            archive.close()
            if isinstance(exc, Exception):
                raise self._failure(f"copying {base} into the container", exc) from exc
            raise
        if self._base_is_git:
            archive.close()
        else:
            self._snapshot = archive

    async def _start_command(
        self, command: str, cwd: str | None, env: Mapping[str, str] | None, stdin: bytes | None, tag: str
    ) -> Run:
        self._check_open()
        command = _check_text(command, "command")
        cwd = self._path(cwd) if cwd is not None else self.root
        full_env = self._env(env, tag)
        stdin_path = ""
        if stdin:
            if not isinstance(stdin, bytes | bytearray):
                raise SandboxError("stdin must be bytes")
            stdin_path = f"/tmp/.swerve-stdin-{tag}"
            await self._put_file(stdin_path, bytes(stdin))
        argv = ["/bin/sh", "-c", COMMAND_WRAPPER, "swerve", cwd, command, stdin_path]
        return await self._start(argv, env=full_env, tag=tag, out=OutputBuffer(self.output_limit_bytes))

    async def exec(
        self,
        command: str,
        *,
        cwd: str | None = None,
        timeout: float = 120.0,
        env: dict[str, str] | None = None,
        stdin: bytes | None = None,
    ) -> ExecResult:
        """Run a shell command in the container; a timeout kills its whole process tree."""
        if not isinstance(timeout, int | float) or not timeout > 0 or math.isinf(timeout):
            raise SandboxError(f"timeout must be a positive number of seconds, not {timeout!r}")
        start = time.monotonic()
        tag = new_tag()
        run = await self._start_command(command, cwd, env, stdin, tag)
        timed_out = False
        try:
            if not await run.wait(timeout):
                timed_out = True
                await self._kill(tag)
                await run.wait(KILL_WAIT_S)
        except BaseException:  # cancelled: leave nothing running
            await asyncio.shield(self._kill(tag))
            run.close()
            raise
        run.close()
        code = await self._exit_code(run, timed_out, cwd)
        buffer = run.sink.out
        return ExecResult(
            exit_code=code,
            output=buffer.text(),
            duration_s=time.monotonic() - start,
            timed_out=timed_out,
            truncated_bytes=buffer.dropped,
        )

    async def _exit_code(self, run: Run, timed_out: bool, cwd: str | None) -> int:
        if NO_CWD in run.sink.err:
            raise SandboxError(f"working directory does not exist: {self._path(cwd or self.root)}")
        if NO_STDIN in run.sink.err:
            raise SandboxError("the command's stdin could not be passed to it (is /tmp writable?)")
        if run.sink.exit_code is not None:
            return run.sink.exit_code
        if timed_out:
            return 137  # killed: 128 + SIGKILL
        failure = run.failure()
        if failure is not None:
            raise self._failure("reading a command's output", failure)
        await self._check_running()
        try:
            info = await in_thread(self._docker.api.exec_inspect, run.exec_id)
        except Exception as exc:
            raise self._failure("inspecting a command", exc) from exc
        code = info.get("ExitCode")
        return -1 if code is None else int(code)

    async def spawn(
        self, command: str, *, cwd: str | None = None, env: dict[str, str] | None = None
    ) -> DockerJob:
        """Start a command in the background; its output is read as it comes."""
        tag = new_tag()
        run = await self._start_command(command, cwd, env, None, tag)
        self._job_counter += 1
        job = DockerJob(self, f"bg{self._job_counter}", command, run)
        self._jobs[job.id] = job
        return job

    # -- files ------------------------------------------------------------------------------

    async def read_bytes(self, path: str) -> bytes:
        path = self._path(path)
        code, out, message = await self._op(READ, path)
        if code:
            raise _os_error(code, path, message)
        return out

    async def write_bytes(self, path: str, data: bytes) -> None:
        """Write a file as the container's user, creating parent directories; an existing file
        keeps its mode and owner, and a symlink is followed, as ``open(path, "wb")`` would."""
        self._check_open()
        path = self._path(path)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise SandboxError("data must be bytes")
        incoming = f"/tmp/.swerve-write-{new_tag()}"
        await self._put_file(incoming, bytes(data))
        code, _, message = await self._op(WRITE, path, posixpath.dirname(path) or "/", incoming)
        if code:
            raise _os_error(code, path, message)

    async def list_dir(self, path: str) -> list[DirEntry]:
        path = self._path(path)
        code, out, message = await self._op(LIST, path)
        if code:
            raise _os_error(code, path, message)
        return _parse_listing(out)

    async def stat(self, path: str) -> FileStat | None:
        """None when nothing is there. Does not follow a final symlink."""
        path = self._path(path)
        self._check_open()
        api = self._docker.api

        def head() -> Any:
            return api.head(api._url("/containers/{0}/archive", self.container_id), params={"path": path})

        try:
            response = await in_thread(head)
        except Exception as exc:
            raise self._failure(f"stat {path}", exc) from exc
        header = response.headers.get("X-Docker-Container-Path-Stat")
        if response.status_code != 200 or not header:
            await self._check_running()  # a missing container answers 404 too
            if response.status_code in (404, 500):  # 500: a parent is not a directory
                return None
            raise SandboxError(f"docker: stat {path} failed with HTTP {response.status_code}")
        info = json.loads(base64.b64decode(header))
        mode = int(info.get("mode", 0))
        return FileStat(
            path=path,
            is_dir=bool(mode & _GO_MODE_DIR),
            is_file=not mode & _GO_MODE_TYPES,
            is_symlink=bool(mode & _GO_MODE_SYMLINK),
            size=int(info.get("size", 0)),
            mtime=_parse_go_time(info.get("mtime", "")),
        )

    async def realpath(self, path: str) -> str:
        path = self._path(path)
        code, out, message = await self._op(REALPATH, path)
        if code:
            raise SandboxError(f"docker: realpath {path} failed: {message}")
        resolved = out.decode("utf-8", "replace")
        return "/" + resolved.lstrip("/") if resolved else path

    # -- state ------------------------------------------------------------------------------

    async def diff(self) -> str:
        """Changes against the base: ``git diff`` (untracked files included) in the container
        when the base was a git tree or when there was no base, else a patch computed against
        the copy of the base taken at open time; "" when neither applies."""
        self._check_open()
        if self._snapshot is not None:
            async with self._diff_lock:
                return await self._snapshot_diff()
        code, out, message = await self._op(GIT_DIFF, self.root, timeout=600.0)
        if code == 0:
            return out.decode("utf-8", "replace")
        if code == 5 or (code == 4 and not self._base_is_git):
            return ""
        if code == 4:
            raise SandboxError(f"diff() needs git in the image {self.image!r} (the base is a git tree)")
        if code == 3:
            raise SandboxError(f"the workspace root {self.root} no longer exists in the container")
        raise SandboxError(f"git diff failed in {self.root}: {message[:500]}")

    async def _snapshot_diff(self) -> str:
        api = self._docker.api

        def fetch() -> Any:
            stream, _ = api.get_archive(self.container_id, self.root, chunk_size=1 << 16)
            spool = tempfile.SpooledTemporaryFile(max_size=32 << 20)  # noqa: SIM115
            for chunk in stream:
                spool.write(chunk)
            spool.seek(0)
            return spool

        try:
            current = await in_thread(fetch)
        except Exception as exc:
            raise self._failure(f"reading {self.root} back", exc) from exc
        try:
            return await in_thread(tree_diff, self._snapshot, current)
        finally:
            current.close()

    async def close(self) -> None:
        """Remove the container (and so everything running in it). Idempotent."""
        if self._closed:
            return
        self._closed = True
        for job in self._jobs.values():
            job._abandon()
        self._jobs.clear()
        if self._snapshot is not None:
            self._snapshot.close()
            self._snapshot = None
        await remove_quietly(self._docker.api, self.container_id)


def _parse_listing(out: bytes) -> list[DirEntry]:
    records = out.split(b"\0")
    try:
        end = records.index(b"")
    except ValueError:
        end = len(records)
    rows = [r for r in records[:end] if len(r) >= 3]
    sizes_text = b"\0".join(records[end + 1 :]).split()
    files = [r for r in rows if r[:1] == b"f"]
    sizes = [int(s) for s in sizes_text if s.isdigit()]
    if len(sizes) != len(files):  # a file came or went between the two passes
        sizes = [0] * len(files)
    by_name = dict(zip((r[2:] for r in files), sizes, strict=True))
    return [
        DirEntry(
            name=r[2:].decode("utf-8", "replace"),
            is_dir=r[:1] == b"d",
            is_symlink=r[1:2] == b"1",
            size=by_name.get(r[2:], 0) if r[:1] == b"f" else 0,
        )
        for r in rows
    ]

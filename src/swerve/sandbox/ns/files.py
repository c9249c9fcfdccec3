"""File operations of a namespace sandbox: run inside it by the launcher, or read on the host.

Every operation can run inside the sandbox (the launcher's ``--fsop``), where paths resolve
exactly as they do for commands: a symlink to a hidden file leads nowhere. Reads, listings,
stats and realpaths of plain paths inside the workspace root are answered from the layers on the
host instead (``overlay.HostReader``): the same answer, without starting a process.
"""

from __future__ import annotations

import asyncio
import os
import stat as stat_mod

from swerve.errors import SandboxError
from swerve.sandbox.base import DirEntry, FileStat
from swerve.sandbox.ns import launcher as ns_launcher
from swerve.sandbox.ns import overlay
from swerve.sandbox.ns.launcher import Launched, Report

FSOP_TIMEOUT_S = 60.0
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class FileOps:
    """The Workspace file methods; mixed into ``NamespaceWorkspace``, whose state they use."""

    root: str
    mode: str
    host_reads: bool
    _lock: asyncio.Lock
    _init: Launched | None
    _project_dir: str | None
    _upper: str
    _lowers: list[str]
    _hidden: list[str]
    _ro_binds: list[tuple[str, str]]

    def _check_usable(self) -> None:
        raise NotImplementedError

    def _view_args(self) -> list[str]:
        raise NotImplementedError

    def _resolve(self, path: str) -> str:
        if not isinstance(path, str) or not path or "\0" in path:
            raise SandboxError(f"invalid path {path!r}")
        return path if os.path.isabs(path) else os.path.join(self.root, path)

    async def _fsop(self, op: str, path: str, data: bytes | None = None) -> bytes:
        self._check_usable()
        path = self._resolve(path)
        out_fd = ns_launcher.high_fd(os.memfd_create("swerve-fsop", os.MFD_CLOEXEC))
        in_fd = ns_launcher.memfd_with(data) if data else os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        null_fd = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)
        try:
            if self.mode == "persistent":
                assert self._init is not None
                prefix = ["enter", "--target", str(self._init.report.pid), "--parent-pid", str(os.getpid())]
                report = await self._run_fsop(prefix, op, path, in_fd, out_fd, null_fd)
            else:
                prefix = ["run", "--fs-only", "--parent-pid", str(os.getpid()), *self._view_args()]
                async with self._lock:
                    self._check_usable()
                    report = await self._run_fsop(prefix, op, path, in_fd, out_fd, null_fd)
            if report.error:
                raise SandboxError(ns_launcher.explain(report.error))
            if report.fs_errno:
                raise OSError(report.fs_errno, os.strerror(report.fs_errno), path)
            return ns_launcher.read_all(out_fd)
        finally:
            os.close(out_fd)
            os.close(in_fd)
            os.close(null_fd)

    async def _run_fsop(
        self, prefix: list[str], op: str, path: str, in_fd: int, out_fd: int, null_fd: int
    ) -> Report:
        argv = [*await ns_launcher.launcher_argv(), *prefix, "--fsop", op, path]
        launched = Launched.spawn(argv, {"PATH": DEFAULT_PATH}, stdin=in_fd, stdout=out_fd, stderr=null_fd)
        try:
            try:
                await launched.wait(FSOP_TIMEOUT_S)
            except TimeoutError:
                await ns_launcher.stop(launched)
                raise SandboxError(
                    f"file operation {op} {path} did not finish in {FSOP_TIMEOUT_S:.0f} s"
                ) from None
        except BaseException:
            await ns_launcher.stop(launched)
            launched.close()
            raise
        report = launched.read_status()
        launched.close()
        if report.wait_status is None and report.fs_errno is None and report.error is None:
            raise SandboxError(f"file operation {op} {path} failed: {report.lines or 'no report'}")
        return report

    def _host_reader(self) -> overlay.HostReader | None:
        if not self.host_reads:
            return None
        layers = [self._project_dir] if self._project_dir else [self._upper, *self._lowers]
        return overlay.HostReader(self.root, layers, [*self._hidden, *(dst for _, dst in self._ro_binds)])

    async def read_bytes(self, path: str) -> bytes:
        self._check_usable()
        reader = self._host_reader()
        if reader is not None:
            path = self._resolve(path)
            try:
                found = reader.entry(path, follow=True)
                if found is None:
                    raise FileNotFoundError(2, os.strerror(2), path)
                if stat_mod.S_ISDIR(found[1].st_mode):
                    raise IsADirectoryError(21, os.strerror(21), path)
                if stat_mod.S_ISREG(found[1].st_mode):
                    with open(found[0], "rb") as f:
                        return f.read()
            except (overlay.Delegate, PermissionError):
                pass
        return await self._fsop("read", path)

    async def write_bytes(self, path: str, data: bytes) -> None:
        await self._fsop("write", path, bytes(data))

    async def list_dir(self, path: str) -> list[DirEntry]:
        self._check_usable()
        reader = self._host_reader()
        if reader is not None:
            path = self._resolve(path)
            try:
                return [DirEntry(*entry) for entry in reader.listdir(path)]
            except (overlay.Delegate, PermissionError):
                pass
        raw = await self._fsop("list", path)
        entries = []
        for record in raw.split(b"\0"):
            if len(record) < 3:
                continue
            is_dir, is_link = record[0:1] == b"1", record[1:2] == b"1"
            size, _, name = record[2:].partition(b"/")
            entries.append(DirEntry(os.fsdecode(name), is_dir, is_link, int(size or 0)))
        return entries

    async def stat(self, path: str) -> FileStat | None:
        self._check_usable()
        reader = self._host_reader()
        if reader is not None:
            path = self._resolve(path)
            try:
                found = reader.entry(path, follow=False)
            except NotADirectoryError:
                return None
            except (overlay.Delegate, PermissionError):
                pass
            else:
                if found is None:
                    return None
                m = found[1].st_mode
                size, mtime = found[1].st_size, found[1].st_mtime
                return FileStat(
                    path, stat_mod.S_ISDIR(m), stat_mod.S_ISREG(m), stat_mod.S_ISLNK(m), size, mtime
                )
        try:
            raw = await self._fsop("stat", path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        kind, size, mtime = raw.decode().split(" ")
        return FileStat(self._resolve(path), kind == "d", kind == "f", kind == "l", int(size), float(mtime))

    async def realpath(self, path: str) -> str:
        self._check_usable()
        reader = self._host_reader()
        if reader is not None:
            path = self._resolve(path)
            try:
                reader.entry(path, follow=True)  # no symlink and no "..": the path is its own real path
                return os.path.normpath(path)
            except (overlay.Delegate, PermissionError, NotADirectoryError):
                pass
        return os.fsdecode(await self._fsop("realpath", path))

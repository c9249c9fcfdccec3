"""The command lines that start a namespace launcher for an environment, and the results they
report, as a mixin of ``NamespaceWorkspace`` (the state it reads is set up there)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Mapping

from swerve.errors import SandboxError
from swerve.sandbox.base import ExecResult
from swerve.sandbox.ns import launcher as ns_launcher
from swerve.sandbox.ns.launcher import Report
from swerve.sandbox.ns.limits import CgroupSlot, Limits
from swerve.sandbox.ns.process import exit_code
from swerve.sandbox.output import OutputBuffer
from swerve.sandbox.proctree import TAG_VAR


class LauncherArgs:
    """Builds launcher arguments from an environment's layers, view, limits and environment."""

    root: str
    network: bool
    limits: Limits
    _lowers: list[str]
    _upper: str
    _work: str
    _newroot: str
    _project_dir: str | None
    _hidden: list[str]
    _ro_binds: list[tuple[str, str]]
    _env: dict[str, str]

    _resolve: Callable[[str], str]  # from FileOps

    @property
    def lowers(self) -> list[str]:
        return list(self._lowers)

    @property
    def upper_dir(self) -> str | None:
        """The host directory holding this environment's writes (None in project mode)."""
        return None if self._project_dir else self._upper

    def _overlay_options(self) -> str:
        opts = f"lowerdir={':'.join(self._lowers)},upperdir={self._upper},workdir={self._work},userxattr"
        if len(opts) > 3900:
            raise SandboxError(
                f"too many or too long layer paths for one overlay mount ({len(opts)} bytes of options)"
            )
        return opts

    def _view_args(self) -> list[str]:
        args = ["--newroot", self._newroot, "--at", self.root, "--tmp-size", f"{self.limits.tmp_mb}m"]
        if self._project_dir:
            args += ["--bind-rw", self._project_dir, "--same-uid"]
        else:
            args += ["--overlay", self._overlay_options()]
        for h in self._hidden:
            args += ["--hide", h]
        for src, dst in self._ro_binds:
            args += ["--ro-bind", src, dst]
        if self.network:
            args.append("--net")
        return args

    def _limit_args(self, slot: CgroupSlot | None) -> list[str]:
        args = ["--parent-pid", str(os.getpid())]
        controllers = set(slot.dirs) if slot else set()
        for rl in self.limits.rlimits(memory_by_cgroup="memory" in controllers):
            args += ["--rlimit", rl]
        for f in slot.procs_files if slot else []:
            args += ["--cgroup", f]
        return args

    def _quota_args(self) -> list[str]:
        if self._project_dir or not self.limits.disk_mb:
            return []
        return ["--quota", str(self.limits.disk_mb * (1 << 20)), "--quota-dir", self._upper]

    def _wants_cgroup(self) -> bool:
        return bool(self.limits.memory_mb or self.limits.processes or self.limits.cpus)

    def _payload_args(self, command: str, cwd: str | None, tag: str) -> list[str]:
        """Arguments that end a launcher's command line: the command and its mark. The tag goes
        to the command only: a launcher carrying it would be killed along with the tree."""
        seccomp = [] if os.environ.get("SWERVE_SANDBOX_SECCOMP", "1") != "0" else ["--no-seccomp"]
        return [
            *seccomp,
            "--cwd",
            self._resolve(cwd or self.root),
            "--setenv",
            f"{TAG_VAR}={tag}",
            "--",
            *self._shell(command),
        ]

    def _command_env(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        env = {**self._env, **(extra or {})}
        env.pop(TAG_VAR, None)
        for k, v in env.items():
            if "\0" in k or "\0" in v or "=" in k or not k:
                raise SandboxError(f"invalid environment variable {k!r}")
        return env

    def _shell(self, command: str) -> list[str]:
        if "\0" in command:
            raise SandboxError("the command contains a NUL byte")
        shell = "/bin/bash" if os.path.exists("/bin/bash") else "/bin/sh"
        return [shell, "-c", command]

    def _result(self, report: Report, buffer: OutputBuffer, start: float, *, oom: bool) -> ExecResult:
        if report.error:
            stage, _, message = report.error
            if stage == "cwd":
                raise SandboxError(f"working directory does not exist: {message.split(':')[0]}")
            raise SandboxError(ns_launcher.explain(report.error))
        notes = []
        if report.timed_out:
            code = 128 + signal.SIGKILL
        elif report.quota_bytes is not None:
            code = 128 + signal.SIGKILL
            notes.append(
                f"[swerve sandbox: disk quota exceeded: the workspace's writable layer reached "
                f"{report.quota_bytes >> 20} MB of {self.limits.disk_mb} MB; the command was stopped. "
                "Delete files to make room.]"
            )
        elif report.wait_status is not None:
            code = exit_code(report.wait_status)
        else:
            raise SandboxError(f"the sandbox launcher ended without a result: {report.lines or 'no report'}")
        if oom:
            notes.append(
                f"[swerve sandbox: out of memory: the memory limit of {self.limits.memory_mb} MB was "
                "reached and the kernel killed a process]"
            )
        for note in notes:
            text = buffer.text()
            buffer.write((b"" if not text or text.endswith("\n") else b"\n") + note.encode() + b"\n")
        return ExecResult(
            exit_code=code,
            output=buffer.text(),
            duration_s=time.monotonic() - start,
            timed_out=report.timed_out,
            truncated_bytes=buffer.dropped,
        )

"""The namespace sandbox: Linux namespaces over copy-on-write overlays (see docs/sandbox.md).

An environment is a root path inside the sandbox (``root``) showing one or more read-only lower
layers through a private upper layer. Everything else of the host is read-only, the user's home,
/root, /home, /run and a list of secret paths are hidden, /tmp is private, /proc belongs to the
sandbox's own pid namespace, and there is no network but loopback unless asked for.

Two modes:

- ``stateless`` (what scales): each command runs in fresh namespaces over the environment's
  persistent upper layer and everything it started dies when it ends. An idle environment holds
  no process, no mount and no file descriptor: a directory and this object.
- ``persistent``: a long-lived init per environment holds the namespaces; commands enter them,
  so servers started in one step are there in the next.

``NamespaceWorkspace.open_project`` is the ``swerve --sandbox`` mode: the project directory
itself is writable at its own path (no overlay) and the rest of the host read-only.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterable, Mapping, Sequence

from swerve.errors import SandboxError
from swerve.sandbox.base import ExecResult
from swerve.sandbox.cancel import to_the_end
from swerve.sandbox.ns import launcher as ns_launcher
from swerve.sandbox.ns import overlay, setup
from swerve.sandbox.ns.argv import LauncherArgs
from swerve.sandbox.ns.files import DEFAULT_PATH, FileOps
from swerve.sandbox.ns.launcher import Launched, Report
from swerve.sandbox.ns.limits import CgroupPool, CgroupSlot, Limits
from swerve.sandbox.ns.process import DRAIN_GRACE_S, NamespaceJob, StartedCommand, stop_entered
from swerve.sandbox.ns.setup import Mode
from swerve.sandbox.ns.state import ProcessState, owner_id, remove_tree
from swerve.sandbox.proctree import new_tag

EXEC_BACKSTOP_S = 10.0  # the launcher enforces timeouts; this is for a launcher that hangs
_pool: CgroupPool | None = None
_supported: set[str] = set()


def cgroup_pool() -> CgroupPool:
    """This process's pool of control groups (created on first use)."""
    global _pool
    if _pool is None or _pool.owner != owner_id():
        _pool = CgroupPool(owner_id())
        pool, pid = _pool, os.getpid()
        atexit.register(lambda: pool.close() if os.getpid() == pid else None)
    return _pool


class NamespaceWorkspace(LauncherArgs, FileOps):
    """A Workspace in Linux namespaces; create with ``create`` or ``open_project``."""

    def __init__(
        self,
        *,
        root: str,
        env_dir: str,
        lowers: list[str],
        project_dir: str | None,
        mode: Mode,
        network: bool,
        limits: Limits,
        env: dict[str, str],
        hidden: list[str],
        ro_binds: list[tuple[str, str]],
        output_limit_bytes: int,
        same_uid: bool,
        host_reads: bool = True,
    ) -> None:
        self.root = root
        self.host_reads = host_reads  # answer plain reads inside the root from the host
        self.mode: Mode = mode
        self.network = network
        self.limits = limits
        self.output_limit_bytes = output_limit_bytes
        self._env_dir = env_dir
        self._lowers = lowers
        self._project_dir = project_dir
        self._env = env
        self._hidden = hidden
        self._ro_binds = ro_binds
        self._same_uid = same_uid
        self._upper = os.path.join(env_dir, "upper")
        self._work = os.path.join(env_dir, "work")
        self._newroot = os.path.join(env_dir, "root")
        self._lock = asyncio.Lock()
        self._closed = False
        self._failed: str | None = None
        self._init: Launched | None = None
        self._slot: CgroupSlot | None = None
        self._jobs: dict[str, NamespaceJob] = {}
        self._job_counter = 0

    # -- construction ---------------------------------------------------------------------

    @classmethod
    async def create(
        cls,
        lowers: Sequence[str | os.PathLike[str]],
        *,
        root: str | None = None,
        mode: Mode = "stateless",
        network: bool = False,
        limits: Limits | None = None,
        env: Mapping[str, str] | None = None,
        env_allowlist: Iterable[str] = setup.DEFAULT_ENV_ALLOWLIST,
        hidden: Iterable[str] = (),
        secret_globs: Iterable[str] = setup.DEFAULT_SECRET_GLOBS,
        ro_binds: Mapping[str, str] | None = None,
        state_dir: str | None = None,
        output_limit_bytes: int = setup.DEFAULT_OUTPUT_LIMIT,
        host_reads: bool = True,
        host_python: bool = False,
        read_only: Iterable[str] = (),
    ) -> NamespaceWorkspace:
        """A new environment over ``lowers`` (read-only layers, top first, as in overlayfs).

        ``root`` is where the merged layers appear inside the sandbox (default: the path of the
        last, bottom layer, so a repository shows at its own path). Nothing is copied: the
        environment starts as an empty upper directory. ``ro_binds`` maps sandbox paths to host
        directories shown read-only (e.g. an environment layer with a virtualenv at /opt/venv).
        With ``host_reads`` (the default), reads, listings, stats and realpaths of plain paths
        inside the root are answered from the layers on the host (same answer, microseconds);
        anything through a symlink, outside the root or hidden still goes through the sandbox.
        ``host_python`` shows the host's Python installations that live in hidden places (pyenv,
        conda, ``pip --user``) read-only, so ``python3`` inside is the host's. ``read_only`` paths
        (relative to the root, e.g. ``.git/config``) stay as the layers have them.
        """
        layers, root, secrets = setup.layered(lowers, root, secret_globs)
        ro_binds = {**setup.read_only_binds(layers, root, read_only), **(ro_binds or {})}
        if host_python:  # the host's interpreters, where they live in hidden places, read-only
            ro_binds = {**{p: p for p in setup.python_installations()}, **(ro_binds or {})}
        return await cls._open(
            root=root,
            lowers=layers,
            project_dir=None,
            mode=mode,
            network=network,
            limits=limits,
            env=env,
            env_allowlist=env_allowlist,
            hidden=[*hidden, *secrets],
            ro_binds=ro_binds,
            state_dir=state_dir,
            output_limit_bytes=output_limit_bytes,
            same_uid=False,
            host_reads=host_reads,
        )

    @classmethod
    async def open_project(
        cls,
        project_dir: str | os.PathLike[str],
        *,
        mode: Mode = "persistent",
        network: bool = False,
        limits: Limits | None = None,
        env: Mapping[str, str] | None = None,
        env_allowlist: Iterable[str] = (*setup.DEFAULT_ENV_ALLOWLIST, "USER", "LOGNAME"),
        hidden: Iterable[str] = (),
        secret_globs: Iterable[str] = setup.DEFAULT_SECRET_GLOBS,
        expose: Iterable[str] = (),
        read_only: Iterable[str] = (),
        state_dir: str | None = None,
        output_limit_bytes: int = setup.DEFAULT_OUTPUT_LIMIT,
        host_reads: bool = True,
    ) -> NamespaceWorkspace:
        """The project directory writable at its own path (but for the existing ``read_only``
        paths in it, e.g. ``.git/config``), the rest of the host read-only.

        Commands keep the caller's uid. The home directory is hidden (an empty, private one
        takes its place); ``expose`` lists host paths to show read-only anyway (the Python
        that runs swerve is exposed when it lives under a hidden directory).
        """
        path, binds, secrets = setup.project(project_dir, expose, secret_globs, read_only)
        return await cls._open(
            root=path,
            lowers=[],
            project_dir=path,
            mode=mode,
            network=network,
            limits=limits,
            env={"HOME": os.path.expanduser("~"), **(env or {})},
            env_allowlist=env_allowlist,
            hidden=[*hidden, *secrets],
            ro_binds=binds,
            state_dir=state_dir,
            output_limit_bytes=output_limit_bytes,
            same_uid=True,
            host_reads=host_reads,
        )

    @classmethod
    async def _open(
        cls,
        *,
        root: str,
        lowers: list[str],
        project_dir: str | None,
        mode: Mode,
        network: bool,
        limits: Limits | None,
        env: Mapping[str, str] | None,
        env_allowlist: Iterable[str],
        hidden: Iterable[str],
        ro_binds: Mapping[str, str] | None,
        state_dir: str | None,
        output_limit_bytes: int,
        same_uid: bool,
        host_reads: bool,
    ) -> NamespaceWorkspace:
        state = ProcessState.for_root(state_dir)
        resolved = setup.resolve(
            root=root,
            project_dir=project_dir,
            mode=mode,
            limits=limits,
            env=env,
            env_allowlist=env_allowlist,
            hidden=hidden,
            ro_binds=ro_binds,
            state=state,
            output_limit_bytes=output_limit_bytes,
            same_uid=same_uid,
        )
        await _ensure_supported(state.root)
        ws = cls(
            root=root,
            env_dir=state.new_env_dir("p" if project_dir else "e"),
            lowers=lowers,
            project_dir=project_dir,
            mode=mode,
            network=network,
            output_limit_bytes=output_limit_bytes,
            same_uid=same_uid,
            host_reads=host_reads,
            **resolved,
        )
        try:
            os.mkdir(ws._newroot, 0o700)
            if not project_dir:
                os.mkdir(ws._upper, 0o755)
                os.mkdir(ws._work, 0o700)
            if mode == "persistent":
                await ws._start_init()
        except BaseException:
            await ws.close()
            raise
        return ws

    def _check_usable(self) -> None:
        if self._closed:
            raise SandboxError("the sandbox is closed")
        if not self._failed and self._init is not None and self._init.returncode is not None:
            self._failed = "its init process ended"
        if self._failed:
            raise SandboxError(f"the sandbox is no longer usable: {self._failed}")

    # -- persistent init --------------------------------------------------------------------

    async def _start_init(self) -> None:
        if self._wants_cgroup():
            self._slot = cgroup_pool().acquire(self.limits)
        argv = [
            *await ns_launcher.launcher_argv(),
            "init",
            *self._limit_args(self._slot),
            *self._view_args(),
            *self._quota_args(),
        ]
        devnull = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
        try:
            self._init = Launched.spawn(
                argv, {"PATH": DEFAULT_PATH}, stdin=devnull, stdout=devnull, stderr=devnull
            )
        finally:
            os.close(devnull)
        ready: asyncio.Future[Report] = asyncio.get_running_loop().create_future()

        def on_status(report: Report) -> None:
            if not ready.done() and (report.ready or report.error or report.gone_status is not None):
                ready.set_result(report)
            if report.quota_bytes is not None and not self._failed:
                self._failed = (
                    f"disk quota exceeded: the writable layer reached {report.quota_bytes >> 20} MB "
                    f"(limit {self.limits.disk_mb} MB) and the environment was stopped"
                )
            elif report.gone_status is not None and not self._failed and not self._closed:
                self._failed = "its init process ended"

        self._init.watch_status(on_status)
        self._init.exited.add_done_callback(
            lambda _: None if ready.done() else ready.set_result(self._init.read_status())  # type: ignore[union-attr]
        )
        try:
            report = await asyncio.wait_for(ready, 60)
        except TimeoutError as exc:
            raise SandboxError("the sandbox's init did not get ready within 60 s") from exc
        if report.error:
            raise SandboxError(ns_launcher.explain(report.error))
        if not report.ready:
            raise SandboxError(f"the sandbox's init ended during setup: {report.lines}")

    # -- commands ---------------------------------------------------------------------------

    async def exec(
        self,
        command: str,
        *,
        cwd: str | None = None,
        timeout: float = 120.0,
        env: dict[str, str] | None = None,
        stdin: bytes | None = None,
    ) -> ExecResult:
        return await self._exec(command, cwd=cwd, timeout=timeout, env=env, stdin=stdin)

    async def _exec(
        self,
        command: str,
        *,
        cwd: str | None = None,
        timeout: float = 120.0,
        env: dict[str, str] | None = None,
        stdin: bytes | None = None,
        output_limit: int | None = None,
    ) -> ExecResult:
        self._check_usable()
        if not timeout or timeout <= 0:
            raise SandboxError(f"timeout must be positive, not {timeout!r}")
        limit = output_limit or self.output_limit_bytes
        tag = new_tag()
        argv_tail = self._payload_args(command, cwd, tag)
        cmd_env = self._command_env(env)
        if self.mode == "persistent":
            return await self._exec_entered(argv_tail, cmd_env, stdin, timeout, tag, limit)
        async with self._lock:
            self._check_usable()
            return await self._exec_fresh(argv_tail, cmd_env, stdin, timeout, limit)

    async def _exec_fresh(
        self, argv_tail: list[str], env: dict[str, str], stdin: bytes | None, timeout: float, limit: int
    ) -> ExecResult:
        start = time.monotonic()
        slot = self._borrow_group()
        oom_before = slot.oom_kills() if slot and self.limits.memory_mb else 0
        try:
            argv = [
                *await ns_launcher.launcher_argv(),
                "run",
                *self._limit_args(slot),
                *self._view_args(),
                *self._quota_args(),
                "--timeout-ms",
                str(max(1, int(timeout * 1000))),
                *argv_tail,
            ]
            started = await StartedCommand.start(argv, env, stdin, limit)
            launched = started.launched
            try:
                try:
                    await launched.wait(timeout + EXEC_BACKSTOP_S)
                except TimeoutError:
                    # the launcher itself hangs: kill it; its init follows by parent-death signal
                    launched.signal(signal.SIGKILL)
                    await launched.wait()
                    if not await ns_launcher.wait_gone(launched.read_status().pid):
                        self._failed = "a sandboxed command could not be stopped"
                    launched.report.timed_out = True
            except BaseException:  # cancelled: stop the namespace before the upper is reused
                await to_the_end(ns_launcher.stop(launched))
                started.close()
                raise
            await started.drain(2.0)
            report = launched.read_status()
            started.close()
            oom = slot.oom_kills() > oom_before if slot and self.limits.memory_mb else False
        finally:
            if slot and slot is not self._slot:
                cgroup_pool().release(slot)
        return self._result(report, started.reader.buffer, start, oom=oom)

    def _borrow_group(self) -> CgroupSlot | None:
        """A control group for one stateless command: a pooled one, or the environment's own
        when its upper layer lives in memory (tmpfs) under a memory limit, since those pages
        stay charged to the group that wrote them and must not count against another
        environment later."""
        if not self._wants_cgroup():
            return None
        if self._slot is None and self.limits.memory_mb and overlay.fs_type(self._upper) == "tmpfs":
            self._slot = cgroup_pool().acquire(self.limits)
        return self._slot or cgroup_pool().acquire(self.limits)

    async def _exec_entered(
        self,
        argv_tail: list[str],
        env: dict[str, str],
        stdin: bytes | None,
        timeout: float,
        tag: str,
        limit: int,
    ) -> ExecResult:
        start = time.monotonic()
        started = await self._start_entered(argv_tail, env, stdin, limit)
        launched = started.launched
        oom_before = self._slot.oom_kills() if self._slot and self.limits.memory_mb else 0
        try:
            try:
                await launched.wait(timeout)
            except TimeoutError:
                await stop_entered(launched, tag)
                launched.report.timed_out = True
        except BaseException:
            await stop_entered(launched, tag)
            started.close()
            raise
        await started.drain(DRAIN_GRACE_S)
        report = launched.read_status()
        started.close()
        oom = self._slot.oom_kills() > oom_before if self._slot and self.limits.memory_mb else False
        return self._result(report, started.reader.buffer, start, oom=oom)

    async def _start_entered(
        self, argv_tail: list[str], env: dict[str, str], stdin: bytes | None, limit: int | None = None
    ) -> StartedCommand:
        assert self._init is not None and self._init.report.pid
        argv = [
            *await ns_launcher.launcher_argv(),
            "enter",
            "--target",
            str(self._init.report.pid),
            *self._limit_args(self._slot),
            *argv_tail,
        ]
        return await StartedCommand.start(argv, env, stdin, limit or self.output_limit_bytes)

    async def spawn(
        self, command: str, *, cwd: str | None = None, env: dict[str, str] | None = None
    ) -> NamespaceJob:
        self._check_usable()
        if self.mode != "persistent":
            raise SandboxError(
                "a stateless sandbox keeps no process between commands; create it with mode='persistent' "
                "to run background jobs"
            )
        tag = new_tag()
        argv_tail = self._payload_args(command, cwd, tag)
        started = await self._start_entered(argv_tail, self._command_env(env), None)
        self._job_counter += 1
        job = NamespaceJob(f"bg{self._job_counter}", command, started, tag)
        self._jobs[job.id] = job
        return job

    # -- state ------------------------------------------------------------------------------

    async def diff(self) -> str:
        """Changes against the base: ``git diff`` (untracked files included) when the workspace
        is a git work tree, else a unified diff of the writable layer against the lowers."""
        self._check_usable()
        layers = [] if self._project_dir else [self._upper, *self._lowers]
        git = self._project_dir or overlay.may_be_git(self.root, layers)
        result = await self._exec(
            overlay.GIT_DIFF_SCRIPT, cwd=self.root, timeout=300, env=overlay.GIT_ENV, output_limit=256 << 20
        ) if git else None  # fmt: skip
        if result is None or result.output.startswith("__SWERVE_NOT_GIT__"):
            if self._project_dir:
                return ""
            async with self._lock:
                return overlay.layer_diff(self._upper, self._lowers)
        if result.exit_code != 0 or result.truncated_bytes:
            reason = "too large" if result.truncated_bytes else result.output.strip()[-500:]
            raise SandboxError(f"git diff failed in the sandbox: {reason}")
        return result.output

    async def disk_usage(self) -> int:
        """Bytes the writable layer holds on disk (0 in project mode)."""
        if self._project_dir:
            return 0
        return overlay.usage_bytes(self._upper)

    async def snapshot(self) -> NamespaceWorkspace:
        """A new stateless environment whose base is this one's current state: the lowers plus
        a frozen copy of the upper layer (only the upper is copied). For verification in a copy
        the agent never touched. In persistent mode, quiesce writers first."""
        self._check_usable()
        if self._project_dir:
            raise SandboxError("project mode has no copy-on-write layer to snapshot")
        state = ProcessState.for_root(os.path.dirname(os.path.dirname(self._env_dir)))
        env_dir = state.new_env_dir("s")
        frozen = os.path.join(env_dir, "layer")
        try:
            if self.mode == "stateless":
                async with self._lock:
                    await overlay.copy_layer(self._upper, frozen)
            else:
                await overlay.copy_layer(self._upper, frozen)
        except BaseException:
            remove_tree(env_dir)
            raise
        ws = NamespaceWorkspace(
            root=self.root,
            env_dir=env_dir,
            lowers=[frozen, *self._lowers],
            project_dir=None,
            mode="stateless",
            network=self.network,
            limits=self.limits,
            env=dict(self._env),
            hidden=list(self._hidden),
            ro_binds=list(self._ro_binds),
            output_limit_bytes=self.output_limit_bytes,
            same_uid=False,
            host_reads=self.host_reads,
        )
        for d in (ws._newroot, ws._upper, ws._work):
            os.mkdir(d, 0o700 if d != ws._upper else 0o755)
        return ws

    async def close(self) -> None:
        """Stop everything the environment runs and remove its directories."""
        if self._closed:
            return
        self._closed = True
        for job in list(self._jobs.values()):
            with contextlib.suppress(Exception):
                await job.kill()
        self._jobs.clear()
        if self._init is not None:
            await ns_launcher.stop(self._init)
            self._init.close()
        async with self._lock:
            remove_tree(self._env_dir)
        if self._slot is not None:  # after the layer is gone, so none of its pages stay charged
            cgroup_pool().release(self._slot)
            self._slot = None

    async def __aenter__(self) -> NamespaceWorkspace:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def _ensure_supported(state_root: str) -> None:
    """Once per process and state root: run ``true`` in a sandbox, so a kernel that lacks a
    feature fails here with a clear message instead of at the first command."""
    if state_root in _supported:
        return
    await check_support(state_root)
    _supported.add(state_root)


async def check_support(state_dir: str | None = None) -> None:
    """Raise SandboxError naming the missing kernel feature if namespace sandboxes cannot run."""
    if sys.platform != "linux":
        raise SandboxError("namespace sandboxes need Linux")
    if not hasattr(os, "posix_spawn"):
        raise SandboxError("namespace sandboxes need os.posix_spawn")
    try:
        with open("/proc/sys/user/max_user_namespaces") as f:
            if int(f.read().strip() or 0) == 0:
                raise SandboxError(ns_launcher.explain(("userns", 28, "user.max_user_namespaces is 0")))
    except (OSError, ValueError):
        pass
    state = ProcessState.for_root(state_dir)
    probe_dir = state.new_env_dir("probe")
    lower = os.path.join(probe_dir, "lower")
    try:
        for d in ("lower", "upper", "work", "root"):
            os.mkdir(os.path.join(probe_dir, d), 0o755)
        ws = NamespaceWorkspace(
            root="/workspace",
            env_dir=probe_dir,
            lowers=[lower],
            project_dir=None,
            mode="stateless",
            network=False,
            limits=Limits(),
            env={"PATH": DEFAULT_PATH},
            hidden=[state.root],
            ro_binds=[],
            output_limit_bytes=4096,
            same_uid=False,
        )
        result = await ws.exec("exit 0", timeout=30)
        if result.exit_code != 0:
            raise SandboxError(f"the sandbox self-test failed: {result.output.strip()[:500]}")
    finally:
        remove_tree(probe_dir)

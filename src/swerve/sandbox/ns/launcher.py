"""The namespace launcher: building it, starting it, and reading what it reports.

The launcher is a small C program (the ``native/`` sources, compiled together) built with the
system's C compiler once per source version and cached under the swerve cache directory;
``./scripts/setup`` builds it ahead of the first sandbox. There is exactly one launcher: without a
C compiler the namespace sandbox refuses to start and says how to get one.

Launchers are started with ``posix_spawn`` and awaited through a pidfd on the event loop, so an
environment costs no thread and an idle stateless one no process.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
import secrets
import shutil
import signal
from dataclasses import dataclass, field
from pathlib import Path

from swerve.errors import SandboxError
from swerve.paths import cache_root

NATIVE_DIR = Path(__file__).with_name("native")
LAUNCHER_ENV = "SWERVE_SANDBOX_LAUNCHER"  # a path to a launcher binary to use instead of building one
NO_COMPILER_HELP = (
    "the namespace sandbox builds its launcher with a C compiler, and none was found "
    "(install gcc, e.g. `apt-get install gcc`, or set CC; ./scripts/setup does this)"
)
_MIN_FD = 10  # fds handed to a launcher are moved above this, clear of 0-3
# Python ignores SIGPIPE and SIGXFSZ; a launcher (and so every sandboxed command) starts with defaults
_DEFAULT_SIGNALS = tuple(
    s for s in signal.valid_signals() if s not in (signal.SIGKILL, signal.SIGSTOP) and s < 65
)


_launcher: list[str] | None = None


def sources() -> list[Path]:
    """The launcher's C sources and headers, in a stable order."""
    return sorted(p for p in NATIVE_DIR.iterdir() if p.suffix in (".c", ".h"))


async def launcher_argv() -> list[str]:
    """The command prefix that starts a launcher, building it first if needed."""
    global _launcher
    if _launcher is None:
        # no lock (event loops come and go): two first callers at once just build twice
        choice = os.environ.get(LAUNCHER_ENV, "")
        _launcher = [choice] if choice else [str(await build_native())]
    return _launcher


async def build_native(directory: Path | None = None) -> Path:
    """Compile the launcher into the cache (once per source version). Raises SandboxError when
    there is no compiler or the build fails."""
    digest = hashlib.sha256()
    for path in sources():
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    version = digest.hexdigest()[:16]
    directory = directory or cache_root() / "sandbox"
    target = directory / f"ns-launcher-{version}"
    if os.access(target, os.X_OK):
        return target
    compiler = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc") or shutil.which("clang")
    if not compiler:
        raise SandboxError(NO_COMPILER_HELP)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SandboxError(f"cannot create the launcher cache {directory}: {exc}") from None
    tmp = directory / f".ns-launcher-{version}.{os.getpid()}.{secrets.token_hex(4)}"
    base = [compiler, "-O2", "-w", "-o", str(tmp), *(str(p) for p in sources() if p.suffix == ".c")]
    errors = b""
    for extra in (["-static"], []):  # static starts faster (no dynamic loader); not every libc ships libc.a
        try:
            proc = await asyncio.create_subprocess_exec(
                *base,
                *extra,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            raise SandboxError(f"cannot run the C compiler {compiler}: {exc}") from None
        _, errors = await proc.communicate()
        if proc.returncode == 0:
            os.replace(tmp, target)
            return target
    with contextlib.suppress(OSError):
        tmp.unlink()
    tail = errors.decode("utf-8", "replace").strip()[-800:]
    raise SandboxError(f"the namespace launcher did not compile with {compiler}: {tail}")


async def describe() -> str:
    """Which launcher binary runs sandboxes here."""
    return (await launcher_argv())[0]


def reset_launcher_choice() -> None:
    """Forget the chosen launcher (tests point it at another binary)."""
    global _launcher
    _launcher = None


# -- reports ---------------------------------------------------------------------------------


@dataclass
class Report:
    """What a launcher wrote on its status fd."""

    pid: int | None = None
    ready: bool = False
    wait_status: int | None = None
    timed_out: bool = False
    quota_bytes: int | None = None
    disk_bytes: int | None = None
    fs_errno: int | None = None
    gone_status: int | None = None
    error: tuple[str, int, str] | None = None  # stage, errno, message
    lines: list[str] = field(default_factory=list)

    def feed(self, line: str) -> None:
        self.lines.append(line)
        word, _, rest = line.partition(" ")
        try:
            if word == "pid":
                self.pid = int(rest)
            elif word == "ready":
                self.ready = True
            elif word == "exit":
                self.wait_status = int(rest)
            elif word == "timeout":
                self.timed_out = True
            elif word == "quota":
                self.quota_bytes = int(rest)
            elif word == "disk":
                self.disk_bytes = int(rest)
            elif word == "fserr":
                self.fs_errno = int(rest)
            elif word == "gone":
                self.gone_status = int(rest)
            elif word == "error":
                stage, _, more = rest.partition(" ")
                num, _, message = more.partition(" ")
                self.error = (stage, int(num) if num.lstrip("-").isdigit() else 0, message)
        except ValueError:
            pass

    def feed_bytes(self, data: bytes) -> None:
        for line in data.decode("utf-8", "replace").splitlines():
            if line.strip():
                self.feed(line.strip())


def explain(error: tuple[str, int, str]) -> str:
    """A setup failure, in words that name the missing feature and the setting to change."""
    stage, err, message = error
    if stage == "userns":
        return (
            "the kernel refused to create a user namespace "
            f"({message}). Enable user namespaces: sysctl user.max_user_namespaces=15000 "
            "(must be > 0); on Debian/Ubuntu also kernel.unprivileged_userns_clone=1; on Ubuntu 23.10+ "
            "kernel.apparmor_restrict_unprivileged_userns=0; inside a container, run it with "
            "--security-opt seccomp=unconfined or a profile that allows unshare/clone with CLONE_NEWUSER"
        )
    if stage == "overlay":
        if err == 19:  # ENODEV
            return (
                f"overlayfs is not available ({message}): load it with `modprobe overlay` "
                "(kernel option CONFIG_OVERLAY_FS)"
            )
        return (
            f"cannot mount the copy-on-write overlay ({message}). Unprivileged overlayfs needs "
            "Linux >= 5.11, and the state directory (SWERVE_SANDBOX_DIR) must be on a file system "
            "that supports user xattrs and d_type (ext4, xfs, btrfs, tmpfs >= 6.6), not on overlayfs "
            "itself or NFS"
        )
    if stage == "namespaces":
        return (
            f"the kernel refused to create mount/pid/network namespaces ({message}); "
            "check that user namespaces are allowed to own them (see user.max_*_namespaces sysctls)"
        )
    if stage in ("proc", "devpts", "tmpfs", "root-tmpfs", "pivot", "mount-private"):
        return f"cannot build the sandbox's file system view at stage {stage}: {message}"
    if stage == "cgroup":
        return f"cannot join the sandbox's control group: {message}"
    if stage == "workspace":
        return (
            f"cannot create the workspace mount point {message}: it must exist on the host, or lie "
            "under a new top-level directory (like /workspace), /tmp, or a hidden directory"
        )
    return f"sandbox setup failed at stage {stage}: {message}"


# -- processes -------------------------------------------------------------------------------


def high_fd(fd: int) -> int:
    """``fd`` moved to a number >= 10 (close-on-exec), so dup2 onto 0-3 never clobbers it."""
    if fd >= _MIN_FD:
        return fd
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, _MIN_FD)
    os.close(fd)
    return new


def memfd_with(data: bytes, name: str = "swerve-stdin") -> int:
    fd = high_fd(os.memfd_create(name, os.MFD_CLOEXEC))
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


class Launched:
    """One started launcher: its pid, a future for its exit, and its status pipe."""

    def __init__(self, pid: int, status_fd: int) -> None:
        self.pid = pid
        self.status_fd = status_fd
        self.report = Report()
        self.returncode: int | None = None
        loop = asyncio.get_running_loop()
        self.exited: asyncio.Future[int] = loop.create_future()
        self._status_buf = b""
        self._pidfd: int | None = None
        try:
            self._pidfd = os.pidfd_open(pid)
        except OSError:  # very old kernel: poll instead
            self._poll_task = asyncio.ensure_future(self._poll_exit())
        else:
            loop.add_reader(self._pidfd, self._on_exit)

    @classmethod
    def spawn(
        cls,
        argv: list[str],
        env: dict[str, str],
        *,
        stdin: int,
        stdout: int,
        stderr: int,
    ) -> Launched:
        """Start ``argv`` with the given fds as 0-2 and a status pipe as fd 3."""
        st_r, st_w = os.pipe2(os.O_CLOEXEC)
        st_r, st_w = high_fd(st_r), high_fd(st_w)
        os.set_blocking(st_r, False)
        actions = [
            (os.POSIX_SPAWN_DUP2, stdin, 0),
            (os.POSIX_SPAWN_DUP2, stdout, 1),
            (os.POSIX_SPAWN_DUP2, stderr, 2),
            (os.POSIX_SPAWN_DUP2, st_w, 3),
        ]
        try:
            pid = os.posix_spawn(
                argv[0], argv, env, file_actions=actions, setsid=True, setsigdef=_DEFAULT_SIGNALS
            )
        except OSError as exc:
            os.close(st_r)
            raise SandboxError(f"cannot start the sandbox launcher {argv[0]}: {exc}") from exc
        finally:
            os.close(st_w)
        return cls(pid, st_r)

    def _on_exit(self) -> None:
        assert self._pidfd is not None
        asyncio.get_running_loop().remove_reader(self._pidfd)
        os.close(self._pidfd)
        self._pidfd = None
        self._reap(blocking=True)

    async def _poll_exit(self) -> None:
        while not self._reap(blocking=False):
            await asyncio.sleep(0.01)

    def _reap(self, *, blocking: bool) -> bool:
        try:
            pid, status = os.waitpid(self.pid, 0 if blocking else os.WNOHANG)
        except ChildProcessError:  # someone else reaped it
            pid, status = self.pid, 255 << 8
        if pid == 0:
            return False
        self.returncode = os.waitstatus_to_exitcode(status)
        self.read_status()
        if not self.exited.done():
            self.exited.set_result(self.returncode)
        return True

    def read_status(self) -> Report:
        """Take in whatever the status pipe holds now."""
        if self.status_fd < 0:
            return self.report
        while True:
            try:
                chunk = os.read(self.status_fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            self._status_buf += chunk
        *lines, self._status_buf = self._status_buf.split(b"\n")
        for line in lines:
            if line.strip():
                self.report.feed(line.decode("utf-8", "replace").strip())
        return self.report

    def watch_status(self, callback) -> None:
        """Call ``callback(report)`` whenever the status pipe has news (long-lived launchers)."""
        loop = asyncio.get_running_loop()

        def ready() -> None:
            try:
                chunk = os.read(self.status_fd, 65536)
            except BlockingIOError:
                return
            if not chunk:
                loop.remove_reader(self.status_fd)
                callback(self.report)
                return
            self._status_buf += chunk
            *lines, self._status_buf = self._status_buf.split(b"\n")
            for line in lines:
                if line.strip():
                    self.report.feed(line.decode("utf-8", "replace").strip())
            callback(self.report)

        loop.add_reader(self.status_fd, ready)

    def signal(self, sig: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    async def wait(self, timeout: float | None = None) -> int:
        if timeout is None:
            return await asyncio.shield(self.exited)
        return await asyncio.wait_for(asyncio.shield(self.exited), timeout)

    def close(self) -> None:
        """Release the status pipe (after exit)."""
        if self.status_fd >= 0:
            with contextlib.suppress(ValueError, RuntimeError):
                asyncio.get_running_loop().remove_reader(self.status_fd)
            os.close(self.status_fd)
            self.status_fd = -1


async def stop(launched: Launched, grace: float = 5.0) -> None:
    """SIGTERM a launcher (it kills its namespace and waits for it), SIGKILL after ``grace``."""
    launched.signal(signal.SIGTERM)
    try:
        await launched.wait(grace)
    except TimeoutError:
        launched.signal(signal.SIGKILL)
        await launched.wait()


async def wait_gone(pid: int | None, deadline_s: float = 10.0) -> bool:
    """Wait until a process that is not our child is gone, at most ``deadline_s``."""
    if not pid:
        return True
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline_s
    while os.path.exists(f"/proc/{pid}"):
        if loop.time() > end:
            return False
        await asyncio.sleep(0.005)
    return True

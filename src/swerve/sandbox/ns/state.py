"""State directories of sandboxes, and the sweeper that removes what dead processes left.

Every process that creates sandboxes owns ``<state root>/<pid>-<start time>/``; each environment
is a directory below it (upper layer, overlay work directory, an empty mount point). Mounts live
only inside the sandboxes' own mount namespaces and processes die with their launcher, so a
process killed with SIGKILL leaves only directories (and, where cgroups are used, empty groups).
The first sandbox a process creates sweeps them: an owner whose pid is gone, or now belongs to a
process that started at another time, is dead.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import stat
from typing import ClassVar

from swerve.errors import SandboxError
from swerve.sandbox.ns.limits import group_parents, remove_group_tree
from swerve.sandbox.proctree import start_time

STATE_DIR_ENV = "SWERVE_SANDBOX_DIR"
_OWNER_RE = re.compile(r"^(\d+)-(\d+)$")


def default_state_root() -> str:
    return os.environ.get(STATE_DIR_ENV) or f"/tmp/swerve-sandbox-{os.getuid()}"


def owner_id(pid: int | None = None) -> str:
    pid = pid or os.getpid()
    return f"{pid}-{start_time(pid) or 0}"


def owner_alive(owner: str) -> bool:
    m = _OWNER_RE.match(owner)
    if not m:
        return True  # not ours to judge
    pid, start = int(m.group(1)), int(m.group(2))
    return start_time(pid) == start


def ensure_root(root: str) -> str:
    """Create the state root (mode 0700) and check that it is a directory this user owns."""
    root = os.path.abspath(root)
    try:
        os.makedirs(root, mode=0o700, exist_ok=True)
        st = os.lstat(root)
    except OSError as exc:
        raise SandboxError(f"cannot create the sandbox state directory {root}: {exc}") from exc
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
        raise SandboxError(
            f"the sandbox state directory {root} is not a directory owned by this user; "
            f"remove it or point {STATE_DIR_ENV} elsewhere"
        )
    if st.st_mode & 0o077:
        os.chmod(root, 0o700)
    return os.path.realpath(root)


def _unlock(path: str) -> None:
    """Give the owner rwx on every directory under ``path`` (a sandbox may leave mode 000 ones)."""
    stack = [path]
    while stack:
        d = stack.pop()
        try:
            st = os.lstat(d)
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode):
            continue
        if st.st_mode & 0o700 != 0o700:
            with contextlib.suppress(OSError):
                os.chmod(d, stat.S_IMODE(st.st_mode) | 0o700)
        try:
            names = os.listdir(d)
        except OSError:
            continue
        stack.extend(os.path.join(d, n) for n in names)


def remove_tree(path: str) -> None:
    """rm -rf that also gets through directories a sandbox made unreadable (mode 000)."""
    if not os.path.lexists(path):
        return
    failed: list[str] = []
    shutil.rmtree(path, onerror=lambda func, p, exc: failed.append(p))
    if failed and os.path.lexists(path):
        _unlock(path)
        shutil.rmtree(path, ignore_errors=True)


def sweep(root: str | None = None) -> list[str]:
    """Remove state directories and cgroups of dead owners. Returns the owners swept."""
    root = root or default_state_root()
    swept = []
    try:
        names = os.listdir(root)
    except OSError:
        names = []
    for name in names:
        if _OWNER_RE.match(name) and not owner_alive(name):
            remove_tree(os.path.join(root, name))
            swept.append(name)
    for parent in group_parents():
        try:
            groups = os.listdir(parent)
        except OSError:
            continue
        for name in groups:
            if name.startswith("swerve-") and not owner_alive(name[len("swerve-") :]):
                remove_group_tree(os.path.join(parent, name))
                swept.append(name)
    return swept


class ProcessState:
    """This process's directory under a state root, created (after a sweep) on first use."""

    _by_root: ClassVar[dict[str, ProcessState]] = {}

    def __init__(self, root: str) -> None:
        self.root = root
        self.owner = owner_id()
        self.path = os.path.join(root, self.owner)
        self._counter = 0

    @classmethod
    def for_root(cls, root: str | None) -> ProcessState:
        real = ensure_root(root or default_state_root())
        state = cls._by_root.get(real)
        if state is None or state.owner != owner_id():  # a forked child gets its own
            sweep(real)
            state = cls(real)
            os.makedirs(state.path, mode=0o700, exist_ok=True)
            cls._by_root[real] = state
            atexit.register(state.remove_if_empty, os.getpid())
        return state

    def remove_if_empty(self, pid: int) -> None:
        """At exit: drop this process's directory when every environment was closed."""
        if os.getpid() == pid:
            with contextlib.suppress(OSError):
                os.rmdir(self.path)

    def new_env_dir(self, prefix: str = "e") -> str:
        self._counter += 1
        path = os.path.join(self.path, f"{prefix}{self._counter}")
        os.mkdir(path, 0o700)
        return path

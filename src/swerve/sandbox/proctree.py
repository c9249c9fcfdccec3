"""Find and kill whole process trees on Linux by reading /proc.

A command may leave processes behind that its process group does not cover: children that
called ``setsid`` (new session and group) or that double-forked (reparented to init or to a
subreaper, so the parent chain is broken). Two marks find them:

- the parent chain: every process whose ancestry leads to the root pid;
- an environment tag: ``TAG_VAR=<tag>`` set in the command's environment is inherited by every
  descendant that does not scrub its environment, whatever its parent or session.

``kill_tree`` stops everything it finds (so nothing forks while we look), looks again until
no new process appears, then SIGKILLs the lot and the process group.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal

TAG_VAR = "SWERVE_PROC_TAG"
_MAX_ROUNDS = 50


def new_tag() -> str:
    """A fresh value for ``TAG_VAR``."""
    return secrets.token_hex(8)


def _pids() -> list[int]:
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    return [int(n) for n in names if n.isdigit()]


def _stat(pid: int) -> tuple[int, str] | None:
    """(ppid, state) of a process, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    # the command name may hold spaces and parentheses: fields follow the last ')'
    fields = data[data.rfind(b")") + 2 :].split()
    if len(fields) < 2:
        return None
    return int(fields[1]), fields[0].decode("ascii", "replace")


def _has_tag(pid: int, needle: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = f.read()
    except OSError:
        return False
    return needle in env.split(b"\0")


def is_alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    st = _stat(pid)
    return st is not None and st[1] not in ("Z", "X")


def find_tree(root: int | None, tag: str | None = None) -> set[int]:
    """Pids of ``root`` and all its descendants, plus every process carrying ``tag``."""
    parents: dict[int, int] = {}
    found: set[int] = set()
    needle = f"{TAG_VAR}={tag}".encode() if tag else None
    me = os.getpid()
    for pid in _pids():
        st = _stat(pid)
        if st is None or st[1] in ("Z", "X"):
            continue
        parents[pid] = st[0]
        if needle is not None and pid != me and _has_tag(pid, needle):
            found.add(pid)
    if root is not None and root in parents:
        found.add(root)
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    stack = list(found)
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    found.discard(me)
    return found


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def kill_tree(root: int | None, tag: str | None = None, *, pgid: int | None = None) -> set[int]:
    """SIGKILL ``root``, its descendants, every process tagged ``tag`` and the group ``pgid``.

    Processes are stopped as they are found and the search repeats until it finds nothing new,
    so a process cannot escape by forking during the kill. Returns the pids signalled.
    """
    seen: set[int] = set()
    for _ in range(_MAX_ROUNDS):
        new = find_tree(root, tag) - seen
        if not new:
            break
        for pid in new:
            _signal(pid, signal.SIGSTOP)
        seen |= new
    if pgid is not None and pgid > 1:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
    for pid in seen:
        _signal(pid, signal.SIGKILL)
    return seen


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2 :].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None

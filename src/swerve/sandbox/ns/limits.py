"""Resource limits for sandboxes: control groups where they are writable, rlimits otherwise.

Every sandbox has limits unless told otherwise (``Limits()`` holds the defaults below;
``Limits.unlimited()`` none). Memory, process counts and CPU share are limited through cgroups
(v1 ``memory``, ``pids`` and ``cpu`` hierarchies, or v2 with those controllers delegated) when this
process may create groups under its own cgroup. Otherwise memory falls back to RLIMIT_AS (per process, counts address space) and
processes to RLIMIT_NPROC (counted per user namespace, so per sandbox; not enforced when the
caller is root, since the kernel exempts uid 0). CPU time, file size and open files are always
rlimits. Disk is the copy-on-write upper layer's quota, watched by the launcher (in project mode,
where the project is written in place, it caps the size of each file instead).

Stateless commands take a cgroup from a small pool of slots (one per command running at that
moment, reused), so thousands of idle environments hold no cgroup at all.
"""

from __future__ import annotations

import contextlib
import os
import signal
from dataclasses import dataclass, fields, replace
from typing import Any

from swerve.errors import SandboxError

MB = 1 << 20
CONTROLLERS = ("memory", "pids", "cpu")
CPU_PERIOD_US = 100_000


# the defaults every sandbox gets: room for real test suites and builds, not for a runaway
DEFAULT_MEMORY_MB = 4096
DEFAULT_PROCESSES = 1024
DEFAULT_OPEN_FILES = 16384
DEFAULT_DISK_MB = 1024


@dataclass(frozen=True)
class Limits:
    """Per-command limits of a sandbox (``None``: no limit). The defaults apply to every sandbox."""

    memory_mb: int | None = DEFAULT_MEMORY_MB  # resident memory of the command's processes together
    processes: int | None = DEFAULT_PROCESSES  # processes and threads alive at once
    cpu_seconds: int | None = None  # CPU time of each process (RLIMIT_CPU)
    file_size_mb: int | None = None  # largest file a process may write (RLIMIT_FSIZE)
    open_files: int | None = DEFAULT_OPEN_FILES  # descriptors per process (RLIMIT_NOFILE)
    disk_mb: int | None = DEFAULT_DISK_MB  # bytes the environment's writable layer may hold
    cpus: float | None = None  # CPU cores' worth of time at once (cgroup cpu quota); shares are equal
    tmp_mb: int = 1024  # size of the private /tmp (memory-backed)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if f.name == "cpus":
                if isinstance(value, bool) or not isinstance(value, int | float) or not 0.01 <= value <= 4096:
                    raise SandboxError(f"limit cpus must be a number of cores from 0.01, not {value!r}")
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise SandboxError(f"limit {f.name} must be a positive whole number, not {value!r}")

    @classmethod
    def unlimited(cls) -> Limits:
        """No limit at all (the private /tmp keeps its size)."""
        return cls(memory_mb=None, processes=None, open_files=None, disk_mb=None)

    def with_changes(self, **changes: Any) -> Limits:
        """These limits with some fields changed; ``0`` turns a limit off (``None`` keeps it)."""
        names = {f.name for f in fields(self)}
        unknown = set(changes) - names
        if unknown:
            raise SandboxError(
                f"unknown limit(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(names))}"
            )
        given = {k: (None if v == 0 and k != "tmp_mb" else v) for k, v in changes.items() if v is not None}
        return replace(self, **given)

    def describe(self) -> str:
        """One line for people: ``memory 4096 MB, 1024 processes, ...``."""
        parts = [
            f"memory {self.memory_mb} MB" if self.memory_mb else "memory unlimited",
            f"{self.processes} processes" if self.processes else "processes unlimited",
            f"disk {self.disk_mb} MB" if self.disk_mb else "disk unlimited",
            f"{self.cpus:g} CPUs" if self.cpus else "equal CPU share",
            f"{self.open_files} open files" if self.open_files else "open files unlimited",
        ]
        if self.cpu_seconds:
            parts.append(f"{self.cpu_seconds} CPU s per process")
        if self.file_size_mb:
            parts.append(f"files up to {self.file_size_mb} MB")
        return ", ".join(parts)

    def rlimits(self, *, memory_by_cgroup: bool) -> list[str]:
        """``--rlimit`` values for the launcher."""
        out = []
        if self.cpu_seconds:
            out.append(f"cpu={self.cpu_seconds}")
        sizes = [v * MB for v in (self.file_size_mb, self.disk_mb) if v]
        if sizes:
            out.append(f"fsize={min(sizes)}")
        if self.open_files:
            out.append(f"nofile={self.open_files}")
        if self.processes:
            out.append(f"nproc={self.processes}")
        if self.memory_mb and not memory_by_cgroup:
            # address space, not resident memory: leave room for what runtimes map and never touch
            out.append(f"as={max(self.memory_mb * 2, self.memory_mb + 256) * MB}")
        return out


# -- control groups --------------------------------------------------------------------------


def _own_cgroups() -> dict[str, str]:
    """controller (or "" for v2) -> this process's path in that hierarchy."""
    out = {}
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                for c in controllers.split(",") if controllers else [""]:
                    out[c] = path
    except OSError:
        pass
    return out


def _cgroup_mounts() -> dict[str, str]:
    """controller (or "" for v2) -> mount point."""
    out: dict[str, str] = {}
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                left, _, right = line.partition(" - ")
                parts = right.split()
                if len(parts) < 3:
                    continue
                fstype, options = parts[0], parts[2]
                mountpoint = left.split()[4]
                if fstype == "cgroup2":
                    out.setdefault("", mountpoint)
                elif fstype == "cgroup":
                    for opt in options.split(","):
                        if opt in CONTROLLERS:
                            out.setdefault(opt, mountpoint)
    except OSError:
        pass
    return out


def _write(path: str, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


class CgroupSlot:
    """One group (a directory per hierarchy) that a running sandbox joins."""

    def __init__(self, dirs: dict[str, str], version: int) -> None:
        self.dirs = dirs  # "memory"/"pids"/"cpu" -> directory (all the same on v2)
        self.version = version
        self.memory_mb: int | None = None

    @property
    def procs_files(self) -> list[str]:
        return sorted({os.path.join(d, "cgroup.procs") for d in self.dirs.values()})

    def apply(self, limits: Limits) -> None:
        if "memory" in self.dirs:
            d = self.dirs["memory"]
            if self.version == 1:
                value = str(limits.memory_mb * MB) if limits.memory_mb else "-1"
                memsw = os.path.join(d, "memory.memsw.limit_in_bytes")
                has_swap = os.path.exists(memsw)
                if has_swap and not limits.memory_mb:
                    _write(memsw, "-1")
                _write(os.path.join(d, "memory.limit_in_bytes"), value)
                if has_swap and limits.memory_mb:
                    _write(memsw, value)  # no swapping around the limit
            else:
                _write(
                    os.path.join(d, "memory.max"), str(limits.memory_mb * MB) if limits.memory_mb else "max"
                )
                with contextlib.suppress(OSError):
                    _write(os.path.join(d, "memory.swap.max"), "0" if limits.memory_mb else "max")
            self.memory_mb = limits.memory_mb
        if "pids" in self.dirs:
            _write(os.path.join(self.dirs["pids"], "pids.max"), str(limits.processes or "max"))
        if "cpu" in self.dirs:
            # a group of its own already gives equal shares; a quota caps the cores it may use
            quota = int(limits.cpus * CPU_PERIOD_US) if limits.cpus else None
            d = self.dirs["cpu"]
            if self.version == 1:
                _write(os.path.join(d, "cpu.cfs_period_us"), str(CPU_PERIOD_US))
                _write(os.path.join(d, "cpu.cfs_quota_us"), str(quota or -1))
            else:
                _write(os.path.join(d, "cpu.max"), f"{quota or 'max'} {CPU_PERIOD_US}")

    def oom_kills(self) -> int:
        """How many processes the kernel killed in this group for lack of memory, so far."""
        d = self.dirs.get("memory")
        if not d:
            return 0
        text = _read(os.path.join(d, "memory.oom_control" if self.version == 1 else "memory.events"))
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value or 0)
        return 0

    def pids(self) -> list[int]:
        out = []
        for f in self.procs_files:
            out += [int(x) for x in _read(f).split() if x.isdigit()]
        return out

    def kill_all(self) -> None:
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def remove(self) -> None:
        for d in set(self.dirs.values()):
            with contextlib.suppress(OSError):
                os.rmdir(d)


class CgroupPool:
    """Groups under this process's own cgroup, named ``swerve-<owner>``; slots reused."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.version = 0
        self.bases: dict[str, str] = {}  # controller -> our group directory
        self._free: list[CgroupSlot] = []
        self._count = 0
        self._detect()

    @property
    def controllers(self) -> set[str]:
        return set(self.bases)

    def _detect(self) -> None:
        if os.environ.get("SWERVE_SANDBOX_CGROUPS", "1") == "0":
            return
        own, mounts = _own_cgroups(), _cgroup_mounts()
        v1 = {}
        for controller in CONTROLLERS:
            if controller in mounts and controller in own:
                parent = os.path.join(mounts[controller], own[controller].lstrip("/"))
                v1[controller] = os.path.join(parent, f"swerve-{self.owner}")
        if v1:
            made = {}
            for controller, d in v1.items():
                try:
                    os.makedirs(d, exist_ok=True)
                    made[controller] = d
                except OSError:
                    continue
            if made:
                self.version, self.bases = 1, made
                return
        if "" in mounts and "" in own:
            parent = os.path.join(mounts[""], own[""].lstrip("/"))
            enabled = set(_read(os.path.join(parent, "cgroup.subtree_control")).split())
            wanted = set(CONTROLLERS) & set(_read(os.path.join(parent, "cgroup.controllers")).split())
            if not wanted:
                return
            for c in wanted - enabled:
                with contextlib.suppress(OSError):
                    _write(os.path.join(parent, "cgroup.subtree_control"), f"+{c}")
            enabled = set(_read(os.path.join(parent, "cgroup.subtree_control")).split()) & wanted
            if not enabled:
                return
            d = os.path.join(parent, f"swerve-{self.owner}")
            try:
                os.makedirs(d, exist_ok=True)
                _write(os.path.join(d, "cgroup.subtree_control"), " ".join(f"+{c}" for c in enabled))
            except OSError:
                with contextlib.suppress(OSError):
                    os.rmdir(d)
                return
            self.version, self.bases = 2, dict.fromkeys(enabled, d)

    def _new_slot(self) -> CgroupSlot | None:
        self._count += 1
        dirs = {}
        try:
            for controller, base in self.bases.items():
                d = os.path.join(base, f"slot-{self._count}")
                os.makedirs(d, exist_ok=True)
                dirs[controller] = d
        except OSError:
            CgroupSlot(dirs, self.version).remove()
            return None
        return CgroupSlot(dirs, self.version)

    def acquire(self, limits: Limits) -> CgroupSlot | None:
        """A slot with ``limits`` applied, or None when cgroups are not usable here."""
        if not self.bases:
            return None
        for _ in range(3):
            slot = self._free.pop() if self._free else self._new_slot()
            if slot is None:
                return None
            try:
                slot.apply(limits)
            except OSError:
                # e.g. memory still charged above the new limit: start a fresh group
                slot.kill_all()
                slot.remove()
                continue
            return slot
        return None

    def release(self, slot: CgroupSlot) -> None:
        if slot.pids():
            slot.kill_all()
            slot.remove()
            return
        self._free.append(slot)

    def close(self) -> None:
        """Remove every group of this pool (processes in them are killed)."""
        for slot in self._free:
            slot.kill_all()
            slot.remove()
        self._free.clear()
        for base in set(self.bases.values()):
            remove_group_tree(base)


def remove_group_tree(base: str) -> None:
    """Kill what runs in a ``swerve-*`` group and its slots, then remove them."""
    try:
        children = [os.path.join(base, n) for n in os.listdir(base)]
    except OSError:
        return
    for d in children:
        if os.path.isdir(d):
            for pid in _read(os.path.join(d, "cgroup.procs")).split():
                with contextlib.suppress(ProcessLookupError, PermissionError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.rmdir(d)
    with contextlib.suppress(OSError):
        os.rmdir(base)


def group_parents() -> list[str]:
    """Directories where this process's pools live (for the sweeper)."""
    own, mounts = _own_cgroups(), _cgroup_mounts()
    out = []
    for controller in (*CONTROLLERS, ""):
        if controller in mounts and controller in own:
            out.append(os.path.join(mounts[controller], own[controller].lstrip("/")))
    return out

"""What a run leaves behind on the host: processes, mounts and sandbox directories.

Take a ``Footprint`` before and count what is new after; a clean farm leaves nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from swerve.sandbox.ns.state import ProcessState
from swerve.sandbox.proctree import find_tree

STATE_MARKER = "swerve-sandbox"


def sandbox_mounts() -> int:
    """Host mounts under the sandboxes' state directory (the sandboxes' own mounts are private)."""
    with open("/proc/self/mountinfo") as f:
        return sum(1 for line in f if STATE_MARKER in line.split(" - ")[0])


def state_entries(root: str | None = None) -> set[str]:
    """Environment directories of this process under the sandbox state root."""
    path = ProcessState.for_root(root).path
    try:
        return set(os.listdir(path))
    except OSError:
        return set()


@dataclass
class Footprint:
    processes: set[int]
    mounts: int
    dirs: set[str]

    @classmethod
    def take(cls, state_root: str | None = None) -> Footprint:
        return cls(find_tree(os.getpid()), sandbox_mounts(), state_entries(state_root))

    def left_since(self, state_root: str | None = None) -> dict[str, int]:
        """What exists now that did not before: {"processes", "mounts", "directories"}."""
        now = Footprint.take(state_root)
        return {
            "processes": len(now.processes - self.processes),
            "mounts": max(0, now.mounts - self.mounts),
            "directories": len(now.dirs - self.dirs),
        }

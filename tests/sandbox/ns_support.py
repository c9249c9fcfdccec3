"""Shared helpers for the namespace sandbox tests."""

from __future__ import annotations

import os
import random


def host_processes_with(marker: str) -> list[int]:
    """Live (not zombie) host processes whose command line holds ``marker``."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ")
            with open(f"/proc/{name}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state != b"Z":
            found.append(int(name))
    return found


def marker_sleep() -> str:
    """A sleep command whose duration is unique enough to find the process again."""
    return f"sleep {random.randint(100000, 999999)}.{random.randint(100, 999)}"


def mount_count() -> int:
    with open("/proc/self/mountinfo") as f:
        return len(f.readlines())


def host_mounts_with(marker: str) -> int:
    """How many of this process's mounts name ``marker``."""
    with open("/proc/self/mountinfo") as f:
        return sum(1 for line in f if marker in line)

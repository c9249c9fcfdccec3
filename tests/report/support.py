"""Helpers of the report tests: the ``swerve`` command as a user runs it, a run's own records."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

LIBRARY = "inflection"
TASKS = (
    "builtin__inflection-484df7bd",  # always fixed
    "builtin__inflection-5dd15764",  # a change that fixes nothing
    "builtin__inflection-625aa0c8",  # no change
    "builtin__inflection-bff95d2e",  # fixed about half the time
)
VALIDATED = TASKS[:2]


def swerve(*args: str, cwd: Path | None = None, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """The ``swerve`` command, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "swerve.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


def records(run_dir: Path) -> list[dict]:
    """The run's records, read straight from its file (the report must agree with these)."""
    return [
        json.loads(line) for line in (run_dir / "episodes.jsonl").read_text().splitlines() if line.strip()
    ]

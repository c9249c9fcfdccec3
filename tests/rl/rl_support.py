"""Helpers of the RL bridge's tests: a real run directory from ``swerve gym run``, and the CLI as
a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

RUN_TASKS = [
    {"id": "read", "verify": "test -f notes.txt", "prompt": "Read notes.txt and say what it holds."},
    {"id": "write", "verify": "grep -q 42 answer.txt", "prompt": "Write 42 into a new file answer.txt."},
]


def gym_run(server, tmp: Path, *, capture: bool = True, samples: int = 2, turns: int = 2) -> Path:
    """A real run directory: ``swerve gym run`` with the embedded model on two tiny tasks."""
    start = tmp / "start"
    start.mkdir(parents=True, exist_ok=True)
    (start / "notes.txt").write_text("first line\n")
    tasks = tmp / "tasks.jsonl"
    tasks.write_text("".join(json.dumps(t | {"path": str(start)}) + "\n" for t in RUN_TASKS))
    out = tmp / "run"
    args = [
        "gym", "run", "--tasks", str(tasks), "--out", str(out), "--model", "rl",
        "--base-url", server.base_url, "--api-key", "none", "--max-turns", str(turns),
        "--reply-tokens", "40", "--temperature", "1.0", "--samples", str(samples),
        "--concurrency", "4", "--no-report", "--json",
    ] + (["--capture-tokens"] if capture else [])  # fmt: skip
    done = swerve(args, tmp)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def swerve(args: list[str], cwd: Path, timeout: float = 1200) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_"))}
    env.update(HOME=str(cwd), SWERVE_HOME=str(cwd / ".swerve"))
    return subprocess.run(
        [sys.executable, "-m", "swerve.cli.main", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip

"""``swerve serve`` as a command: bad flags get a clear message and exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")


def serve(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "PYTHONPATH": SRC}
    cmd = [sys.executable, "-m", "swerve.cli.main", "serve", "--port", "0", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "0.0.0.0", "--backend", "http://127.0.0.1:9/v1", "--model", "m"], "needs an auth token"),
        (["--backend", "ftp://example"], "is not one of"),
        ([], "no model is configured"),
        (["--settings", "/nonexistent/settings.json"], "cannot read the settings file"),
    ],
    ids=["open-interface-without-token", "bad-backend", "no-model", "missing-settings"],
)
def test_bad_flags_exit_2_with_a_message(tmp_path: Path, args: list[str], message: str) -> None:
    done = serve(args, tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr

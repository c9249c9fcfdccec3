"""What the CLI tests share: a small git repository with a real bug, the environment of a clean
user, and running the real ``swerve`` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from swerve.testing.openai_server import OpenAIScriptServer

BUGGY = "def add(a, b):\n    return a - b\n"
TEST = "from calc import add\n\nassert add(2, 3) == 5, add(2, 3)\nprint('ok')\n"


def git_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "calc.py").write_text(BUGGY)
    (path / "test_calc.py").write_text(TEST)
    subprocess.run(["git", "init", "-q"], cwd=path, check=True)
    subprocess.run(["git", "add", "."], cwd=path, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init"], cwd=path, check=True
    )
    return path


def env_for(home: Path, base_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_"))}
    env["SWERVE_HOME"] = str(home)
    env["HOME"] = str(home)
    if base_url:
        env["OPENAI_BASE_URL"] = base_url
        env["OPENAI_API_KEY"] = "sk-test-key-that-must-not-leak"
        env["OPENAI_MODEL"] = "test-model"
    return env


def swerve(
    args: list[str], cwd: Path, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "swerve.cli.main", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def bodies(srv: OpenAIScriptServer) -> list[dict]:
    return [r.json for r in srv.requests if r.path.endswith("/chat/completions")]


def tc(name: str, **arguments) -> dict:
    return {"name": name, "arguments": arguments}

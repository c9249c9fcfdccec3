"""``swerve -p --sandbox --yolo`` over a repository: a model that writes around the shell-word
checks (through python) still cannot change git's behaviour or swerve's settings: existing
protected paths are read-only inside the sandbox, new ones are removed after the command."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from cli_support import env_for, swerve

pytestmark = pytest.mark.usefixtures("namespaces_available")


def py(code: str) -> dict:
    return {
        "tool_calls": [
            {
                "name": "run_shell_command",
                "arguments": {"command": f"python3 -c {json.dumps(code)}; echo rc=$?"},
            }
        ]
    }


ATTACKS = [
    py("open('.git/config', 'a').write('[core]\\n\\tfsmonitor = touch pwned\\n')"),
    py(
        "import os; os.makedirs('.git/hooks', exist_ok=True); open('.git/hooks/pre-commit', 'w').write('#!/bin/sh\\nid\\n')"
    ),
    py("import os; os.makedirs('.swerve', exist_ok=True); open('.swerve/settings.json', 'w').write('{}')"),
    py("open('.mcp.json', 'w').write('{\"mcpServers\": {}}')"),
    py("open('.gitmodules', 'w').write('[submodule \"x\"]\\n')"),
    py("open('work.txt', 'w').write('ordinary work')"),
    {"text": "done"},
]


def test_protected_paths_hold_inside_the_sandbox_in_yolo(tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    config = (repo / ".git" / "config").read_text()
    script = tmp_path / "script.json"
    script.write_text(json.dumps(ATTACKS))
    done = swerve(
        ["-p", "tidy up", "--sandbox", "--yolo", "--model", f"replay:{script}", "--output-format", "json"],
        cwd=repo,
        env=env_for(home),
    )
    assert done.returncode == 0, done.stderr
    assert (repo / "work.txt").read_text() == "ordinary work"  # the project is writable
    assert (repo / ".git" / "config").read_text() == config
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()
    assert not (repo / ".swerve").exists()
    assert not (repo / ".mcp.json").exists()
    assert not (repo / ".gitmodules").exists()
    status = subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True)
    assert status.stdout.split() == ["??", "work.txt"] and not (repo / "pwned").exists()


def test_a_repository_made_in_the_sandbox_keeps_its_own_git_files(tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    script = tmp_path / "script.json"
    init = {
        "tool_calls": [
            {"name": "run_shell_command", "arguments": {"command": "git init -q . && git status --short"}}
        ]
    }
    script.write_text(json.dumps([init, {"text": "done"}]))
    done = swerve(
        ["-p", "start a repo", "--sandbox", "--yolo", "--model", f"replay:{script}"],
        cwd=project,
        env=env_for(home),
    )
    assert done.returncode == 0, done.stderr
    assert (project / ".git" / "config").exists() and (project / ".git" / "hooks").is_dir()

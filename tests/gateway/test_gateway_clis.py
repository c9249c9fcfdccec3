"""The real coding CLIs from npm, each editing a file through ``swerve serve`` (a subprocess)
in front of a scripted backend that has no Anthropic or Responses API of its own.

The CLIs are installed once into swerve's cache (``npm install --prefix``); without npm or the
registry the tests skip and say why."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from swerve.paths import cache_root
from swerve.testing.openai_server import OpenAIScriptServer

CLIS = {
    "claude": "@anthropic-ai/claude-code@2.1.197",
    "qwen": "@qwen-code/qwen-code@0.15.10",
    "codex": "@openai/codex@0.171.0",
}
TASK = "Change the greeting in app.py to goodbye."
SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.fixture(scope="session")
def npm_bin() -> Path:
    """The folder of the CLIs' executables, installed when missing."""
    prefix = cache_root() / "npm"
    bin_dir = prefix / "node_modules" / ".bin"
    if all((bin_dir / name).exists() for name in CLIS):
        return bin_dir
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed, so the CLIs cannot be had (apt-get install npm)")
    prefix.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", *CLIS.values()],
            capture_output=True,
            text=True,
            timeout=600,
        )
    except subprocess.TimeoutExpired:
        pytest.skip("npm install of the CLIs did not finish in 10 minutes (is the registry reachable?)")
    if done.returncode != 0:
        pytest.skip(f"npm could not install the CLIs (registry unreachable?): {done.stderr.strip()[-400:]}")
    return bin_dir


class Serve:
    """``swerve serve`` as a subprocess, on a free port, logging requests."""

    def __init__(self, args: list[str], log: Path) -> None:
        env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
        cmd = [sys.executable, "-m", "swerve.cli.main", "serve", "--port", "0", "--log", str(log), *args]
        self.process = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        if "listening on" not in first:
            self.process.kill()
            raise AssertionError(f"swerve serve did not start: {first}{self.process.stderr.read()}")  # type: ignore[union-attr]
        self.url = first.split()[-1]
        self.log = log

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    work = tmp_path / "work"
    work.mkdir()
    (work / "app.py").write_text('def greet():\n    return "hello"\n')
    subprocess.run(["git", "init", "-q"], cwd=work, check=True)
    (tmp_path / "home").mkdir()
    yield work


def edit_steps(read: tuple[str, str] | None, edit: tuple[str, dict[str, Any]]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    if read is not None:
        steps.append(
            {
                "text": "Reading the file.",
                "tool_calls": [{"name": read[0], "arguments": {"file_path": read[1]}}],
            }
        )
    steps.append(
        {"text": "Editing it.", "tool_calls": [{"name": edit[0], "arguments": edit[1]}], "chunk_size": 5}
    )
    steps.append({"text": "Changed the greeting to goodbye."})
    return steps


def run_cli(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "HOME": str(cwd.parent / "home"), "NO_COLOR": "1"}
    return subprocess.run(cmd, cwd=cwd, env={**base, **env}, capture_output=True, text=True, timeout=240)


def test_claude_code_edits_a_file_through_swerve_serve(npm_bin: Path, project: Path, tmp_path: Path) -> None:
    path = str(project / "app.py")
    replace = {"file_path": path, "old_string": 'return "hello"', "new_string": 'return "goodbye"'}
    with (
        OpenAIScriptServer(edit_steps(("Read", path), ("Edit", replace))) as coder,
        OpenAIScriptServer([]) as quick,
    ):
        settings = tmp_path / "settings.json"
        backends = {
            "coder": {"model": "scripted-coder", "provider": "openai", "baseUrl": coder.base_url},
            "quick": {"model": "scripted-quick", "provider": "openai", "baseUrl": quick.base_url},
        }
        settings.write_text(
            json.dumps({"gateway": {"backends": backends, "default": "coder", "background": "quick"}})
        )
        serve = Serve(
            ["--settings", str(settings), "--auth-token", "gw-token-for-claude"], tmp_path / "gw.jsonl"
        )
        try:
            env = {
                "ANTHROPIC_BASE_URL": serve.url,
                "ANTHROPIC_AUTH_TOKEN": "gw-token-for-claude",
                "ANTHROPIC_MODEL": "scripted-coder",
                "ANTHROPIC_SMALL_FAST_MODEL": "claude-3-5-haiku-latest",
                "ANTHROPIC_DEFAULT_HAIKU_MODEL": "claude-3-5-haiku-latest",
                "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
                "DISABLE_AUTOUPDATER": "1",
            }
            cmd = [
                str(npm_bin / "claude"),
                "-p",
                TASK,
                "--permission-mode",
                "acceptEdits",
                "--output-format",
                "json",
            ]
            done = run_cli(cmd, project, env)
        finally:
            serve.stop()
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert json.loads(done.stdout)["result"] == "Changed the greeting to goodbye."
    assert (project / "app.py").read_text() == 'def greet():\n    return "goodbye"\n'
    turns = [r for r in serve.records() if r["path"] == "/v1/messages"]
    assert [r.get("stop_reason") for r in turns] == ["tool_use", "tool_use", "end_turn"]
    assert "gw-token-for-claude" not in serve.log.read_text()


def test_qwen_code_edits_a_file_through_swerve_serve(npm_bin: Path, project: Path, tmp_path: Path) -> None:
    path = str(project / "app.py")
    replace = {"file_path": path, "old_string": 'return "hello"', "new_string": 'return "goodbye"'}
    with OpenAIScriptServer(edit_steps(("read_file", path), ("edit", replace))) as coder:
        serve = Serve(["--backend", coder.base_url, "--model", "scripted-coder"], tmp_path / "gw.jsonl")
        try:
            env = {
                "OPENAI_BASE_URL": f"{serve.url}/v1",
                "OPENAI_API_KEY": "swerve",
                "OPENAI_MODEL": "scripted-coder",
            }
            done = run_cli(
                [str(npm_bin / "qwen"), "-p", TASK, "--yolo", "--auth-type", "openai"], project, env
            )
        finally:
            serve.stop()
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Changed the greeting to goodbye." in done.stdout
    assert (project / "app.py").read_text() == 'def greet():\n    return "goodbye"\n'
    assert [r.get("finish") for r in serve.records() if r["path"] == "/v1/chat/completions"][:3] == [
        "tool_calls",
        "tool_calls",
        "stop",
    ]


def test_codex_exec_edits_a_file_through_swerve_serve(npm_bin: Path, project: Path, tmp_path: Path) -> None:
    command = {"cmd": "sed -i 's/hello/goodbye/' app.py"}
    with OpenAIScriptServer(edit_steps(None, ("exec_command", command))) as coder:
        serve = Serve(["--backend", coder.base_url, "--model", "scripted-coder"], tmp_path / "gw.jsonl")
        try:
            codex_home = tmp_path / "home" / ".codex"
            codex_home.mkdir()
            provider = f'model_providers.swerve={{name="swerve",base_url="{serve.url}/v1",wire_api="responses",env_key="SWERVE_KEY"}}'
            cmd = [
                str(npm_bin / "codex"),
                "exec",
                "--skip-git-repo-check",
                "--dangerously-bypass-approvals-and-sandbox",
                "-c",
                provider,
                "-c",
                "model_provider=swerve",
                "-m",
                "scripted-coder",
                TASK,
            ]
            done = run_cli(cmd, project, {"CODEX_HOME": str(codex_home), "SWERVE_KEY": "swerve"})
        finally:
            serve.stop()
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Changed the greeting to goodbye." in done.stdout
    assert (project / "app.py").read_text() == 'def greet():\n    return "goodbye"\n'
    assert [r.get("finish") for r in serve.records() if r["path"] == "/v1/responses"] == [
        "tool_calls",
        "stop",
    ]

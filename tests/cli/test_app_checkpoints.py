"""Checkpoints in a shadow git repository, and the agent hooks the app uses to take them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from swerve.agent.events import Compressed
from swerve.agent.loop import Agent
from swerve.cli.app.checkpoints import CheckpointError, Checkpoints, close_open_calls, project_key
from swerve.models.replay import ReplayModel
from swerve.sandbox.host import HostWorkspace
from swerve.tools import default_tools
from swerve.tools.base import ToolContext
from swerve.tools.registry import ToolRegistry


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "proj"
    path.mkdir()
    (path / "a.txt").write_text("one\n")
    (path / "sub").mkdir()
    (path / "sub" / "b.txt").write_text("two\n")
    (path / ".gitignore").write_text("ignored.log\n")
    (path / "ignored.log").write_text("keep me\n")
    git(path, "init", "-q")
    git(path, "add", ".")
    git(path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
    return path


CALL = {"id": "c1", "type": "function", "function": {"name": "edit", "arguments": {}}}


async def test_snapshot_and_restore_files_and_conversation(repo, tmp_path):
    before_head = git(repo, "rev-parse", "HEAD")
    before_status = git(repo, "status", "--porcelain")
    cps = Checkpoints(str(repo), home=tmp_path / "home")
    messages = [
        {"role": "user", "content": "change things"},
        {"role": "assistant", "content": "", "tool_calls": [CALL]},
    ]
    cp = await cps.snapshot("before edit a.txt", messages, "sess1")
    assert cps.git_dir.is_relative_to(tmp_path / "home" / "history")

    (repo / "a.txt").write_text("changed\n")
    (repo / "sub" / "b.txt").unlink()
    (repo / "new").mkdir()
    (repo / "new" / "c.txt").write_text("new\n")
    (repo / "ignored.log").write_text("changed too\n")
    assert sorted(await cps.changed_since(cp)) == ["a.txt", "new/c.txt", "sub/b.txt"]

    restored = await cps.restore(cp)
    assert (repo / "a.txt").read_text() == "one\n"
    assert (repo / "sub" / "b.txt").read_text() == "two\n"
    assert not (repo / "new").exists()
    assert (repo / "ignored.log").read_text() == "changed too\n"  # ignored files are left alone
    assert sorted(restored.changed) == ["a.txt", "sub/b.txt"] and restored.removed == ["new/c.txt"]
    assert restored.messages[:2] == messages
    assert restored.messages[2]["role"] == "tool" and restored.messages[2]["tool_call_id"] == "c1"
    assert "restored the checkpoint" in restored.messages[2]["content"]

    # the project's own repository saw nothing
    assert git(repo, "rev-parse", "HEAD") == before_head
    assert git(repo, "status", "--porcelain") == before_status

    # the restore itself can be undone
    assert restored.undo is not None
    again = await cps.restore(cps.find(restored.undo.id))
    assert (repo / "a.txt").read_text() == "changed\n" and (repo / "new" / "c.txt").exists()
    assert [c.label for c in cps.list()][:2] == ["before edit a.txt", f"before restoring {cp.id}"]
    assert again.checkpoint.id == restored.undo.id


async def test_find_by_number_and_prefix_and_errors(repo, tmp_path):
    cps = Checkpoints(str(repo), home=tmp_path / "home")
    with pytest.raises(CheckpointError, match="no checkpoints"):
        cps.find("1")
    first = await cps.snapshot("first")
    second = await cps.snapshot("second")
    assert cps.find("1").id == first.id
    assert cps.find("2").id == second.id
    assert cps.find(second.commit[:12]).id == second.id
    with pytest.raises(CheckpointError, match="no checkpoint 'zzz'"):
        cps.find("zzz")
    assert cps.messages_of(first) is None  # no conversation was given


async def test_projects_get_their_own_shadow_repo(tmp_path):
    a, b = tmp_path / "x" / "app", tmp_path / "y" / "app"
    a.mkdir(parents=True)
    b.mkdir(parents=True)
    assert project_key(str(a)) != project_key(str(b))
    assert project_key(str(a)).startswith("app-")
    missing = Checkpoints(str(tmp_path / "nope"), home=tmp_path / "home")
    with pytest.raises(CheckpointError, match="no such directory"):
        await missing.snapshot("x")


def test_close_open_calls_leaves_answered_calls():
    answered = [
        {"role": "assistant", "content": "", "tool_calls": [CALL]},
        {"role": "tool", "tool_call_id": "c1", "name": "edit", "content": "ok"},
    ]
    assert close_open_calls(answered) == answered
    assert close_open_calls([]) == []


async def test_agent_before_tools_hook_and_replace_history(tmp_path):
    (tmp_path / "f.txt").write_text("x\n")
    turns = [
        {"tool_calls": [{"name": "read_file", "arguments": {"file_path": "f.txt"}}]},
        {"text": "done"},
    ]
    model = ReplayModel(turns, name="replay")
    seen: list[list[str]] = []
    events: list[object] = []

    async def hook(calls):
        seen.append([c.name for c in calls])

    agent = Agent(
        model,
        ToolRegistry(default_tools()),
        ToolContext(HostWorkspace(str(tmp_path))),
        on_event=events.append,
        before_tools=hook,
    )
    finished = await agent.run("read it")
    assert finished.exit_reason == "completed"
    assert seen == [["read_file"]]

    agent.replace_history(agent.messages[:1])
    assert [m["role"] for m in agent.messages] == ["system"]
    assert isinstance(events[-1], Compressed) and events[-1].messages == agent.messages


async def test_a_failing_hook_is_a_notice_not_a_crash(tmp_path):
    from swerve.agent.events import Notice

    model = ReplayModel(
        [{"tool_calls": [{"name": "list_directory", "arguments": {}}]}, {"text": "ok"}], name="r"
    )
    events: list[object] = []

    async def broken(calls):
        raise OSError("disk full")

    agent = Agent(
        model,
        ToolRegistry(default_tools()),
        ToolContext(HostWorkspace(str(tmp_path))),
        on_event=events.append,
        before_tools=broken,
    )
    assert (await agent.run("go")).exit_reason == "completed"
    assert any(isinstance(e, Notice) and "disk full" in e.text for e in events)


def test_checkpoint_home_follows_swerve_home(tmp_path, monkeypatch):
    monkeypatch.setenv("SWERVE_HOME", str(tmp_path / "elsewhere"))
    cps = Checkpoints(os.getcwd())
    assert str(cps.root).startswith(str(tmp_path / "elsewhere" / "history"))

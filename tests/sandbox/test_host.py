"""HostWorkspace: real subprocesses, real process trees, real git repositories."""

import asyncio
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from swerve.errors import SandboxError
from swerve.sandbox.host import HostWorkspace
from swerve.sandbox.output import OutputBuffer
from swerve.sandbox.proctree import is_alive, kill_tree


async def eventually(predicate, what: str, deadline_s: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline_s
    while not predicate():
        if loop.time() > end:
            pytest.fail(f"never happened: {what}")
        await asyncio.sleep(0.05)


def read_pid(path: Path) -> int:
    return int(path.read_text().strip())


@pytest.fixture
async def ws(tmp_path: Path):
    workspace = HostWorkspace(str(tmp_path))
    yield workspace
    await workspace.close()


# -- exec -----------------------------------------------------------------------------------


async def test_stdout_and_stderr_are_one_stream_in_order(ws):
    result = await ws.exec("echo a; echo b >&2; echo c; echo d >&2")
    assert result.output == "a\nb\nc\nd\n"
    assert result.exit_code == 0 and not result.timed_out and result.truncated_bytes == 0


async def test_exit_code_cwd_env_and_stdin(ws, tmp_path: Path):
    (tmp_path / "sub").mkdir()
    result = await ws.exec("pwd; echo $GREETING; exit 7", cwd=str(tmp_path / "sub"), env={"GREETING": "hi"})
    assert result.output == f"{tmp_path / 'sub'}\nhi\n" and result.exit_code == 7
    assert (await ws.exec("cat", stdin=b"from stdin")).output == "from stdin"
    assert (await ws.exec("cat")).output == ""  # no stdin: /dev/null, never a hang
    assert (await ws.exec("kill -TERM $$")).exit_code == 128 + 15
    with pytest.raises(SandboxError, match="does not exist"):
        await ws.exec("true", cwd=str(tmp_path / "missing"))


async def test_workspace_env_and_quiet_defaults(tmp_path: Path):
    ws = HostWorkspace(str(tmp_path), env={"FROM_WS": "1"})
    result = await ws.exec("echo $FROM_WS $PAGER $GIT_TERMINAL_PROMPT")
    assert result.output == "1 cat 0\n"


async def test_invalid_utf8_is_replaced(ws):
    result = await ws.exec(r"printf 'ok \377\376 end\n'")
    assert result.output == "ok \ufffd\ufffd end\n"


async def test_timeout_kills_setsid_and_double_forked_processes(ws, tmp_path: Path):
    script = (
        "setsid sleep 300 & echo $! > setsid.pid; "
        f"{sys.executable} -c 'import os, time\n"
        "if os.fork(): os._exit(0)\n"
        "os.setsid()\n"
        "if os.fork(): os._exit(0)\n"
        'open("double.pid", "w").write(str(os.getpid())); time.sleep(300)\'; '
        "(sleep 300 & echo $! > orphan.pid); "
        "echo $$ > shell.pid; until [ -s double.pid ]; do sleep 0.05; done; echo waiting; sleep 300"
    )
    result = await ws.exec(script, timeout=4)
    assert result.timed_out
    assert result.exit_code == 137
    assert result.output == "waiting\n"
    for name in ("setsid.pid", "double.pid", "orphan.pid", "shell.pid"):
        pid = read_pid(tmp_path / name)
        await eventually(lambda pid=pid: not is_alive(pid), f"{name} process gone")


async def test_normal_exit_leaves_deliberate_daemons_alone(ws, tmp_path: Path):
    result = await ws.exec("nohup sleep 300 > /dev/null 2>&1 & echo $! > d.pid; echo bye")
    assert result.output == "bye\n" and result.exit_code == 0
    pid = read_pid(tmp_path / "d.pid")
    try:
        assert is_alive(pid)
    finally:
        kill_tree(pid)
    await eventually(lambda: not is_alive(pid), "daemon cleaned up")


async def test_a_leftover_holding_the_pipe_does_not_hang_exec(ws, tmp_path: Path):
    result = await ws.exec("sleep 300 & echo $! > held.pid; echo done", timeout=60)
    assert result.output == "done\n" and not result.timed_out
    pid = read_pid(tmp_path / "held.pid")
    kill_tree(pid)
    await eventually(lambda: not is_alive(pid), "pipe holder cleaned up")


async def test_cancellation_kills_the_tree(ws, tmp_path: Path):
    task = asyncio.create_task(ws.exec("setsid sleep 300 & echo $! > c.pid; sleep 300"))
    await eventually(
        lambda: (tmp_path / "c.pid").exists() and (tmp_path / "c.pid").read_text().strip(), "pid file"
    )
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    pid = read_pid(tmp_path / "c.pid")
    await eventually(lambda: not is_alive(pid), "cancelled command's daemon gone")


async def test_huge_output_keeps_head_and_tail(tmp_path: Path):
    ws = HostWorkspace(str(tmp_path), output_limit_bytes=10_000)
    result = await ws.exec("seq 1 100000; echo the-end")
    total = len("".join(f"{i}\n" for i in range(1, 100001))) + len("the-end\n")
    assert result.truncated_bytes == total - 10_000
    assert result.output.startswith("1\n2\n3\n")
    assert result.output.endswith("100000\nthe-end\n")
    assert f"[... {result.truncated_bytes} bytes of output omitted ...]" in result.output


def test_output_buffer_counts_every_dropped_byte():
    buf = OutputBuffer(10)
    for chunk in (b"abc", b"defgh", b"ijklmnop", b"qr"):
        buf.write(chunk)
    assert buf.dropped == 18 - 10
    assert buf.text() == "abcde\n[... 8 bytes of output omitted ...]\nnopqr"


# -- spawn ----------------------------------------------------------------------------------


async def test_spawned_job_output_status_and_kill(ws, tmp_path: Path):
    job = await ws.spawn("echo one; echo two >&2; setsid sleep 300 & echo $! > j.pid; wait")
    assert job.id == "bg1" and job.command.startswith("echo one")
    await eventually(lambda: "two" in job.output() and (tmp_path / "j.pid").exists(), "job output")
    assert job.output().startswith("one\ntwo\n")
    assert job.returncode() is None
    await job.kill()
    assert job.returncode() == 137
    pid = read_pid(tmp_path / "j.pid")
    await eventually(lambda: not is_alive(pid), "job's daemon gone")
    done = await ws.spawn("echo quick")
    await eventually(lambda: done.returncode() == 0 and done.output() == "quick\n", "short job finished")


async def test_close_stops_running_jobs(tmp_path: Path):
    ws = HostWorkspace(str(tmp_path))
    await ws.spawn("echo $$ > s.pid; sleep 300")
    await eventually(
        lambda: (tmp_path / "s.pid").exists() and (tmp_path / "s.pid").read_text().strip(), "pid file"
    )
    pid = read_pid(tmp_path / "s.pid")
    await ws.close()
    await eventually(lambda: not is_alive(pid), "job stopped by close()")


# -- files ----------------------------------------------------------------------------------


async def test_file_operations(ws, tmp_path: Path):
    target = f"{tmp_path}/a/b/c.txt"
    await ws.write_bytes(target, b"data")
    assert await ws.read_bytes(target) == b"data"
    st = await ws.stat(target)
    assert st.is_file and not st.is_dir and st.size == 4
    assert await ws.stat(f"{tmp_path}/nope") is None
    os.symlink(target, tmp_path / "link")
    assert (await ws.stat(f"{tmp_path}/link")).is_symlink
    assert await ws.realpath(f"{tmp_path}/link") == target
    entries = {e.name: e for e in await ws.list_dir(str(tmp_path))}
    assert entries["a"].is_dir and entries["link"].is_symlink and entries["link"].size == 4
    os.symlink(tmp_path / "missing", tmp_path / "dangling")
    entries = {e.name: e for e in await ws.list_dir(str(tmp_path))}
    assert entries["dangling"].is_symlink and not entries["dangling"].is_dir
    with pytest.raises(FileNotFoundError):
        await ws.read_bytes(f"{tmp_path}/nope")


# -- diff -----------------------------------------------------------------------------------

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}  # fmt: skip
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


@needs_git
async def test_diff_includes_untracked_files_and_leaves_the_index_alone(tmp_path: Path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "kept.txt").write_text("one\n")
    (repo / "gone.txt").write_text("bye\n")
    (repo / ".gitignore").write_text("*.log\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    (repo / "kept.txt").write_text("one\ntwo\n")
    (repo / "gone.txt").unlink()
    (repo / "new.txt").write_text("fresh\n")
    (repo / "staged.txt").write_text("in the index\n")
    (repo / "noise.log").write_text("ignored\n")
    git(repo, "add", "staged.txt")
    index_before = (repo / ".git/index").read_bytes()
    status_before = git(repo, "status", "--porcelain")

    patch = await HostWorkspace(str(repo)).diff()

    assert (repo / ".git/index").read_bytes() == index_before
    assert git(repo, "status", "--porcelain") == status_before
    assert "diff --git a/kept.txt b/kept.txt" in patch and "+two" in patch
    assert "diff --git a/gone.txt b/gone.txt" in patch and "deleted file mode" in patch
    assert "diff --git a/new.txt b/new.txt" in patch and "+fresh" in patch
    assert "diff --git a/staged.txt b/staged.txt" in patch
    assert "noise.log" not in patch
    # the patch recreates the work tree on a clean checkout
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    (clone / "p.diff").write_text(patch)
    git(clone, "apply", "p.diff")
    assert (clone / "new.txt").read_text() == "fresh\n" and not (clone / "gone.txt").exists()


@needs_git
async def test_diff_sees_a_same_size_edit_made_right_after_the_commit(tmp_path: Path):
    # the racy-git case: same size, same second as the index, diff taken in a later second;
    # stat data alone cannot tell
    for attempt in range(2):
        repo = tmp_path / f"r{attempt}"
        repo.mkdir()
        git(repo, "init", "-q")
        (repo / "calc.py").write_text("return a - b\n")
        git(repo, "add", ".")
        git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
        (repo / "calc.py").write_text("return a + b\n")
        await asyncio.sleep(1.05 - time.time() % 1)  # into the next second
        diff = await HostWorkspace(str(repo)).diff()
        assert "+return a + b" in diff, f"attempt {attempt}: {diff!r}"


async def test_diff_in_a_subdirectory_without_commits_and_outside_git(tmp_path: Path):
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    git(repo, "init", "-q")
    (repo / "top.txt").write_text("top\n")
    (repo / "pkg/mod.py").write_text("x = 1\n")
    patch = await HostWorkspace(str(repo / "pkg")).diff()
    assert "diff --git a/mod.py b/mod.py" in patch and "top.txt" not in patch
    assert not (repo / ".git/index").exists()
    plain = tmp_path / "plain"
    plain.mkdir()
    assert await HostWorkspace(str(plain)).diff() == ""


async def test_a_command_that_cannot_start_is_a_sandbox_error(ws):
    with pytest.raises(SandboxError, match="cannot start the shell"):
        await ws.exec("echo a\0b")
    assert (await ws.exec("echo still fine")).output == "still fine\n"

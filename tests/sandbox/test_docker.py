"""The docker workspace against a real Docker daemon and a small image built here (no registry).

When no daemon can be reached or started, every test here skips and says why.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from docker_support import REPO, api_client, daemon_problem, local_image, user_image

from swerve.errors import SandboxError
from swerve.sandbox.docker import (
    LABEL_EXPIRES,
    LABEL_OWNER_NS,
    LABEL_OWNER_PID,
    LABEL_OWNER_START,
    LABEL_SANDBOX,
    DockerWorkspace,
    open_docker_workspace,
    sweep_docker_orphans,
)

PROCS = "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done"


@pytest.fixture(scope="module")
def image() -> tuple[str, bool]:
    problem = daemon_problem()
    if problem is not None:
        pytest.skip(f"no docker daemon: {problem}")
    name, problem, has_git = local_image()
    if name is None:
        pytest.skip(f"no test image: {problem}")
    return name, has_git


@pytest.fixture
def api(image):
    client = api_client()
    yield client
    client.close()


@pytest.fixture
def base(tmp_path: Path) -> Path:
    root = tmp_path / "base"
    (root / "src").mkdir(parents=True)
    (root / "hello.txt").write_text("hello\n")
    (root / "src" / "app.py").write_text("print('app')\n")
    (root / "run.sh").write_text("#!/bin/sh\necho run\n")
    (root / "run.sh").chmod(0o755)
    (root / "link").symlink_to("hello.txt")
    return root


@pytest.fixture
async def ws(image, base):
    workspace = await open_docker_workspace(str(base), image=image[0], ttl_s=600, labels={"test": "yes"})
    yield workspace
    await workspace.close()


def container_exists(api, container_id: str) -> bool:
    import docker

    try:
        api.inspect_container(container_id)
        return True
    except docker.errors.NotFound:
        return False


async def wait_gone(api, container_id: str, limit_s: float = 60.0) -> bool:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if not container_exists(api, container_id):
            return True
        await asyncio.sleep(0.2)
    return False


# -- commands -------------------------------------------------------------------------------


async def test_exec_merges_output_in_order_and_reports_exit_code(ws: DockerWorkspace):
    result = await ws.exec("echo one; echo two >&2; echo three; exit 3")
    assert result.exit_code == 3
    assert result.output == "one\ntwo\nthree\n"
    assert not result.timed_out and result.truncated_bytes == 0

    script = "i=0; while [ $i -lt 300 ]; do echo out$i; echo err$i >&2; i=$((i+1)); done"
    result = await ws.exec(script)
    expected = "".join(f"out{i}\nerr{i}\n" for i in range(300))
    assert result.exit_code == 0
    assert result.output == expected


async def test_exec_cwd_env_stdin_and_base_copy(ws: DockerWorkspace):
    result = await ws.exec(
        "pwd; echo $GREETING; cat; cat hello.txt", cwd="src", env={"GREETING": "hi"}, stdin=b"in\n"
    )
    assert result.exit_code == 1
    assert result.output.startswith("/workspace/src\nhi\nin\n")
    assert "hello.txt" in result.output.splitlines()[3]  # cat's complaint, in order
    result = await ws.exec("cat hello.txt; ./run.sh; readlink link; cat src/app.py")
    assert result.exit_code == 0
    assert result.output == "hello\nrun\nhello.txt\nprint('app')\n"
    left = await ws.exec("ls -a /tmp")  # the stdin file was removed once read
    assert ".swerve" not in left.output


async def test_exec_killed_by_signal_and_missing_cwd(ws: DockerWorkspace):
    result = await ws.exec("kill -TERM $$")
    assert result.exit_code == 128 + signal.SIGTERM
    with pytest.raises(SandboxError, match="working directory does not exist"):
        await ws.exec("true", cwd="/no/such/dir")


async def test_timeout_kills_the_whole_tree(ws: DockerWorkspace):
    command = "sleep 301 & env -i sleep 302 & setsid sleep 303 & echo started; sleep 304"
    result = await ws.exec(command, timeout=1.5)
    assert result.timed_out
    assert result.exit_code == 137
    assert result.output == "started\n"
    procs = (await ws.exec(PROCS)).output
    for n in (301, 302, 303, 304):
        assert f"sleep {n}" not in procs


async def test_background_process_left_by_a_command_does_not_hold_it(ws: DockerWorkspace):
    result = await ws.exec("sleep 30 >/dev/null 2>&1 & echo done", timeout=20)
    assert result.output == "done\n" and not result.timed_out
    # a leftover that keeps the output stream open does not hold the command either
    result = await ws.exec("sleep 31 & echo held; exit 5", timeout=20)
    assert (result.output, result.exit_code, result.timed_out) == ("held\n", 5, False)
    assert "sleep 30" in (await ws.exec(PROCS)).output  # left running, as in a terminal


async def test_cancelled_exec_kills_the_command(ws: DockerWorkspace):
    task = asyncio.ensure_future(ws.exec("touch /tmp/started; sleep 305", timeout=60))
    for _ in range(200):
        if await ws.stat("/tmp/started") is not None:
            break
        await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert "sleep 305" not in (await ws.exec(PROCS)).output


async def test_output_is_bounded_head_and_tail(ws: DockerWorkspace):
    ws.output_limit_bytes = 1000
    result = await ws.exec(
        "echo FIRST; i=0; while [ $i -lt 5000 ]; do echo line$i; i=$((i+1)); done; echo LAST"
    )
    assert result.truncated_bytes > 0
    assert result.output.startswith("FIRST\n")
    assert result.output.endswith("LAST\n")
    assert "bytes of output omitted" in result.output


async def test_concurrent_commands_keep_their_own_output(ws: DockerWorkspace):
    results = await asyncio.gather(*(ws.exec(f"echo job{i}") for i in range(16)))
    assert [r.output for r in results] == [f"job{i}\n" for i in range(16)]


async def test_spawn_and_kill_a_background_job(ws: DockerWorkspace):
    job = await ws.spawn("echo started; sleep 306")
    for _ in range(200):
        if "started" in job.output():
            break
        await asyncio.sleep(0.05)
    assert job.output() == "started\n"
    assert job.returncode() is None
    await job.kill()
    assert job.returncode() is not None
    assert "sleep 306" not in (await ws.exec(PROCS)).output
    done = await ws.spawn("echo bye; exit 4")
    for _ in range(200):
        if done.returncode() is not None:
            break
        await asyncio.sleep(0.05)
    assert done.returncode() == 4 and done.output() == "bye\n"


# -- files ----------------------------------------------------------------------------------


async def test_file_round_trip_and_errors(ws: DockerWorkspace):
    data = bytes(range(256)) * 1000
    await ws.write_bytes("/workspace/new/deep/blob.bin", data)
    assert await ws.read_bytes("/workspace/new/deep/blob.bin") == data
    assert (await ws.exec("wc -c < new/deep/blob.bin")).output.strip() == str(len(data))

    await ws.write_bytes("/workspace/link", b"through the link\n")  # follows the symlink
    assert await ws.read_bytes("/workspace/hello.txt") == b"through the link\n"
    await ws.exec("chmod 751 run.sh")
    await ws.write_bytes("/workspace/run.sh", b"#!/bin/sh\necho new\n")  # keeps the mode
    assert (await ws.exec("stat -c %a run.sh; ./run.sh")).output == "751\nnew\n"

    with pytest.raises(FileNotFoundError):
        await ws.read_bytes("/workspace/missing")
    with pytest.raises(IsADirectoryError):
        await ws.read_bytes("/workspace/src")
    with pytest.raises(IsADirectoryError):
        await ws.write_bytes("/workspace/src", b"x")
    with pytest.raises(NotADirectoryError):
        await ws.write_bytes("/workspace/hello.txt/below", b"x")
    with pytest.raises(FileNotFoundError):
        await ws.list_dir("/workspace/missing")
    with pytest.raises(NotADirectoryError):
        await ws.list_dir("/workspace/hello.txt")


async def test_stat_list_and_realpath(ws: DockerWorkspace):
    await ws.exec("mkfifo pipe; ln -s nowhere dangling; ln -s src srclink; : > 'odd name'")
    st = await ws.stat("/workspace/hello.txt")
    assert st is not None and st.is_file and not st.is_dir and not st.is_symlink and st.size == 6
    assert st.mtime > 1_000_000_000
    link = await ws.stat("/workspace/link")
    assert link is not None and link.is_symlink and not link.is_file
    folder = await ws.stat("/workspace/src")
    assert folder is not None and folder.is_dir
    assert await ws.stat("/workspace/missing") is None
    assert await ws.stat("/workspace/hello.txt/below") is None

    entries = {e.name: e for e in await ws.list_dir("/workspace")}
    assert set(entries) == {"hello.txt", "src", "run.sh", "link", "pipe", "dangling", "srclink", "odd name"}
    assert entries["hello.txt"].size == 6 and not entries["hello.txt"].is_dir
    assert entries["src"].is_dir and not entries["src"].is_symlink
    assert entries["srclink"].is_dir and entries["srclink"].is_symlink
    assert entries["link"].is_symlink and entries["link"].size == 6
    assert entries["dangling"].is_symlink and entries["dangling"].size == 0
    assert not entries["pipe"].is_dir and entries["pipe"].size == 0
    await ws.exec("mkdir empty")
    assert await ws.list_dir("/workspace/empty") == []

    assert await ws.realpath("/workspace/link") == "/workspace/hello.txt"
    assert await ws.realpath("/workspace/srclink/app.py") == "/workspace/src/app.py"
    assert await ws.realpath("/workspace/srclink/not/yet") == "/workspace/src/not/yet"
    assert await ws.realpath("/workspace") == "/workspace"


# -- diff -----------------------------------------------------------------------------------


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t"}
    env["GIT_COMMITTER_EMAIL"] = "t@t"
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


async def _change_tree(ws: DockerWorkspace) -> None:
    await ws.write_bytes("/workspace/hello.txt", b"hello\nworld")  # no newline at the end
    await ws.write_bytes("/workspace/src/new.py", b"x = 1\n")
    await ws.write_bytes("/workspace/data.bin", b"\x00\x01\x02")
    await ws.exec("rm src/app.py && chmod 644 run.sh && rm link && ln -s src/new.py link")


def _without(patch: str, name: str) -> str:
    """The patch less the part for ``name`` (git cannot apply a binary part without its data)."""
    parts = patch.split("diff --git ")
    return parts[0] + "".join("diff --git " + p for p in parts[1:] if not p.startswith(f"a/{name} "))


def _check_applied(tree: Path) -> None:
    assert (tree / "hello.txt").read_bytes() == b"hello\nworld"
    assert (tree / "src" / "new.py").read_bytes() == b"x = 1\n"
    assert not (tree / "src" / "app.py").exists()
    assert os.readlink(tree / "link") == "src/new.py"
    assert not os.access(tree / "run.sh", os.X_OK)


async def test_diff_against_a_plain_base_applies_with_git(ws: DockerWorkspace, base: Path, tmp_path: Path):
    assert await ws.diff() == ""
    await _change_tree(ws)
    patch = await ws.diff()
    assert "--- a/hello.txt\n+++ b/hello.txt\n" in patch
    assert "\\ No newline at end of file" in patch
    assert "deleted file mode 100644" in patch and "new file mode 100644" in patch
    assert "old mode 100755\nnew mode 100644" in patch
    assert "Binary files /dev/null and b/data.bin differ" in patch
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-a", str(base), str(copy)], check=True)
    (tmp_path / "p.diff").write_text(_without(patch, "data.bin"))
    subprocess.run(["git", "apply", str(tmp_path / "p.diff")], cwd=copy, check=True, capture_output=True)
    _check_applied(copy)


async def test_diff_in_a_git_base_uses_git_and_keeps_the_index(image, base: Path, tmp_path: Path):
    name, has_git = image
    if not has_git:
        pytest.skip("the test image has no git (no git on this machine to copy into it)")
    _git(base, "init", "-q")
    _git(base, "add", "-A")
    _git(base, "commit", "-q", "-m", "base")
    ws = await open_docker_workspace(str(base), image=name, ttl_s=600)
    try:
        assert await ws.diff() == ""
        await _change_tree(ws)
        patch = await ws.diff()
        assert "diff --git a/src/new.py b/src/new.py" in patch
        assert "deleted file mode 100644" in patch
        status = (await ws.exec("git -c safe.directory='*' status --porcelain")).output
        assert "?? src/new.py" in status  # diff() did not add anything to the real index
        assert "Binary files /dev/null and b/data.bin differ" in patch
        clone = tmp_path / "clone"
        _git(tmp_path, "clone", "-q", str(base), str(clone))
        (tmp_path / "p.diff").write_text(_without(patch, "data.bin"))
        subprocess.run(["git", "apply", str(tmp_path / "p.diff")], cwd=clone, check=True, capture_output=True)
        _check_applied(clone)
    finally:
        await ws.close()


async def test_diff_without_base_outside_git_is_empty(image):
    async with await open_docker_workspace(None, image=image[0], ttl_s=600) as ws:
        await ws.write_bytes("/workspace/a.txt", b"a\n")
        assert await ws.diff() == ""


async def test_an_image_with_a_non_root_user(image, base: Path):
    async with await open_docker_workspace(str(base), image=user_image(image[0], "1000"), ttl_s=600) as ws:
        result = await ws.exec(
            "id -u; stat -c %u . hello.txt src/app.py; echo new > made.txt && cat made.txt"
        )
        assert result.output == "1000\n1000\n1000\n1000\nnew\n"
        await ws.write_bytes("/workspace/deep/x.txt", b"x")
        assert (await ws.exec("stat -c %u deep deep/x.txt")).output == "1000\n1000\n"
        assert (await ws.exec("cat", stdin=b"in\n")).output == "in\n"
        result = await ws.exec("sleep 308 & setsid sleep 309 & sleep 310", timeout=1)
        assert result.timed_out
        procs = (await ws.exec(PROCS)).output
        assert not any(f"sleep {n}" in procs for n in (308, 309, 310))
        await ws.write_bytes("/workspace/hello.txt", b"changed\n")
        assert "+changed" in await ws.diff()


# -- the container ----------------------------------------------------------------------------


async def test_container_has_no_network_labels_and_limits(image, api):
    async with await open_docker_workspace(
        None, image=image[0], ttl_s=600, memory_mb=64, labels={"team": "eval"}
    ) as ws:
        info = api.inspect_container(ws.container_id)
        assert info["HostConfig"]["NetworkMode"] == "none"
        assert info["HostConfig"]["Memory"] == 64 * 1024 * 1024
        assert (await ws.exec("ls /sys/class/net")).output.split() == ["lo"]
        labels = info["Config"]["Labels"]
        assert labels[LABEL_SANDBOX] == "1"
        assert labels[LABEL_OWNER_PID] == str(os.getpid())
        with open(f"/proc/{os.getpid()}/stat", "rb") as f:
            stat = f.read()
        assert labels[LABEL_OWNER_START] == stat[stat.rfind(b")") + 2 :].split()[19].decode()
        assert labels[LABEL_OWNER_NS]
        assert time.time() < int(labels[LABEL_EXPIRES]) <= time.time() + 601
        assert labels["team"] == "eval"
        assert ws.root == "/workspace"


async def test_close_removes_the_container(image, api):
    ws = await open_docker_workspace(None, image=image[0], ttl_s=600)
    await ws.spawn("sleep 307")
    assert container_exists(api, ws.container_id)
    await ws.close()
    assert await wait_gone(api, ws.container_id)
    await ws.close()  # twice is fine
    with pytest.raises(SandboxError, match="closed"):
        await ws.exec("true")


async def test_container_ends_by_itself_when_its_ttl_passes(image, api):
    ws = await open_docker_workspace(None, image=image[0], ttl_s=1)
    try:
        assert await wait_gone(api, ws.container_id)
        with pytest.raises(SandboxError, match=r"gone or stopped|has stopped"):
            await ws.exec("true")
    finally:
        await ws.close()


CHILD = textwrap.dedent(
    """
    import asyncio, sys, time
    from swerve.sandbox.docker import open_docker_workspace

    async def main():
        ws = await open_docker_workspace(None, image=sys.argv[1], ttl_s=600)
        print(ws.container_id, flush=True)
        if sys.argv[2] == "hold":
            time.sleep(600)
        await ws.close()

    asyncio.run(main())
    """
)


def _child(image_name: str, mode: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, image_name, mode],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )


async def test_sweeper_removes_containers_of_killed_owners(image, api):
    holder = _child(image[0], "hold")
    try:
        orphan = holder.stdout.readline().strip()
        assert orphan and container_exists(api, orphan)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert container_exists(api, orphan)
    # another process's first workspace sweeps it
    opener = _child(image[0], "close")
    out, _ = opener.communicate(timeout=120)
    assert opener.returncode == 0, out
    assert await wait_gone(api, orphan)

    holder = _child(image[0], "hold")
    try:
        orphan = holder.stdout.readline().strip()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    removed = await sweep_docker_orphans()
    assert orphan in removed
    assert await wait_gone(api, orphan)


async def test_sweeper_judges_ttl_and_owner(image, api):
    def make(labels: dict[str, str]) -> str:
        created = api.create_container(
            image[0],
            command=["sleep 600 & wait"],
            entrypoint=["/bin/sh", "-c"],
            labels={LABEL_SANDBOX: "1", **labels},
            host_config=api.create_host_config(network_mode="none"),
        )
        api.start(created["Id"])
        return created["Id"]

    me = {LABEL_OWNER_PID: str(os.getpid())}
    with open(f"/proc/{os.getpid()}/stat", "rb") as f:
        stat = f.read()
    me[LABEL_OWNER_START] = stat[stat.rfind(b")") + 2 :].split()[19].decode()
    async with await open_docker_workspace(None, image=image[0], ttl_s=600) as ws:
        here = api.inspect_container(ws.container_id)["Config"]["Labels"][LABEL_OWNER_NS]
        me[LABEL_OWNER_NS] = here
        expired = make({**me, LABEL_EXPIRES: str(int(time.time()) - 5)})
        alive = make({**me, LABEL_EXPIRES: str(int(time.time()) + 600)})
        dead_owner = make({**me, LABEL_OWNER_START: "1", LABEL_EXPIRES: str(int(time.time()) + 600)})
        elsewhere = make(
            {
                **me,
                LABEL_OWNER_NS: "other-machine:1",
                LABEL_OWNER_START: "1",
                LABEL_EXPIRES: str(int(time.time()) + 600),
            }
        )
        try:
            removed = await sweep_docker_orphans()
            assert expired in removed and dead_owner in removed
            assert alive not in removed and elsewhere not in removed and ws.container_id not in removed
            assert container_exists(api, alive) and container_exists(api, elsewhere)
            assert (await ws.exec("echo still here")).output == "still here\n"
        finally:
            for c in (alive, elsewhere):
                api.remove_container(c, force=True)


# -- bad input --------------------------------------------------------------------------------


async def test_bad_input_gets_clear_errors(image, tmp_path: Path, ws: DockerWorkspace):
    name = image[0]
    with pytest.raises(SandboxError, match="base directory does not exist"):
        await open_docker_workspace(str(tmp_path / "nope"), image=name)
    with pytest.raises(SandboxError, match="memory_mb"):
        await open_docker_workspace(None, image=name, memory_mb=1)
    with pytest.raises(SandboxError, match="workdir"):
        await open_docker_workspace(None, image=name, workdir="relative")
    with pytest.raises(SandboxError, match="reserved"):
        await open_docker_workspace(None, image=name, labels={"swerve.sandbox": "0"})
    with pytest.raises(SandboxError, match="ttl_s"):
        await open_docker_workspace(None, image=name, ttl_s=0)
    # a registry on a closed loopback port: the pull fails at once
    with pytest.raises(SandboxError, match=re.escape("127.0.0.1:9/swerve-none")):
        await open_docker_workspace(None, image="127.0.0.1:9/swerve-none:latest")
    with pytest.raises(SandboxError, match="NUL"):
        await ws.exec("echo \0")
    with pytest.raises(SandboxError, match="environment variable"):
        await ws.exec("true", env={"BAD=NAME": "x"})
    with pytest.raises(SandboxError, match="timeout"):
        await ws.exec("true", timeout=0)
    with pytest.raises(SandboxError, match="NUL"):
        await ws.read_bytes("/workspace/a\0b")
    assert (await ws.exec("echo fine")).output == "fine\n"  # the workspace still works

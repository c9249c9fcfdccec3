"""NamespaceWorkspace, stateless mode: real namespaces, real overlays, real git repositories."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest
from ns_support import host_processes_with, marker_sleep, mount_count

from swerve.errors import SandboxError
from swerve.sandbox.ns import NamespaceWorkspace, overlay
from swerve.sandbox.ns.limits import Limits
from swerve.sandbox.ns.state import ProcessState

pytestmark = pytest.mark.usefixtures("namespaces_available")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    base = tmp_path / "repo"
    base.mkdir()
    (base / "hello.py").write_text("print('hello')\n")
    (base / "pkg").mkdir()
    (base / "pkg" / "mod.py").write_text("X = 1\n")
    git(base, "init", "-q")
    git(base, "add", "-A")
    git(base, "commit", "-qm", "base")
    return base


@pytest.fixture
async def ws(repo: Path):
    workspace = await NamespaceWorkspace.create([repo])
    yield workspace
    await workspace.close()


@pytest.fixture(params=[True, False], ids=["host-reads", "sandbox-reads"])
async def fws(repo: Path, request):
    """A workspace for file operations, answered from the host or always by the sandbox."""
    workspace = await NamespaceWorkspace.create([repo], host_reads=request.param)
    yield workspace
    await workspace.close()


async def test_output_is_one_stream_in_order_with_exit_code(ws, repo: Path):
    result = await ws.exec("echo a; echo b >&2; echo c; echo d >&2; exit 7")
    assert result.output == "a\nb\nc\nd\n"
    assert result.exit_code == 7 and not result.timed_out and result.truncated_bytes == 0
    assert result.duration_s > 0
    assert ws.root == str(repo.resolve())


async def test_cwd_env_stdin_and_signals(ws, repo: Path):
    result = await ws.exec("pwd; echo $GREETING", cwd=str(repo / "pkg"), env={"GREETING": "hi"})
    assert result.output == f"{repo.resolve() / 'pkg'}\nhi\n"
    assert (await ws.exec("cat", stdin=b"from stdin")).output == "from stdin"
    assert (await ws.exec("cat")).output == ""
    assert (await ws.exec("kill -TERM $$")).exit_code == 128 + 15
    assert (await ws.exec("yes | head -n 1")).output == "y\n"  # SIGPIPE has its default action
    assert (await ws.exec("pwd", cwd="pkg")).output.strip().endswith("/pkg")  # relative to the root
    with pytest.raises(SandboxError, match="does not exist"):
        await ws.exec("true", cwd=str(repo / "missing"))
    assert (await ws.exec("echo still fine")).exit_code == 0


async def test_writes_persist_between_commands_but_never_reach_the_base(ws, repo: Path):
    await ws.exec("echo changed > hello.py && mkdir -p new/dir && echo n > new/dir/f && rm pkg/mod.py")
    result = await ws.exec("cat hello.py new/dir/f; ls pkg")
    assert result.output == "changed\nn\n"
    assert (repo / "hello.py").read_text() == "print('hello')\n"
    assert (repo / "pkg" / "mod.py").exists() and not (repo / "new").exists()
    assert git(repo, "status", "--porcelain") == ""


async def test_environments_over_one_base_are_isolated(repo: Path):
    a = await NamespaceWorkspace.create([repo])
    b = await NamespaceWorkspace.create([repo])
    try:
        await a.exec("echo from-a > hello.py")
        assert (await b.exec("cat hello.py")).output == "print('hello')\n"
        results = await asyncio.gather(a.exec("cat hello.py"), b.exec("cat hello.py"))
        assert [r.output for r in results] == ["from-a\n", "print('hello')\n"]
    finally:
        await a.close()
        await b.close()


async def test_creating_copies_nothing(tmp_path: Path):
    base = tmp_path / "big"
    base.mkdir()
    for i in range(200):
        (base / f"f{i}.txt").write_text("x" * 1000)
    ws = await NamespaceWorkspace.create([base])
    try:
        assert os.listdir(ws.upper_dir) == []
        assert (await ws.exec("ls | wc -l")).output.strip() == "200"
        assert await ws.disk_usage() < 64 * 1024
    finally:
        await ws.close()


async def test_layers_stack_top_first(tmp_path: Path):
    bottom, top = tmp_path / "bottom", tmp_path / "top"
    bottom.mkdir()
    top.mkdir()
    (bottom / "a").write_text("bottom-a")
    (bottom / "b").write_text("bottom-b")
    (top / "a").write_text("top-a")
    ws = await NamespaceWorkspace.create([top, bottom], root="/workspace")
    try:
        assert ws.root == "/workspace"
        assert (await ws.exec("cat a b; pwd")).output == "top-abottom-b/workspace\n"
    finally:
        await ws.close()


async def test_output_beyond_the_limit_keeps_head_and_tail(repo: Path):
    ws = await NamespaceWorkspace.create([repo], output_limit_bytes=1000)
    try:
        result = await ws.exec("echo START; head -c 100000 /dev/zero | tr '\\0' x; echo; echo END")
        assert result.output.startswith("START\n") and result.output.endswith("END\n")
        assert result.truncated_bytes > 90000 and "omitted" in result.output
    finally:
        await ws.close()


async def test_timeout_kills_the_whole_tree(ws):
    sleep = marker_sleep()
    result = await ws.exec(f"{sleep} & setsid {sleep} & ({sleep} &) ; {sleep}", timeout=0.5)
    assert result.timed_out and result.exit_code == 137
    assert host_processes_with(sleep) == []
    assert (await ws.exec("echo ok")).output == "ok\n"


async def test_no_process_outlives_its_step(ws):
    sleep = marker_sleep()
    result = await ws.exec(f"nohup {sleep} >/dev/null 2>&1 & setsid {sleep} & echo started")
    assert result.output == "started\n" and not result.timed_out
    assert host_processes_with(sleep) == []


async def test_cancelling_a_command_stops_it(ws):
    sleep = marker_sleep()
    task = asyncio.ensure_future(ws.exec(f"{sleep}"))
    for _ in range(500):
        if host_processes_with(sleep):
            break
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert host_processes_with(sleep) == []
    assert (await ws.exec("echo usable")).output == "usable\n"


async def test_spawn_needs_persistent_mode(ws):
    with pytest.raises(SandboxError, match="persistent"):
        await ws.spawn("sleep 1")


async def test_only_allowlisted_environment_variables_enter(ws, monkeypatch):
    monkeypatch.setenv("SWERVE_TEST_API_KEY", "sk-must-not-leak")
    monkeypatch.setenv("LANG", "C.UTF-8")
    result = await ws.exec("env")
    assert "sk-must-not-leak" not in result.output
    assert "LANG=C.UTF-8" in result.output and "HOME=/root" in result.output
    assert (await ws.exec("echo $X", env={"X": "given"})).output == "given\n"


# -- files --------------------------------------------------------------------------------


async def test_file_operations_see_the_same_view_as_commands(fws, repo: Path):
    root = fws.root
    assert await fws.read_bytes(f"{root}/hello.py") == b"print('hello')\n"
    await fws.write_bytes(f"{root}/deep/new/file.txt", b"written")
    assert (await fws.exec("cat deep/new/file.txt")).output == "written"
    await fws.exec("echo from-shell > pkg/mod.py")
    assert await fws.read_bytes(f"{root}/pkg/mod.py") == b"from-shell\n"
    names = {e.name: e for e in await fws.list_dir(root)}
    assert {"hello.py", "pkg", "deep", ".git"} <= set(names)
    assert names["pkg"].is_dir and not names["hello.py"].is_dir and names["hello.py"].size == 15
    st = await fws.stat(f"{root}/hello.py")
    assert st is not None and st.is_file and not st.is_dir and st.size == 15
    assert await fws.stat(f"{root}/nothing") is None
    assert not (repo / "deep").exists()


async def test_deleted_files_stay_deleted_and_can_come_back(fws):
    root = fws.root
    await fws.exec("rm hello.py && rm -r pkg")
    with pytest.raises(FileNotFoundError):
        await fws.read_bytes(f"{root}/hello.py")
    assert await fws.stat(f"{root}/pkg") is None
    await fws.write_bytes(f"{root}/pkg/other.py", b"Y = 2\n")
    assert (await fws.exec("ls pkg")).output == "other.py\n"  # the old mod.py does not show through
    await fws.write_bytes(f"{root}/hello.py", b"back\n")
    assert (await fws.exec("cat hello.py")).output == "back\n"


async def test_file_errors_are_os_errors(fws):
    root = fws.root
    with pytest.raises(IsADirectoryError):
        await fws.read_bytes(f"{root}/pkg")
    with pytest.raises(FileNotFoundError):
        await fws.list_dir(f"{root}/missing")
    with pytest.raises(OSError):
        await fws.write_bytes("/usr/swerve-should-not-exist", b"x")
    with pytest.raises(SandboxError):
        await fws.read_bytes("bad\0path")
    assert not os.path.exists("/usr/swerve-should-not-exist")


async def test_symlinks_resolve_inside_the_sandbox(fws):
    root = fws.root
    await fws.exec("ln -s pkg/mod.py link && ln -s /nonexistent/target dangling")
    assert await fws.realpath(f"{root}/link") == f"{root}/pkg/mod.py"
    assert await fws.realpath(f"{root}/missing/../x") == f"{root}/x"
    st = await fws.stat(f"{root}/link")
    assert st is not None and st.is_symlink
    entries = {e.name: e for e in await fws.list_dir(root)}
    assert entries["link"].is_symlink and entries["dangling"].size == 0


async def _outcome(coro):
    try:
        value = await coro
    except Exception as exc:
        return type(exc).__name__
    if isinstance(value, list):
        return sorted(value, key=lambda e: e.name)
    if value is not None and hasattr(value, "mtime"):
        return (value.path, value.is_dir, value.is_file, value.is_symlink, value.size, round(value.mtime, 3))
    return value


async def test_host_reads_give_the_sandboxs_answers(repo: Path):
    (repo / ".env").write_text("SECRET=1\n")
    ws = await NamespaceWorkspace.create([repo])
    await ws.exec(
        "rm -r pkg && mkdir pkg && echo new > pkg/n.py && rm hello.py && ln -s pkg/n.py link"
        " && mkdir -p a/b && echo deep > a/b/c && chmod 000 a/b/c"
    )
    snap = await ws.snapshot()  # its lower layers hold whiteouts and an opaque directory
    await snap.exec("echo more > a/b/d && rm a/b/c")
    try:
        for w in (ws, snap):
            r = w.root
            names = ["", "/pkg", "/pkg/n.py", "/pkg/mod.py", "/hello.py", "/link", "/a/b", "/a/b/c", "/a/b/d"]
            names += ["/.env", "/nope", "/pkg/n.py/x", "/a/../pkg", "/./a//b"]
            paths = [r + name for name in names] + ["/etc/hostname", "relative/a"]
            for p in paths:
                answers = []
                for host in (True, False):
                    w.host_reads = host
                    answers.append(
                        [await _outcome(op(p)) for op in (w.stat, w.read_bytes, w.list_dir, w.realpath)]
                    )
                assert answers[0] == answers[1], p
    finally:
        await snap.close()
        await ws.close()


# -- diff and snapshot --------------------------------------------------------------------


async def test_diff_is_a_git_diff_with_untracked_files(ws, repo: Path):
    assert await ws.diff() == ""
    await ws.exec("echo 'print(1)' > hello.py && echo new > added.txt && rm pkg/mod.py")
    patch = await ws.diff()
    assert "diff --git a/hello.py b/hello.py" in patch and "+print(1)" in patch
    assert "diff --git a/added.txt b/added.txt" in patch and "+new" in patch
    assert "deleted file mode" in patch and "pkg/mod.py" in patch
    assert (await ws.exec("git status --porcelain")).output.count("\n") == 3  # index untouched
    check = await NamespaceWorkspace.create([repo])
    try:
        applied = await check.exec("git apply --index -", stdin=patch.encode())
        assert applied.exit_code == 0, applied.output
        assert (await check.exec("cat hello.py added.txt")).output == "print(1)\nnew\n"
    finally:
        await check.close()


async def test_the_diff_script_sees_a_same_size_edit_whose_stat_data_match_a_racy_index(ws):
    # an index no newer than a file's mtime is racy: git compares that file's content. One
    # command: the first write copies the file up, and inode numbers hold within one mount.
    racy = "touch -m -d @1577836800"
    ran = await ws.exec(
        "git config core.trustctime false && printf \"print('hello')\\n\" 1<> hello.py"
        f" && {racy} hello.py && git update-index -q --refresh"
        f' && {racy} "$(git rev-parse --git-path index)"'
        f" && printf \"print('HELLO')\\n\" 1<> hello.py && {racy} hello.py || exit 9\n"
        + overlay.GIT_DIFF_SCRIPT,
        env=overlay.GIT_ENV,
    )
    assert ran.exit_code == 0, ran.output
    assert "+print('HELLO')" in ran.output


async def test_diff_without_git_compares_layers(tmp_path: Path):
    base = tmp_path / "plain"
    (base / "d").mkdir(parents=True)
    (base / "keep.txt").write_text("same\n")
    (base / "edit.txt").write_text("one\ntwo\n")
    (base / "d" / "gone.txt").write_text("bye\n")
    ws = await NamespaceWorkspace.create([base])
    try:
        await ws.exec("printf 'one\\nTWO\\n' > edit.txt && rm -r d && echo hi > new.txt && touch keep.txt")
        patch = await ws.diff()
        assert "-two\n+TWO\n" in patch
        assert "diff --git a/d/gone.txt b/d/gone.txt\ndeleted file mode" in patch
        assert "+++ b/new.txt" in patch and "keep.txt" not in patch
    finally:
        await ws.close()


async def test_diff_of_a_folder_inside_a_git_repository_is_gits_relative_diff(repo: Path):
    # no .git in the folder itself: the repository above it still makes the diff git's
    ws = await NamespaceWorkspace.create([repo / "pkg"])
    try:
        await ws.exec("echo 'X = 2' > mod.py && echo new > added.txt")
        patch = await ws.diff()
        assert "diff --git a/mod.py b/mod.py" in patch and "+X = 2" in patch
        assert "diff --git a/added.txt b/added.txt" in patch and "hello.py" not in patch
    finally:
        await ws.close()


async def test_snapshot_is_a_fresh_copy_of_the_current_state(ws, repo: Path):
    await ws.exec("echo v1 > hello.py && rm pkg/mod.py && echo s > state.txt")
    snap = await ws.snapshot()
    try:
        assert (await snap.exec("cat hello.py state.txt; ls pkg")).output == "v1\ns\n"
        await ws.exec("echo v2 > hello.py")
        await snap.exec("echo mine > state.txt")
        assert (await snap.exec("cat hello.py")).output == "v1\n"
        assert (await ws.exec("cat state.txt")).output == "s\n"
        assert "pkg/mod.py" in await snap.diff()
    finally:
        await snap.close()
    assert (repo / "hello.py").read_text() == "print('hello')\n"


# -- lifecycle ----------------------------------------------------------------------------


async def test_close_removes_everything_and_is_final(repo: Path):
    before = mount_count()
    ws = await NamespaceWorkspace.create([repo])
    await ws.exec("echo x > f")
    env_dir = os.path.dirname(ws.upper_dir)
    assert os.path.isdir(env_dir)
    await ws.close()
    await ws.close()  # twice is fine
    assert not os.path.exists(env_dir)
    assert mount_count() == before
    with pytest.raises(SandboxError, match="closed"):
        await ws.exec("true")


async def test_hundreds_of_environments_leave_nothing_behind(repo: Path):
    state = ProcessState.for_root(None)
    before_dirs, before_mounts = set(os.listdir(state.path)), mount_count()
    sem = asyncio.Semaphore(8)

    async def one(i: int) -> str:
        async with sem:
            ws = await NamespaceWorkspace.create([repo])
            try:
                return (await ws.exec(f"echo {i} > n && cat n")).output
            finally:
                await ws.close()

    outputs = await asyncio.gather(*(one(i) for i in range(300)))
    assert outputs == [f"{i}\n" for i in range(300)]
    assert set(os.listdir(state.path)) == before_dirs
    assert mount_count() == before_mounts


async def test_bad_input_is_refused_clearly(tmp_path: Path, repo: Path):
    with pytest.raises(SandboxError, match="not a directory"):
        await NamespaceWorkspace.create([tmp_path / "missing"])
    with pytest.raises(SandboxError, match="at least one"):
        await NamespaceWorkspace.create([])
    with pytest.raises(SandboxError, match="absolute"):
        await NamespaceWorkspace.create([repo], root="relative/path")
    with pytest.raises(SandboxError, match="mode"):
        await NamespaceWorkspace.create([repo], mode="sometimes")  # type: ignore[arg-type]
    with pytest.raises(SandboxError, match="positive"):
        Limits(memory_mb=0)
    odd = tmp_path / "a,b"
    odd.mkdir()
    with pytest.raises(SandboxError, match="overlayfs cannot take"):
        await NamespaceWorkspace.create([odd])
    ws = await NamespaceWorkspace.create([repo])
    try:
        with pytest.raises(SandboxError, match="NUL"):
            await ws.exec("echo \0")
        with pytest.raises(SandboxError, match="timeout"):
            await ws.exec("true", timeout=0)
        assert (await ws.exec("echo fine")).output == "fine\n"
    finally:
        await ws.close()

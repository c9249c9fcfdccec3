"""NamespaceWorkspace, persistent mode and project mode: a long-lived init per environment."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest
from ns_support import host_processes_with, marker_sleep

from swerve.errors import SandboxError
from swerve.sandbox.ns import NamespaceWorkspace
from swerve.sandbox.proctree import is_alive

pytestmark = pytest.mark.usefixtures("namespaces_available")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def base(tmp_path: Path) -> Path:
    d = tmp_path / "base"
    d.mkdir()
    (d / "file.txt").write_text("base\n")
    return d


@pytest.fixture
async def pws(base: Path):
    workspace = await NamespaceWorkspace.create([base], mode="persistent")
    yield workspace
    await workspace.close()


CLIENT = (
    'python3 -c "import time, urllib.request\n'
    "for _ in range(100):\n"
    "    try:\n"
    "        print(urllib.request.urlopen('http://127.0.0.1:{port}/file.txt').read().decode(), end=''); break\n"
    '    except OSError: time.sleep(0.05)"'
)


async def test_background_server_survives_between_steps(pws):
    port = free_port()
    started = await pws.exec(
        f"nohup python3 -m http.server {port} --bind 127.0.0.1 >/dev/null 2>&1 & echo up"
    )
    assert started.output == "up\n"
    fetched = await pws.exec(CLIENT.format(port=port), timeout=30)
    assert fetched.output == "base\n"
    with socket.socket() as s, pytest.raises(OSError):  # the sandbox's loopback is not the host's
        s.settimeout(2)
        s.connect(("127.0.0.1", port))


async def test_timeout_kills_only_that_commands_tree(pws):
    keep, doomed = marker_sleep(), marker_sleep()
    await pws.exec(f"nohup {keep} >/dev/null 2>&1 &")
    result = await pws.exec(f"{doomed} & setsid {doomed} & ({doomed} &); {doomed}", timeout=0.5)
    assert result.timed_out and result.exit_code == 137
    assert host_processes_with(doomed) == []
    assert len(host_processes_with(keep)) == 1
    assert "Z" not in (await pws.exec("ps -eo stat=")).output  # nothing left unreaped
    assert (await pws.exec("echo fine")).output == "fine\n"


async def test_state_of_the_shell_environment_persists(pws, base: Path):
    await pws.exec("echo one > /tmp/scratch && echo two > made.txt")
    assert (await pws.exec("cat /tmp/scratch made.txt")).output == "one\ntwo\n"
    assert await pws.read_bytes(f"{pws.root}/made.txt") == b"two\n"
    await pws.write_bytes("/tmp/from-host", b"via file tools")
    assert (await pws.exec("cat /tmp/from-host")).output == "via file tools"
    assert {e.name for e in await pws.list_dir(pws.root)} == {"file.txt", "made.txt"}
    assert not (base / "made.txt").exists()


async def test_spawned_jobs_report_output_and_can_be_killed(pws):
    sleep = marker_sleep()
    job = await pws.spawn(f"echo begin; {sleep}; echo never")
    for _ in range(500):
        if "begin" in job.output():
            break
        await asyncio.sleep(0.02)
    assert job.output() == "begin\n" and job.returncode() is None
    await job.kill()
    assert host_processes_with(sleep) == []
    assert job.returncode() is not None
    done = await pws.spawn("echo quick; exit 5")
    for _ in range(500):
        if done.returncode() is not None:
            break
        await asyncio.sleep(0.02)
    assert done.returncode() == 5 and done.output() == "quick\n"


async def test_close_stops_the_init_and_every_process(base: Path):
    ws = await NamespaceWorkspace.create([base], mode="persistent")
    sleep = marker_sleep()
    await ws.exec(f"nohup {sleep} >/dev/null 2>&1 & setsid {sleep} &")
    job = await ws.spawn(sleep)
    for _ in range(400):  # two from the command, the job (and its launcher), once they have started
        if len(host_processes_with(sleep)) >= 3:
            break
        await asyncio.sleep(0.02)
    assert len(host_processes_with(sleep)) >= 3
    init_pid = ws._init.report.pid
    env_dir = os.path.dirname(ws.upper_dir)
    await ws.close()
    assert host_processes_with(sleep) == [] and not is_alive(init_pid)
    assert not os.path.exists(env_dir)
    assert job.returncode() is not None
    with pytest.raises(SandboxError, match="closed"):
        await ws.exec("true")


async def test_an_init_that_dies_makes_the_environment_fail_cleanly(base: Path):
    ws = await NamespaceWorkspace.create([base], mode="persistent")
    try:
        os.kill(ws._init.pid, 9)  # the launcher holding the init, as a crash would
        for _ in range(500):
            if ws._init.returncode is not None:
                break
            await asyncio.sleep(0.02)
        with pytest.raises(SandboxError, match="no longer usable"):
            await ws.exec("true")
    finally:
        await ws.close()


async def test_snapshot_of_a_persistent_environment(pws):
    await pws.exec("echo later > file.txt")
    snap = await pws.snapshot()
    try:
        assert snap.mode == "stateless"
        assert (await snap.exec("cat file.txt")).output == "later\n"
    finally:
        await snap.close()


# -- project mode -------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    d = tmp_path / "project"
    d.mkdir()
    (d / "main.py").write_text("print('p')\n")
    (d / ".env").write_text("OPENAI_API_KEY=sk-project-secret\n")
    return d


@pytest.mark.parametrize("mode", ["persistent", "stateless"])
async def test_project_mode_writes_the_project_and_nothing_else(project: Path, mode: str):
    ws = await NamespaceWorkspace.open_project(project, mode=mode)  # type: ignore[arg-type]
    try:
        assert ws.root == str(project.resolve()) and ws.upper_dir is None
        result = await ws.exec("echo edited > main.py && mkdir -p out && echo o > out/x && id -u && pwd")
        assert result.output == f"{os.getuid()}\n{project.resolve()}\n"
        assert (project / "main.py").read_text() == "edited\n" and (
            project / "out" / "x"
        ).read_text() == "o\n"
        await ws.write_bytes(str(project / "from-tools.txt"), b"t")
        assert (project / "from-tools.txt").read_bytes() == b"t"
        denied = await ws.exec("echo x > /usr/swerve-nope; echo x > /etc/swerve-nope; echo rc=$?")
        assert "Read-only file system" in denied.output and not os.path.exists("/usr/swerve-nope")
        assert (await ws.exec("cat .env")).output == ""  # secrets at the project top are hidden
        assert (await ws.exec("python3 -c 'print(2+2)'")).output == "4\n"
    finally:
        await ws.close()
    assert (project / ".env").read_text().startswith("OPENAI_API_KEY")


async def test_project_mode_caps_each_file_at_the_disk_limit(project: Path):
    from swerve.sandbox.ns.limits import Limits

    # the project is written in place (no layer to measure): the disk limit caps each file instead
    ws = await NamespaceWorkspace.open_project(project, limits=Limits(disk_mb=1))
    try:
        big = await ws.exec("head -c 3000000 /dev/zero > big; echo rc=$?; wc -c < big")
        assert "rc=153" in big.output and big.output.split()[-1] == str(1 << 20)  # SIGXFSZ at 1 MB
    finally:
        await ws.close()
    with pytest.raises(SandboxError, match="does not exist"):
        await NamespaceWorkspace.open_project(project / "missing")

"""Hostile commands in the namespace sandbox: each must be contained, the host unchanged, and the
environment still usable (or cleanly failed). Network traffic here goes to loopback only."""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from ns_support import host_processes_with, marker_sleep, mount_count

from swerve.sandbox.ns import NamespaceWorkspace, cgroup_pool
from swerve.sandbox.ns.limits import Limits
from swerve.sandbox.ns.state import sweep

pytestmark = pytest.mark.usefixtures("namespaces_available")

REPO_SRC = str(Path(__file__).resolve().parents[2] / "src")


def tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in sorted(os.walk(root)):
        dirnames.sort()
        for name in sorted(filenames):
            p = Path(dirpath, name)
            h.update(str(p.relative_to(root)).encode() + p.read_bytes())
    return h.hexdigest()


async def eventually(predicate, what: str, deadline_s: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline_s
    while not predicate():
        if loop.time() > end:
            pytest.fail(f"never happened: {what}")
        await asyncio.sleep(0.05)


@pytest.fixture
def base(tmp_path: Path) -> Path:
    d = tmp_path / "base"
    (d / "src").mkdir(parents=True)
    (d / "src" / "app.py").write_text("print('app')\n")
    (d / "README").write_text("readme\n")
    return d


@pytest.fixture
async def ws(base: Path):
    workspace = await NamespaceWorkspace.create([base])
    yield workspace
    await workspace.close()


@pytest.fixture
def home_secret():
    """A secret planted in the host user's home directory (removed afterwards)."""
    path = Path.home() / f".swerve-test-secret-{random.randint(0, 1 << 30)}"
    path.write_text("TOP-SECRET-HOME-VALUE\n")
    yield path
    path.unlink()


async def test_writes_outside_the_workspace_fail_and_the_host_is_unchanged(ws):
    marker = f"swerve-escape-{random.randint(0, 1 << 30)}"
    script = "; ".join(f"echo x > {d}/{marker} 2>&1" for d in ("/usr", "/etc", "/", "/var", "/opt", "/work"))
    result = await ws.exec(script + "; echo x > /tmp/ok && echo tmp-is-private")
    assert "Read-only file system" in result.output and "tmp-is-private" in result.output
    for d in ("/usr", "/etc", "/", "/var", "/opt", "/work", "/tmp"):
        assert not os.path.exists(f"{d}/{marker}")
    assert not os.path.exists("/tmp/ok") or Path("/tmp/ok").read_text() != "x\n"
    assert (await ws.exec("echo usable")).output == "usable\n"


async def test_the_base_layer_cannot_be_modified(base: Path, tmp_path: Path):
    before = tree_digest(base)
    ws = await NamespaceWorkspace.create([base], root="/workspace")
    try:
        await ws.exec("chmod -R 000 src; rm -rf /workspace/*; echo evil > /workspace/README; mv src s2")
        listing = await ws.exec(f"ls {base} 2>&1; ls /workspace")
        assert "No such file or directory" in listing.output  # the lower's host path is out of sight
        await ws.write_bytes("/workspace/src/app.py", b"tampered")
    finally:
        await ws.close()
    assert tree_digest(base) == before


async def test_a_secret_in_the_host_home_cannot_be_read(ws, home_secret: Path):
    result = await ws.exec(f"cat {home_secret}; ls -a {home_secret.parent}; cat /proc/1/root{home_secret}")
    assert "TOP-SECRET" not in result.output
    with pytest.raises(FileNotFoundError):
        await ws.read_bytes(str(home_secret))
    # nested user and mount namespaces cannot peel the hiding mounts away
    peel = await ws.exec(
        f"unshare -Urm sh -c 'umount -l {home_secret.parent}; cat {home_secret}; "
        "mount -o remount,rw /usr && echo REMOUNTED' 2>&1"
    )
    assert "TOP-SECRET" not in peel.output and "REMOUNTED" not in peel.output


async def test_host_api_keys_do_not_reach_the_environment(base: Path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-host-api-key-value")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-host-api-key-value")
    ws = await NamespaceWorkspace.create([base], mode="persistent")
    try:
        result = await ws.exec("env; cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n'")
        assert "host-api-key-value" not in result.output
        assert (await ws.exec("echo $OPENAI_API_KEY")).output == "\n"
    finally:
        await ws.close()


async def test_a_server_on_the_hosts_loopback_is_unreachable(base: Path):
    connections = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        writer.write(b"hello from the host\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = (
        f"python3 -c \"import socket; s = socket.create_connection(('127.0.0.1', {port}), timeout=3); "
        'print(s.recv(100).decode().strip())" 2>&1 | tail -1'
    )
    try:
        closed = await NamespaceWorkspace.create([base])
        try:
            result = await closed.exec(client, timeout=30)
            assert "hello from the host" not in result.output and "refused" in result.output.lower()
            assert (
                await closed.exec("cat /sys/class/net/*/operstate 2>/dev/null; ls /sys/class/net")
            ).output.split()[-1] == "lo"
        finally:
            await closed.close()
        assert connections == []
        opened = await NamespaceWorkspace.create([base], network=True)
        try:
            result = await opened.exec(client, timeout=30)
            assert result.output.strip() == "hello from the host"
        finally:
            await opened.close()
        assert connections == [1]
    finally:
        server.close()
        await server.wait_closed()


async def test_the_never_answering_test_address_times_out_and_others_are_unreachable(base: Path):
    # 10.255.255.1 is what tests (requests' TARPIT) use for a host that never answers
    probe = (
        "python3 -c \"import socket\nfor a in ('10.255.255.1', '10.255.255.2'):\n"
        "    try: socket.create_connection((a, 80), timeout=0.5)\n"
        "    except OSError as e: print(a, type(e).__name__)\""
    )
    ws = await NamespaceWorkspace.create([base])
    try:
        lines = (await ws.exec(probe, timeout=30)).output.split("\n")
    finally:
        await ws.close()
    assert "10.255.255.1 TimeoutError" in lines, lines
    assert "10.255.255.2 OSError" in lines, lines  # no other route: network unreachable at once


async def test_a_fork_storm_is_bounded(base: Path):
    if "pids" not in cgroup_pool().controllers and os.geteuid() == 0:
        pytest.skip("no writable pids cgroup here, and RLIMIT_NPROC does not bind uid 0")
    marker = f"storm-{random.randint(0, 1 << 30)}"
    ws = await NamespaceWorkspace.create([base], limits=Limits(processes=64))
    try:
        storm = (
            f'python3 -c "# {marker}\nimport os, time\nn = 0\nfor i in range(400):\n'
            "    try:\n        pid = os.fork()\n    except OSError:\n        break\n"
            "    if pid == 0:\n        time.sleep(60)\n        os._exit(0)\n    n += 1\nprint('forked', n)\""
        )
        result = await ws.exec(storm, timeout=60)
        assert result.output.startswith("forked "), result.output[-500:]
        assert 0 < int(result.output.split()[1]) < 64
        assert host_processes_with(marker) == []
        assert (await ws.exec("echo usable")).output == "usable\n"
    finally:
        await ws.close()


async def test_a_2_gib_allocation_under_a_512_mb_limit_is_stopped(base: Path):
    ws = await NamespaceWorkspace.create([base], limits=Limits(memory_mb=512))
    try:
        result = await ws.exec("python3 -c \"b = b'x' * (2 << 30); print('ALLOCATED', len(b))\"", timeout=120)
        assert "ALLOCATED" not in result.output and result.exit_code != 0
        if "memory" in cgroup_pool().controllers:
            assert result.exit_code == 137 and "out of memory" in result.output
        assert (await ws.exec("python3 -c \"b = b'x' * (64 << 20); print('fine')\"")).output == "fine\n"
    finally:
        await ws.close()


async def test_filling_the_disk_past_the_quota_is_stopped(base: Path):
    ws = await NamespaceWorkspace.create([base], limits=Limits(disk_mb=64))
    try:
        one = await ws.exec("dd if=/dev/zero of=big bs=1M count=200 2>&1; ls -l big", timeout=60)
        assert one.exit_code != 0 or "File too large" in one.output, one
        assert await ws.disk_usage() <= 65 << 20
        many = await ws.exec(
            "for i in 1 2 3 4 5 6 7 8; do dd if=/dev/zero of=f$i bs=1M count=50 2>/dev/null; done; echo DONE",
            timeout=60,
        )
        assert "DONE" not in many.output and "disk quota exceeded" in many.output, many
        # the overshoot is bounded by the launcher's polling, never the 400 MB asked for
        assert await ws.disk_usage() < 300 << 20, many
        cleaned = await ws.exec("rm -f big f* && echo small > small.txt && cat small.txt")
        assert cleaned.output == "small\n" and cleaned.exit_code == 0, cleaned
    finally:
        await ws.close()


async def test_a_gigabyte_of_output_is_bounded(ws):
    result = await ws.exec(
        "echo first; head -c 1073741824 /dev/zero | tr '\\0' 'y'; echo; echo last", timeout=300
    )
    assert result.exit_code == 0
    assert result.output.startswith("first\n") and result.output.endswith("last\n")
    assert result.truncated_bytes >= (1 << 30) - (1 << 20)
    assert len(result.output) < 2 << 20


async def test_sleeping_past_the_timeout(ws):
    sleep = marker_sleep()
    result = await ws.exec(sleep, timeout=0.5)
    assert result.timed_out and result.exit_code == 137
    assert host_processes_with(sleep) == []


@pytest.mark.parametrize("mode", ["stateless", "persistent"])
async def test_setsid_and_double_fork_daemons_die_with_their_step(base: Path, mode: str):
    sleep = marker_sleep()
    ws = await NamespaceWorkspace.create([base], mode=mode)  # type: ignore[arg-type]
    try:
        daemonize = (
            f"setsid sh -c '{sleep}' </dev/null >/dev/null 2>&1 & "
            f"sh -c 'sh -c \"{sleep} &\" &' ; "
            f'python3 -c "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n'
            f"        os.execvp('sleep', '{sleep}'.split())\n    os._exit(0)\ntime.sleep(60)\""
        )
        result = await ws.exec(daemonize, timeout=2)
        assert result.timed_out
        await eventually(lambda: host_processes_with(sleep) == [], "daemons gone")
        assert (await ws.exec("echo usable")).output == "usable\n"
    finally:
        await ws.close()


async def test_a_symlink_pointing_outside_does_not_lead_the_file_tools_out(ws, home_secret: Path):
    root = ws.root
    await ws.exec(f"ln -s {home_secret} leak && ln -s /usr/lib outside && ln -s /proc/1/root/root rootlink")
    with pytest.raises(FileNotFoundError):
        await ws.read_bytes(f"{root}/leak")
    marker = f"swerve-via-link-{random.randint(0, 1 << 30)}"
    with pytest.raises(OSError):
        await ws.write_bytes(f"{root}/outside/{marker}", b"x")
    assert not os.path.exists(f"/usr/lib/{marker}")
    with pytest.raises(PermissionError):  # /proc/1 is the sandbox's own init, and not readable
        await ws.list_dir(f"{root}/rootlink")
    assert (await ws.exec("cat leak 2>&1")).output.endswith("No such file or directory\n")


async def test_proc_tricks_see_only_the_sandbox(ws, home_secret: Path):
    probe = textwrap.dedent(
        f"""
        ls /proc/1/fd 2>&1 | head -1
        cat /proc/1/environ 2>&1 | head -c 200; echo
        ls /proc/1/root/
        cat /proc/1/root{home_secret} 2>&1
        test -e /proc/{os.getpid()}/cmdline && echo HOST-PID-VISIBLE
        ls -d /proc/[0-9]* | wc -l
        echo x 2>&1 > /proc/sys/kernel/hostname || echo sysctl-readonly
        grep ' /proc/sys ' /proc/self/mountinfo | grep -c ' ro,'
        """
    )
    result = await ws.exec(probe)
    out = result.output
    assert "TOP-SECRET" not in out and "HOST-PID-VISIBLE" not in out
    assert "Permission denied" in out  # the init's fds and environment
    assert "sysctl-readonly" in out
    assert out.strip().splitlines()[-1] == "1"
    counts = [int(line) for line in out.splitlines() if line.strip().isdigit()]
    assert counts and counts[0] < 20  # only the sandbox's own processes


async def test_killing_the_parent_leaves_no_process_and_no_mount(base: Path, tmp_path: Path):
    sleep = marker_sleep()
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import asyncio, os, sys
            from swerve.sandbox.ns import NamespaceWorkspace

            async def main():
                a = await NamespaceWorkspace.create([{str(base)!r}])
                b = await NamespaceWorkspace.create([{str(base)!r}], mode="persistent")
                await b.exec("nohup {sleep} >/dev/null 2>&1 & setsid {sleep} &")
                job = await b.spawn("{sleep}")
                print(os.path.dirname(os.path.dirname(a.upper_dir)), flush=True)
                await a.exec("{sleep} & setsid {sleep} & {sleep}", timeout=600)

            asyncio.run(main())
            """
        )
    )
    mounts = mount_count()
    env = {**os.environ, "PYTHONPATH": REPO_SRC}
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, env=env)
    try:
        owner_dir = proc.stdout.readline().decode().strip()
        assert owner_dir and os.path.isdir(owner_dir)
        await eventually(lambda: len(host_processes_with(sleep)) >= 6, "the sandboxes' processes running")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        await eventually(lambda: host_processes_with(sleep) == [], "every sandboxed process gone")
        assert mount_count() == mounts
        assert os.path.basename(owner_dir) in sweep()
        assert not os.path.exists(owner_dir)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

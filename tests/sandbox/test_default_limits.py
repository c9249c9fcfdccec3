"""Every sandbox has limits without a flag: a fork bomb, a memory hog and a disk filler stop at the
defaults, one environment's hog leaves the others working, and the limits can be set in settings
and flags (a project's settings can only lower them)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from swerve.config import resolve, sandbox_limits
from swerve.errors import ConfigError, SandboxError
from swerve.sandbox.ns import NamespaceWorkspace, cgroup_pool
from swerve.sandbox.ns.limits import DEFAULT_DISK_MB, DEFAULT_MEMORY_MB, DEFAULT_PROCESSES, Limits

pytestmark = pytest.mark.usefixtures("namespaces_available")

# forks until the kernel refuses (or 3,000 succeed), then says how many it made
FORKS = (
    "import os, time\n"
    "n = 0\n"
    "for _ in range(3000):\n"
    "    try:\n"
    "        pid = os.fork()\n"
    "    except OSError:\n"
    "        break\n"
    "    if pid == 0:\n"
    "        time.sleep(60)\n"
    "        os._exit(0)\n"
    "    n += 1\n"
    "print('forked', n, flush=True)\n"
    "os.killpg(0, 9)\n"
)


@pytest.fixture
def base(tmp_path: Path) -> Path:
    d = tmp_path / "base"
    d.mkdir()
    (d / "forks.py").write_text(FORKS)
    return d


def _forked(output: str) -> int:
    line = next(x for x in output.splitlines() if x.startswith("forked "))
    return int(line.split()[1])


def test_the_defaults_are_limits():
    limits = Limits()
    assert (limits.memory_mb, limits.processes, limits.disk_mb) == (
        DEFAULT_MEMORY_MB,
        DEFAULT_PROCESSES,
        DEFAULT_DISK_MB,
    )
    assert limits.open_files and limits.memory_mb and limits.memory_mb < 8192
    none = Limits.unlimited()
    assert (none.memory_mb, none.processes, none.disk_mb, none.open_files) == (None, None, None, None)
    assert Limits().with_changes(memory_mb=0, processes=64).memory_mb is None
    with pytest.raises(SandboxError, match="unknown limit"):
        Limits().with_changes(swap=1)
    with pytest.raises(SandboxError, match="cpus"):
        Limits(cpus=0)


async def test_a_fork_bomb_stops_at_the_default_process_limit(base: Path):
    ws = await NamespaceWorkspace.create([base])
    try:
        result = await ws.exec("python3 forks.py", timeout=120)
        assert _forked(result.output) < DEFAULT_PROCESSES
        # the classic bomb ends at the timeout with everything killed, and the environment still works
        bomb = await ws.exec("bomb() { bomb | bomb & }; bomb; sleep 30", timeout=5)
        assert bomb.timed_out
        assert (await ws.exec("echo alive")).output == "alive\n"
    finally:
        await ws.close()
    assert subprocess.run(["true"]).returncode == 0  # the host can still make processes


async def test_a_memory_hog_stops_at_the_default_memory_limit(base: Path):
    ws = await NamespaceWorkspace.create([base])
    try:
        hog = "python3 -c \"b = b'x' * (8 << 30); print('allocated 8 GiB')\""
        result = await ws.exec(hog, timeout=120)
        assert result.exit_code != 0 and "allocated 8 GiB" not in result.output
        if "memory" in cgroup_pool().controllers:
            assert "out of memory" in result.output
        else:
            assert "MemoryError" in result.output  # the address-space fallback
    finally:
        await ws.close()


async def test_a_disk_filler_stops_at_the_default_disk_quota(base: Path):
    ws = await NamespaceWorkspace.create([base])
    try:
        fill = "for i in $(seq 1 32); do head -c 64000000 /dev/zero > blob$i || break; done; echo done"
        result = await ws.exec(fill, timeout=300)
        assert "disk" in result.output and "done" not in result.output.splitlines()[-1:], result
        usage = await ws.exec("du -sm . | cut -f1")
        assert int(usage.output.split()[0]) <= DEFAULT_DISK_MB + 256, usage  # stopped near the quota
        assert (await ws.exec("rm -f blob*; echo room > note; cat note")).output == "room\n"
    finally:
        await ws.close()


async def test_one_environments_fork_bomb_leaves_the_others_working(base: Path):
    bomber = await NamespaceWorkspace.create([base])
    others = [await NamespaceWorkspace.create([base]) for _ in range(3)]
    try:
        bomb = asyncio.create_task(bomber.exec("bomb() { bomb | bomb & }; bomb; sleep 30", timeout=8))
        await asyncio.sleep(1)
        results = await asyncio.gather(*(w.exec("python3 -c 'print(6*7)'", timeout=60) for w in others))
        assert [r.output for r in results] == ["42\n"] * 3
        assert (await bomb).timed_out
    finally:
        for w in [bomber, *others]:
            await w.close()


async def test_a_cpu_quota_reaches_the_group(base: Path):
    pool = cgroup_pool()
    if "cpu" not in pool.controllers:
        pytest.skip("no writable cpu cgroup here: --cpus cannot be enforced (equal shares need one too)")
    ws = await NamespaceWorkspace.create([base], limits=Limits(cpus=0.5))
    try:
        spin = "python3 -c 'import time\nend = time.time() + 1\nwhile time.time() < end: pass'"
        assert (await ws.exec(spin, timeout=60)).exit_code == 0
        slots = [
            os.path.join(pool.bases["cpu"], n) for n in os.listdir(pool.bases["cpu"]) if n.startswith("slot-")
        ]
        name = "cpu.max" if pool.version == 2 else "cpu.cfs_quota_us"
        quotas = {
            Path(d, name).read_text().split()[0]: d for d in slots if os.path.exists(os.path.join(d, name))
        }
        assert "50000" in quotas
        stat = dict(line.split() for line in Path(quotas["50000"], "cpu.stat").read_text().splitlines())
        assert int(stat["nr_throttled"]) > 0  # the spinning command was held to half a core
    finally:
        await ws.close()


def test_settings_and_flags_set_the_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path / "home"
    (home).mkdir()
    monkeypatch.setenv("SWERVE_HOME", str(home))
    (home / "settings.json").write_text(json.dumps({"sandboxLimits": {"memoryMb": 2048, "processes": 0}}))
    project = tmp_path / "project"
    (project / ".swerve").mkdir(parents=True)
    # a project may lower a limit, never raise or lift one
    (project / ".swerve" / "settings.json").write_text(
        json.dumps({"sandboxLimits": {"memoryMb": 8192, "diskMb": 256, "cpus": 0}})
    )
    settings = resolve(str(project), {"trust": True})
    limits = sandbox_limits(settings)
    assert (limits.memory_mb, limits.processes, limits.disk_mb, limits.cpus) == (2048, None, 256, None)
    assert any("memory_mb 8192 would loosen" in n for n in settings.notes)
    flagged = sandbox_limits(resolve(str(project), {"trust": True, "sandbox_limits": {"processes": 64}}))
    assert flagged.processes == 64
    (home / "settings.json").write_text(json.dumps({"sandboxLimits": {"swapMb": 1}}))
    with pytest.raises(ConfigError, match="sandboxLimits"):
        resolve(str(tmp_path))


def _swerve(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SWERVE_HOME": str(home)}
    argv = [sys.executable, "-m", "swerve.cli.main", *args]
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_swerve_sandbox_run_has_limits_without_a_flag(base: Path, tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    plain = _swerve("sandbox", "run", "--", "python3", "forks.py", cwd=base, home=home)
    assert plain.returncode == 137, plain.stderr  # forks.py ends by killing its whole group
    assert _forked(plain.stdout) < DEFAULT_PROCESSES
    tight = _swerve("sandbox", "run", "--pids", "40", "--", "python3", "forks.py", cwd=base, home=home)
    assert _forked(tight.stdout) < 40
    bad = _swerve("sandbox", "run", "--pids", "-3", "--", "true", cwd=base, home=home)
    assert bad.returncode != 0 and "--pids" in bad.stderr

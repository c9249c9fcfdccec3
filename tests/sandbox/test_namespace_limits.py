"""Limits, the launcher build, clear errors, and the sweeper of the namespace sandbox."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest

from swerve.errors import SandboxError
from swerve.sandbox.ns import NamespaceWorkspace, cgroup_pool, overlay
from swerve.sandbox.ns import launcher as ns_launcher
from swerve.sandbox.ns.limits import Limits
from swerve.sandbox.ns.state import ProcessState, sweep

pytestmark = pytest.mark.usefixtures("namespaces_available")


@pytest.fixture
def base(tmp_path: Path) -> Path:
    d = tmp_path / "base"
    d.mkdir()
    (d / "f").write_text("f\n")
    return d


async def test_rlimits_reach_the_command(base: Path):
    limits = Limits(cpu_seconds=1, file_size_mb=1, open_files=64, processes=200)
    ws = await NamespaceWorkspace.create([base], limits=limits)
    try:
        assert (await ws.exec("ulimit -n; ulimit -t; ulimit -f; ulimit -u")).output.split() == [
            "64",
            "1",
            str(1 << 20 >> 10),  # ulimit -f counts 1024-byte blocks
            "200",
        ]
        spin = await ws.exec("python3 -c 'while True: pass'", timeout=30)
        assert spin.exit_code in (128 + 24, 137) and not spin.timed_out  # SIGXCPU, then SIGKILL
        big = await ws.exec("head -c 3000000 /dev/zero > big; echo rc=$?; wc -c < big")
        assert "rc=153" in big.output and big.output.split()[-1] == str(1 << 20)  # SIGXFSZ at 1 MB
    finally:
        await ws.close()


async def test_memory_and_process_limits_use_reused_cgroup_slots(base: Path):
    pool = cgroup_pool()
    if not pool.controllers:
        pytest.skip("no writable memory/pids cgroup here: limits fall back to rlimits")
    def slots() -> set[str]:
        return {n for base_dir in pool.bases.values() for n in os.listdir(base_dir) if n.startswith("slot-")}

    before = slots()
    ws = await NamespaceWorkspace.create([base], limits=Limits(memory_mb=256, processes=100))
    try:
        results = await asyncio.gather(*(ws.exec("echo $$") for _ in range(5)))
        assert all(r.exit_code == 0 for r in results)
        assert slots()  # the commands ran in groups of the pool
        assert len(slots() - before) <= 2  # execs of one env are serial: slots are reused
    finally:
        await ws.close()


async def test_layers_in_memory_are_charged_to_their_own_environment(base: Path, tmp_path: Path):
    if "memory" not in cgroup_pool().controllers:
        pytest.skip("no writable memory cgroup here")
    shm = Path("/dev/shm")
    if overlay.fs_type(str(shm)) != "tmpfs" or not os.access(shm, os.W_OK):
        pytest.skip("no writable tmpfs at /dev/shm")
    state = shm / f"swerve-test-{os.getpid()}"
    limits = Limits(memory_mb=96)
    a = await NamespaceWorkspace.create([base], limits=limits, state_dir=str(state))
    b = await NamespaceWorkspace.create([base], limits=limits, state_dir=str(state))
    try:
        assert (await a.exec("head -c 60000000 /dev/zero > blob && echo kept")).output == "kept\n"
        # b must not pay for a's 60 MB that stay in memory: 60 MB of its own fit in 96 MB
        grow = "python3 -c \"b = b'x' * (60 << 20); print('fine')\""
        assert (await b.exec(grow, timeout=60)).output == "fine\n"
        assert (await a.exec("wc -c < blob")).output == "60000000\n"
    finally:
        await a.close()
        await b.close()
        shutil.rmtree(state, ignore_errors=True)


async def test_a_persistent_environment_over_its_disk_quota_stops_cleanly(base: Path):
    ws = await NamespaceWorkspace.create([base], mode="persistent", limits=Limits(disk_mb=32))
    try:
        await ws.exec(
            "for i in 1 2 3 4 5 6; do dd if=/dev/zero of=f$i bs=1M count=30 2>/dev/null; done", timeout=60
        )
        for _ in range(500):
            if ws._failed:
                break
            await asyncio.sleep(0.05)
        with pytest.raises(SandboxError, match="disk quota exceeded"):
            await ws.exec("true")
        assert await ws.disk_usage() < 200 << 20
    finally:
        await ws.close()


async def test_the_launcher_is_built_once_and_cached(tmp_path: Path, monkeypatch):
    if not any(os.access(os.path.join(p, "gcc"), os.X_OK) for p in os.environ.get("PATH", "").split(":")):
        pytest.skip("no gcc on PATH: ./scripts/setup installs it")
    built = await ns_launcher.build_native(tmp_path / "cache")
    assert os.access(built, os.X_OK)
    mtime = built.stat().st_mtime_ns
    assert await ns_launcher.build_native(tmp_path / "cache") == built
    assert built.stat().st_mtime_ns == mtime
    monkeypatch.setenv("CC", str(tmp_path / "no-such-compiler"))
    with pytest.raises(SandboxError, match="cannot run the C compiler"):
        await ns_launcher.build_native(tmp_path / "other")


async def test_without_a_compiler_the_sandbox_says_how_to_get_one(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("CC", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no gcc, cc or clang here
    with pytest.raises(SandboxError, match="install gcc"):
        await ns_launcher.build_native(tmp_path / "cache")
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_setup_failures_name_the_feature_and_the_setting():
    userns = ns_launcher.explain(("userns", 1, "unshare(CLONE_NEWUSER): Operation not permitted"))
    assert "user.max_user_namespaces" in userns and "unprivileged_userns_clone" in userns
    assert "modprobe overlay" in ns_launcher.explain(("overlay", 19, "/workspace: No such device"))
    assert "5.11" in ns_launcher.explain(("overlay", 22, "/workspace: Invalid argument"))


def test_launcher_reports_are_parsed():
    report = ns_launcher.Report()
    report.feed_bytes(
        b"pid 42\nerror overlay 22 /w: Invalid argument\nexit 256\ntimeout\nquota 99\nnonsense\n"
    )
    assert report.pid == 42 and report.wait_status == 256 and report.timed_out and report.quota_bytes == 99
    assert report.error == ("overlay", 22, "/w: Invalid argument")


def test_the_sweeper_removes_what_dead_owners_left(tmp_path: Path):
    root = tmp_path / "state"
    state = ProcessState.for_root(str(root))
    dead = root / "999999999-12345"
    locked = dead / "e1" / "work" / "work"
    locked.mkdir(parents=True)
    (locked / "f").write_text("x")
    locked.chmod(0)
    not_ours = root / "notes"
    not_ours.mkdir()
    assert sweep(str(root)) == ["999999999-12345"]
    assert not dead.exists() and not_ours.exists() and os.path.isdir(state.path)


def test_a_state_root_owned_by_someone_else_is_refused(tmp_path: Path):
    link = tmp_path / "link"
    link.symlink_to(tmp_path)
    with pytest.raises(SandboxError, match="not a directory owned"):
        ProcessState.for_root(str(link))

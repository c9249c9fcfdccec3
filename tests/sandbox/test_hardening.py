"""Hardening every sandboxed command runs under: the system-call filter refuses the calls docker's
default profile refuses (EPERM) and leaves ordinary work (fork, threads, subprocesses, git) alone,
``SWERVE_SANDBOX_SECCOMP=0`` is the only way to run without it; host credentials stay hidden."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import pytest

from swerve.sandbox.ns import NamespaceWorkspace

pytestmark = pytest.mark.usefixtures("namespaces_available")

NUMBERS = {  # syscall numbers per architecture
    "x86_64": {"keyctl": 250, "unshare": 272, "io_uring_setup": 425, "mount": 165, "setns": 308, "bpf": 321},
    "aarch64": {"keyctl": 219, "unshare": 97, "io_uring_setup": 425, "mount": 40, "setns": 268, "bpf": 280},
}
PROBE = """
import ctypes, errno, json, os, subprocess, sys, threading
nr = json.loads(sys.argv[1])
CLONE_NEWUSER, CLONE_FILES = 0x10000000, 0x400
libc = ctypes.CDLL(None, use_errno=True)
def call(name, *args):
    ctypes.set_errno(0)
    r = libc.syscall(nr[name], *args)
    return "ok" if r >= 0 else errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
out = {
    "keyctl": call("keyctl", 0, -1, 0),
    "unshare_user": call("unshare", CLONE_NEWUSER),
    "unshare_files": call("unshare", CLONE_FILES),
    "io_uring": call("io_uring_setup", 1, ctypes.create_string_buffer(120)),
    "mount": call("mount", b"none", b"/tmp", b"tmpfs", 0, 0),
    "setns": call("setns", 0, 0),
}
pid = os.fork()
if pid == 0:
    os._exit(7)
out["fork"] = os.WEXITSTATUS(os.waitpid(pid, 0)[1])
t = threading.Thread(target=lambda: out.setdefault("thread", "ok")); t.start(); t.join()
out["subprocess"] = subprocess.run(["sh", "-c", "echo sub"], capture_output=True, text=True).stdout.strip()
print(json.dumps(out))
"""


@pytest.fixture
def numbers() -> dict[str, int]:
    arch = platform.machine()
    if arch not in NUMBERS:
        pytest.skip(f"no syscall numbers for {arch} in this test (the filter covers x86_64 and aarch64)")
    return NUMBERS[arch]


@pytest.fixture
def base(tmp_path: Path) -> Path:
    d = tmp_path / "base"
    d.mkdir()
    (d / "probe.py").write_text(PROBE)
    return d


async def _probe(ws: NamespaceWorkspace, numbers: dict[str, int]) -> dict[str, object]:
    import json
    import shlex

    result = await ws.exec(f"python3 probe.py {shlex.quote(json.dumps(numbers))}", timeout=60)
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


REFUSED = {
    "keyctl": "EPERM",
    "unshare_user": "EPERM",
    "io_uring": "EPERM",
    "mount": "EPERM",
    "setns": "EPERM",
}
ORDINARY = {"unshare_files": "ok", "fork": 7, "thread": "ok", "subprocess": "sub"}


@pytest.mark.parametrize("mode", ["stateless", "persistent"])
async def test_the_filter_refuses_what_docker_refuses(base: Path, numbers: dict[str, int], mode: str):
    ws = await NamespaceWorkspace.create([base], mode=mode)  # type: ignore[arg-type]
    try:
        seen = await _probe(ws, numbers)
        assert {k: seen[k] for k in REFUSED} == REFUSED
        assert {k: seen[k] for k in ORDINARY} == ORDINARY
        git = await ws.exec(
            "git init -q r && cd r && git -c user.name=a -c user.email=a@b commit -q --allow-empty -m x && git log --oneline | wc -l"
        )
        assert git.output.strip() == "1"
    finally:
        await ws.close()


async def test_without_the_filter_those_calls_reach_the_kernel(
    base: Path, numbers: dict[str, int], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SWERVE_SANDBOX_SECCOMP", "0")
    ws = await NamespaceWorkspace.create([base])
    try:
        seen = await _probe(ws, numbers)
        # the kernel's own answers, not the filter's EPERM: the filter is what refuses them above
        assert seen["keyctl"] != "EPERM" and seen["unshare_user"] == "ok"
        assert {k: seen[k] for k in ORDINARY} == ORDINARY
    finally:
        await ws.close()


async def test_host_credentials_are_hidden(base: Path):
    from swerve.sandbox.ns.setup import DEFAULT_HIDDEN

    present = [p for p in DEFAULT_HIDDEN if os.path.lexists(p)]
    if not any(os.path.isfile(p) and os.access(p, os.R_OK) for p in present):
        pytest.skip("none of the hidden credential files exists and is readable here")
    ws = await NamespaceWorkspace.create([base])
    try:
        for path in present:
            look = "ls -A" if os.path.isdir(path) else "cat"
            seen = await ws.exec(f"{look} {path} 2>/dev/null | wc -c")
            assert seen.output.strip() == "0", path  # an empty directory or /dev/null
    finally:
        await ws.close()


async def test_task_environments_keep_gits_and_agents_files_read_only(tmp_path: Path):
    import subprocess

    from swerve.eval.environments import NamespaceSandbox

    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "code.py").write_text("x = 1\n")
    config = (repo / ".git" / "config").read_text()
    ws = await NamespaceSandbox().open([str(repo)], str(repo), [])
    try:
        attack = (
            "python3 -c \"open('.git/config', 'a').write('[core]\\\\n\\\\tfsmonitor = touch pwned\\\\n')\"; "
            "python3 -c \"open('.git/hooks/pre-commit', 'w').write('id')\"; "
            "echo edited > code.py; cat code.py"
        )
        seen = await ws.exec(attack, cwd=str(repo))
        assert seen.output.count("Read-only file system") == 2 and seen.output.endswith("edited\n")
        git = await ws.exec(
            "git add -A && git -c user.name=a -c user.email=a@b commit -qm work && git log --oneline | wc -l",
            cwd=str(repo),
        )
        assert git.output.strip() == "1", git.output  # ordinary git work goes on
    finally:
        await ws.close()
    assert (repo / ".git" / "config").read_text() == config

"""A real Ray cluster of several node processes on this machine, for the Ray backend's tests.

Every node is a ``ray start`` process tree (a head, then worker nodes joining it), all on a loopback
address (Ray rewrites 127.0.0.1 to the machine's outward address, so 127.0.0.2 is used), with a
token, a private temporary directory and the sandbox state directory the test names. Teardown kills
exactly the processes of this cluster (never ``ray stop``, which would stop every Ray on the machine).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ns_support import host_processes_with

from swerve.sandbox.proctree import find_tree, is_alive

NODE_IP = "127.0.0.2"
START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind((NODE_IP, 0))
        return s.getsockname()[1]


def ray_command() -> list[str]:
    """The ``ray`` command of the interpreter running the tests."""
    beside = Path(sys.executable).with_name("ray")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("ray")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from ray.scripts.scripts import main; sys.exit(main())"]


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ")
    except OSError:
        return b""


def process_tree(roots: set[int]) -> set[int]:
    """``roots`` and all their live descendants."""
    return set().union(*(find_tree(root) for root in roots))


def processes_with(marker: str) -> set[int]:
    return set(host_processes_with(marker))


def kill_all(pids: set[int], timeout_s: float = 10.0) -> None:
    """SIGKILL ``pids`` (as ``ray stop --force`` does) and wait until they are gone."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and any(is_alive(p) for p in pids):
        time.sleep(0.05)


class RayCluster:
    """A head node and worker nodes, each its own ``ray start`` process tree on this machine."""

    def __init__(self, sandbox_dir: Path, ray_env: dict[str, str]) -> None:
        """``ray_env``: the driver's Ray settings (RAY_TMPDIR, RAY_AUTH_MODE, RAY_AUTH_TOKEN, ...)."""
        self.sandbox_dir = sandbox_dir
        # Unix socket paths below it must stay short; the nodes' processes are found by this name.
        self.tmp = Path(tempfile.mkdtemp(prefix="swr-nodes-", dir="/tmp"))
        self.port = free_port()
        self.address = f"{NODE_IP}:{self.port}"
        self.env = {
            **os.environ,
            **ray_env,
            "RAY_TMPDIR": str(self.tmp),
            "SWERVE_SANDBOX_DIR": str(sandbox_dir),
        }
        self.nodes: list[str] = []  # node ids, in the order started

    def _start(self, args: list[str]) -> None:
        result = subprocess.run(
            [*ray_command(), "start", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
        )
        if result.returncode != 0:
            raise RuntimeError(f"ray start {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")

    def _common(self, cpus: int, resources: dict[str, float] | None) -> list[str]:
        args = [
            "--node-ip-address",
            NODE_IP,
            "--num-cpus",
            str(cpus),
            "--disable-usage-stats",
            "--dashboard-agent-listen-port",
            str(free_port()),
        ]
        if resources:
            args += ["--resources", json.dumps(resources)]
        return args

    def start_head(self, cpus: int = 1, system_config: dict | None = None) -> None:
        args = [
            "--head",
            "--port",
            str(self.port),
            "--include-dashboard=false",
            *self._common(cpus, None),
        ]
        if system_config:
            args += ["--system-config", json.dumps(system_config)]
        self._start(args)

    def add_node(self, cpus: int = 1, resources: dict[str, float] | None = None) -> None:
        self._start(["--address", self.address, *self._common(cpus, resources)])

    def raylets(self) -> set[int]:
        return {pid for pid in processes_with(str(self.tmp)) if b"raylet/raylet" in _cmdline(pid)}

    def raylet_of(self, node_id: str) -> int:
        found = processes_with(f"--node_id={node_id}") & processes_with(str(self.tmp))
        raylets = [p for p in found if b"raylet/raylet" in _cmdline(p)]
        if len(raylets) != 1:
            raise RuntimeError(f"no single raylet for node {node_id}: {raylets}")
        return raylets[0]

    def kill_node(self, node_id: str) -> None:
        """SIGKILL a node's raylet and everything under it (its workers die with it)."""
        raylet = self.raylet_of(node_id)
        kill_all(process_tree({raylet}))

    def stop(self) -> None:
        """Kill every process of this cluster (found by its private temporary directory)."""
        kill_all(process_tree(processes_with(str(self.tmp))))
        shutil.rmtree(self.tmp, ignore_errors=True)

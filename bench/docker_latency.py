"""Docker latency on this machine, for the sandbox benchmarks.

Times ``docker run --rm --network none IMAGE true`` and ``docker exec CTR true`` with the docker
CLI, and ``DockerWorkspace.exec("true")`` (swerve's own path through the Engine API), using the
small busybox image the tests build locally (no registry). Prints medians.

    .venv/bin/python bench/docker_latency.py [--runs 20] [--image NAME] [--json]

Other benchmarks import ``measure_docker_latency``; it raises ``DockerUnavailable`` with the
reason when there is no docker CLI or no daemon.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class DockerUnavailable(RuntimeError):
    """No docker CLI, no daemon, or no image to time."""


def _docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)


def _default_image() -> str:
    sys.path.insert(0, str(ROOT / "tests" / "sandbox"))
    try:
        import docker_support
    finally:
        sys.path.pop(0)
    name, problem, _ = docker_support.local_image()
    if name is None:
        raise DockerUnavailable(f"no image to time: {problem}")
    return name


def _timed(args: list[str]) -> float:
    start = time.perf_counter()
    proc = _docker(*args)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise DockerUnavailable(f"docker {' '.join(args)} failed: {proc.stderr.strip()[:300]}")
    return elapsed


async def _swerve_exec_times(image: str, runs: int) -> list[float]:
    from swerve.sandbox.docker import open_docker_workspace

    times = []
    async with await open_docker_workspace(None, image=image, ttl_s=600) as ws:
        await ws.exec("true")
        for _ in range(runs):
            start = time.perf_counter()
            await ws.exec("true")
            times.append(time.perf_counter() - start)
    return times


def measure_docker_latency(
    runs: int = 20, image: str | None = None, swerve: bool = True
) -> dict[str, list[float]]:
    """Seconds per ``docker run --rm`` and per ``docker exec`` of ``true`` (and, with ``swerve``,
    per ``DockerWorkspace.exec``), ``runs`` of each after one warm-up."""
    if shutil.which("docker") is None:
        raise DockerUnavailable("no docker CLI on this machine (scripts/ensure-docker.sh installs one)")
    try:
        info = _docker("info", "--format", "{{.ServerVersion}}", timeout=20)
    except subprocess.TimeoutExpired as exc:
        raise DockerUnavailable("no docker daemon: `docker info` did not answer in 20 s") from exc
    if info.returncode != 0:
        raise DockerUnavailable(f"no docker daemon: {info.stderr.strip()[:300]}")
    image = image or _default_image()
    run_args = ["run", "--rm", "--network", "none", image, "true"]
    _timed(run_args)
    result: dict[str, list[float]] = {"docker_run_s": [_timed(run_args) for _ in range(runs)]}
    started = _docker(
        *("run", "-d", "--network", "none", "--label", "swerve.bench=1", "--entrypoint", "/bin/sh"),
        *(image, "-c", "sleep 600 & wait"),
    )
    if started.returncode != 0:
        raise DockerUnavailable(f"cannot start a container: {started.stderr.strip()[:300]}")
    container = started.stdout.strip()
    try:
        _timed(["exec", container, "true"])
        result["docker_exec_s"] = [_timed(["exec", container, "true"]) for _ in range(runs)]
    finally:
        _docker("rm", "-f", container)
    if swerve:
        result["swerve_exec_s"] = asyncio.run(_swerve_exec_times(image, runs))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--image", default=None)
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    args = parser.parse_args()
    try:
        figures = measure_docker_latency(args.runs, args.image)
    except DockerUnavailable as exc:
        print(f"docker_latency: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    for key, values in figures.items():
        print(f"{key:16} median {statistics.median(values) * 1000:7.1f} ms  (n={len(values)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

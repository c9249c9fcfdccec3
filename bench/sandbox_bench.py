"""Namespace sandbox benchmark: latencies, idle memory, and many live environments at once.

    python bench/sandbox_bench.py [--envs 20000] [--samples 300] [--concurrency 8] [--json out.json]

Measures, in one run on this machine:

- environment create + first exec latency (p50, p99), one environment at a time;
- the cost of the default hardening: the same figures with the default limits and the system-call
  filter (what every sandbox gets) against no limits and no filter, interleaved;
- all latencies are sampled in interleaved rounds (docker's too), so load swings hit them alike;
- exec latency in a stateless environment (and in a persistent one), p50 and p99;
- memory held by an idle environment (Python heap + kernel slab per environment);
- N live environments, each having run a command, created with bounded concurrency: failures,
  throughput, and that closing them leaves no directory, mount or process behind;
- ``docker run`` and ``docker exec`` latencies on the same machine when a docker daemon answers
  (a tiny local image is built from static binaries, so nothing is pulled), and the ratios.

When docker is not reachable, the issue's anchor figures are printed, marked as not measured here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from swerve.sandbox.ns import NamespaceWorkspace, check_support, overlay
from swerve.sandbox.ns import launcher as ns_launcher
from swerve.sandbox.ns.limits import Limits
from swerve.sandbox.ns.state import ProcessState

ANCHOR_DOCKER_RUN_MS = 260.0  # issue figures, measured elsewhere
ANCHOR_DOCKER_EXEC_MS = 75.0
GOALS = {"create_vs_run": 15.0, "exec_vs_exec": 7.0, "idle_bytes": 100 * 1024}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary(values_s: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values_s]
    return {
        "p50_ms": pct(ms, 50),
        "p99_ms": pct(ms, 99),
        "mean_ms": statistics.fmean(ms) if ms else 0.0,
        "n": len(ms),
    }


def meminfo() -> dict[str, int]:
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            key, _, rest = line.partition(":")
            out[key] = int(rest.split()[0]) * 1024
    return out


def rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def mount_count(marker: str = "swerve-sandbox") -> int:
    """Host mounts whose mount point mentions the sandboxes' state directory (there should be none)."""
    with open("/proc/self/mountinfo") as f:
        return sum(1 for line in f if marker in line.split(" - ")[0])


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


def make_base(directory: Path) -> Path:
    """A small git repository, like a task's code at its base commit."""
    base = directory / "repo"
    (base / "pkg").mkdir(parents=True)
    for i in range(50):
        (base / "pkg" / f"mod{i}.py").write_text(f"def f{i}(x):\n    return x + {i}\n")
    (base / "README.md").write_text("bench repo\n")
    subprocess.run(["git", "init", "-q"], cwd=base, check=True)
    subprocess.run(["git", "add", "-A"], cwd=base, check=True)
    subprocess.run(
        ["git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "base"], cwd=base, check=True
    )
    return base


# -- latencies, interleaved -------------------------------------------------------------------
#
# Every round takes one sample of each figure, docker's included, so that the load of the
# machine (other processes come and go) weighs on all of them alike.


class Docker:
    """A docker anchor: ``docker run --rm`` and ``docker exec`` into one kept container."""

    def __init__(self, image: str) -> None:
        self.image = image
        tiny = image.startswith("swerve-bench-tiny")
        self.true_cmd = ["/true"] if tiny else ["true"]
        self.keep_cmd = ["/pause"] if tiny else ["sleep", "infinity"]
        self.cid = ""

    async def start(self) -> None:
        await timed("docker", "run", "--rm", "--network", "none", self.image, *self.true_cmd)  # warm up
        self.cid = subprocess.run(
            ["docker", "run", "-d", "--network", "none", self.image, *self.keep_cmd],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        await timed("docker", "exec", self.cid, *self.true_cmd)

    async def run(self) -> float:
        return await timed("docker", "run", "--rm", "--network", "none", self.image, *self.true_cmd)

    async def exec(self) -> float:
        return await timed("docker", "exec", self.cid, *self.true_cmd)

    def stop(self) -> None:
        if self.cid:
            subprocess.run(["docker", "rm", "-f", self.cid], capture_output=True)


class Bare:
    """No limits and no system-call filter, for the cost of the default hardening."""

    def __enter__(self) -> None:
        os.environ["SWERVE_SANDBOX_SECCOMP"] = "0"

    def __exit__(self, *exc: object) -> None:
        os.environ.pop("SWERVE_SANDBOX_SECCOMP", None)


async def create_first_exec(base: Path, state_dir: str | None, limits: Limits | None = None) -> float:
    t0 = time.perf_counter()
    ws = await NamespaceWorkspace.create([base], state_dir=state_dir, limits=limits)
    result = await ws.exec("true")
    elapsed = time.perf_counter() - t0
    await ws.close()
    assert result.exit_code == 0, result
    return elapsed


async def one_exec(ws: NamespaceWorkspace) -> float:
    t0 = time.perf_counter()
    result = await ws.exec("true")
    elapsed = time.perf_counter() - t0
    assert result.exit_code == 0, result
    return elapsed


async def bench_latencies(
    base: Path, samples: int, docker: Docker | None, docker_samples: int, tmpfs: str | None
) -> dict[str, object]:
    figures: dict[str, list[float]] = {}

    def add(key: str, value: float) -> None:
        figures.setdefault(key, []).append(value)

    stateless = await NamespaceWorkspace.create([base])
    persistent = await NamespaceWorkspace.create([base], mode="persistent")
    in_memory = await NamespaceWorkspace.create([base], state_dir=tmpfs) if tmpfs else None
    bare = await NamespaceWorkspace.create([base], limits=Limits.unlimited())
    every = max(1, samples // max(1, docker_samples))
    try:
        for ws in filter(None, (stateless, persistent, in_memory, bare)):
            await one_exec(ws)
        for _ in range(3):
            await create_first_exec(base, None)
        for i in range(samples):
            add("create_first_exec", await create_first_exec(base, None))
            add("exec_stateless", await one_exec(stateless))
            add("exec_persistent", await one_exec(persistent))
            with Bare():
                add("bare_create_first_exec", await create_first_exec(base, None, Limits.unlimited()))
                add("bare_exec_stateless", await one_exec(bare))
            if in_memory is not None:
                add("tmpfs_create_first_exec", await create_first_exec(base, tmpfs))
                add("tmpfs_exec_stateless", await one_exec(in_memory))
            if docker is not None and i % every == 0:
                add("docker_run", await docker.run())
                add("docker_exec", await docker.exec())
    finally:
        for ws in filter(None, (stateless, persistent, in_memory, bare)):
            await ws.close()
    return {key: summary(values) for key, values in figures.items()}


async def bench_many(base: Path, n: int, concurrency: int) -> dict[str, object]:
    """n live environments, each having run a command; then closed; nothing may be left."""
    state = ProcessState.for_root(None)
    dirs_before, mounts_before, fds_before = set(os.listdir(state.path)), mount_count(), fd_count()
    mem_before, rss_before = meminfo(), rss_bytes()
    envs: list[NamespaceWorkspace] = []
    failures: list[str] = []
    sem = asyncio.Semaphore(concurrency)
    t0 = time.perf_counter()

    async def one(i: int) -> None:
        async with sem:
            try:
                ws = await NamespaceWorkspace.create([base])
                envs.append(ws)
                result = await ws.exec(f"echo {i} > .marker && cat .marker")
                if result.exit_code != 0 or result.output != f"{i}\n":
                    failures.append(f"env {i}: exit {result.exit_code}: {result.output[:200]!r}")
            except Exception as exc:
                failures.append(f"env {i}: {type(exc).__name__}: {exc}")

    step = 1000
    for start in range(0, n, step):
        await asyncio.gather(*(one(i) for i in range(start, min(n, start + step))))
    elapsed = time.perf_counter() - t0
    await asyncio.sleep(1.0)  # let the kernel finish tearing down the last namespaces
    mem_live, rss_live = meminfo(), rss_bytes()
    live_processes = sum(1 for p in os.listdir("/proc") if p.isdigit())
    idle = {
        "python_bytes_per_env": (rss_live - rss_before) / max(1, len(envs)),
        "kernel_slab_bytes_per_env": (mem_live["Slab"] - mem_before["Slab"]) / max(1, len(envs)),
        "used_bytes_per_env": ((mem_before["MemAvailable"] - mem_live["MemAvailable"]) / max(1, len(envs))),
        "fds_per_env": (fd_count() - fds_before) / max(1, len(envs)),
        "mounts_added": mount_count() - mounts_before,
        "processes_on_host": live_processes,
    }
    t1 = time.perf_counter()
    for ws in envs:
        await ws.close()
    close_s = time.perf_counter() - t1
    leftovers = sorted(set(os.listdir(state.path)) - dirs_before)
    return {
        "envs": n,
        "created": len(envs),
        "failures": len(failures),
        "failure_examples": failures[:5],
        "elapsed_s": elapsed,
        "envs_per_s": n / elapsed if elapsed else 0.0,
        "close_s": close_s,
        "idle": idle,
        "left_behind": {
            "dirs": len(leftovers),
            "mounts": mount_count() - mounts_before,
            "fds": fd_count() - fds_before,
        },
    }


# -- docker anchor -----------------------------------------------------------------------------


def docker_available() -> str | None:
    """None when usable, else why not."""
    if not shutil.which("docker"):
        return "no docker command"
    try:
        done = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, timeout=20
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"docker info failed: {exc}"
    if done.returncode != 0:
        return "docker daemon not reachable: " + done.stderr.decode(errors="replace").strip()[:200]
    return None


def build_tiny_image(workdir: Path) -> str:
    """An image holding two static binaries (/true, /pause): docker at its fastest, no pull."""
    tag = "swerve-bench-tiny:1"
    if subprocess.run(["docker", "image", "inspect", tag], capture_output=True).returncode == 0:
        return tag
    cc = shutil.which("gcc") or shutil.which("cc")
    if not cc:
        raise RuntimeError("no C compiler to build the tiny benchmark image")
    root = workdir / "rootfs"
    root.mkdir()
    (workdir / "true.c").write_text("int main(void) { return 0; }\n")
    (workdir / "pause.c").write_text("#include <unistd.h>\nint main(void) { for (;;) pause(); }\n")
    for name in ("true", "pause"):
        subprocess.run([cc, "-O2", "-static", "-o", str(root / name), str(workdir / f"{name}.c")], check=True)
    tar = subprocess.run(["tar", "-C", str(root), "-c", "."], capture_output=True, check=True).stdout
    subprocess.run(["docker", "import", "-", tag], input=tar, capture_output=True, check=True)
    return tag


async def timed(*argv: str) -> float:
    t0 = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {err.decode(errors='replace')[:300]}")
    return time.perf_counter() - t0


async def open_docker(image: str | None, workdir: Path) -> tuple[Docker | None, str]:
    """A started docker anchor, or None and the reason it is unavailable."""
    why = docker_available()
    if why:
        return None, why
    docker = Docker(image or build_tiny_image(workdir))
    await docker.start()
    return docker, ""


# -- main ------------------------------------------------------------------------------------------


def print_report(r: dict) -> None:
    print(f"\nswerve namespace sandbox benchmark ({r['machine']})")
    print(f"launcher: {r['launcher']}")
    print(f"writable layers in: {r['state_dir']}")
    print("\nlatency (one at a time)                      p50        p99")
    for key, label in (
        ("create_first_exec", "create + first exec (stateless)"),
        ("exec_stateless", "exec (stateless)"),
        ("exec_persistent", "exec (persistent)"),
        ("bare_create_first_exec", "  no limits, no filter: create + 1st exec"),
        ("bare_exec_stateless", "  no limits, no filter: exec (stateless)"),
        ("tmpfs_create_first_exec", "  same, layers on tmpfs: create + 1st exec"),
        ("tmpfs_exec_stateless", "  same, layers on tmpfs: exec (stateless)"),
    ):
        if key not in r:
            continue
        s = r[key]
        print(f"  {label:<40} {s['p50_ms']:7.2f} ms {s['p99_ms']:7.2f} ms   (n={s['n']})")
    added = {
        k: r[k]["p50_ms"] - r["bare_" + k]["p50_ms"] for k in ("create_first_exec", "exec_stateless")
    }
    r["hardening_added_p50_ms"] = added
    print(
        f"  default limits + seccomp add at p50: {added['create_first_exec']:+.2f} ms to create + 1st exec, "
        f"{added['exec_stateless']:+.2f} ms to exec (goal <= 1 ms)"
    )
    d = r["docker"]
    if d.get("available"):
        print(
            f"  {'docker run --rm (' + d['image'] + ')':<40} {d['run']['p50_ms']:7.2f} ms {d['run']['p99_ms']:7.2f} ms"
        )
        print(f"  {'docker exec':<40} {d['exec']['p50_ms']:7.2f} ms {d['exec']['p99_ms']:7.2f} ms")
        run_ms, exec_ms, note = d["run"]["p50_ms"], d["exec"]["p50_ms"], "measured here, same run"
    else:
        print(f"  docker: unavailable ({d['reason']})")
        print(
            f"  anchors NOT measured here (issue's figures): docker run ~{ANCHOR_DOCKER_RUN_MS:.0f} ms, "
            f"docker exec ~{ANCHOR_DOCKER_EXEC_MS:.0f} ms"
        )
        run_ms, exec_ms, note = (
            ANCHOR_DOCKER_RUN_MS,
            ANCHOR_DOCKER_EXEC_MS,
            "against the issue's anchors, NOT measured here",
        )
    create_ratio = run_ms / r["create_first_exec"]["p50_ms"]
    exec_ratio = exec_ms / r["exec_stateless"]["p50_ms"]
    warm_ratio = exec_ms / r["exec_persistent"]["p50_ms"]
    r["ratios"] = {
        "create_vs_docker_run": create_ratio,
        "exec_vs_docker_exec": exec_ratio,
        "persistent_exec_vs_docker_exec": warm_ratio,
        "basis": note,
    }
    print(f"\nratios at p50 ({note}):")
    print(
        f"  create + first exec vs docker run: {create_ratio:6.1f}x faster (goal >= {GOALS['create_vs_run']:.0f}x)"
    )
    print(
        f"  exec vs docker exec:               {exec_ratio:6.1f}x faster (goal >= {GOALS['exec_vs_exec']:.0f}x)"
    )
    print(f"  exec (persistent) vs docker exec:  {warm_ratio:6.1f}x faster (goal >= 20x)")
    if "tmpfs_exec_stateless" in r:
        t_create = run_ms / r["tmpfs_create_first_exec"]["p50_ms"]
        t_exec = exec_ms / r["tmpfs_exec_stateless"]["p50_ms"]
        r["ratios"]["tmpfs"] = {"create_vs_docker_run": t_create, "exec_vs_docker_exec": t_exec}
        print(f"  the same with layers on tmpfs:     {t_create:6.1f}x and {t_exec:.1f}x")
    m = r["many"]
    idle = m["idle"]
    held = idle["python_bytes_per_env"] + max(0.0, idle["kernel_slab_bytes_per_env"])
    print(f"\n{m['envs']} live environments, each having run a command (concurrency {r['concurrency']}):")
    print(
        f"  created {m['created']}, failures {m['failures']}, {m['elapsed_s']:.1f} s ({m['envs_per_s']:.0f} envs/s)"
    )
    for example in m["failure_examples"]:
        print(f"    {example}")
    print(
        f"  idle environment holds: {idle['python_bytes_per_env'] / 1024:.1f} KiB Python + "
        f"{idle['kernel_slab_bytes_per_env'] / 1024:.1f} KiB kernel slab = {held / 1024:.1f} KiB "
        f"(goal < {GOALS['idle_bytes'] // 1024} KiB); MemAvailable drop {idle['used_bytes_per_env'] / 1024:.1f} KiB/env"
    )
    print(
        f"  while idle: {idle['fds_per_env']:.3f} fds/env, {idle['mounts_added']} sandbox mounts on the host, "
        f"{idle['processes_on_host']} processes on the host in all"
    )
    left = m["left_behind"]
    print(
        f"  after close ({m['close_s']:.1f} s): {left['dirs']} directories, {left['mounts']} mounts, "
        f"{left['fds']} fds left behind"
    )


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--envs", type=int, default=2000, help="live environments in the scale run (default 2000)"
    )
    parser.add_argument("--samples", type=int, default=300, help="latency samples per figure (default 300)")
    parser.add_argument("--docker-samples", type=int, default=30)
    parser.add_argument("--docker-image", help="image for the docker anchor (default: a tiny local one)")
    parser.add_argument("--concurrency", type=int, default=max(2, 4 * (os.cpu_count() or 1)))
    parser.add_argument("--base", type=Path, help="base directory (default: a generated git repository)")
    parser.add_argument(
        "--state-dir",
        help="where writable layers live (sets SWERVE_SANDBOX_DIR; e.g. a tmpfs like /dev/shm/x)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.envs < 1 or args.samples < 1 or args.concurrency < 1:
        parser.error("--envs, --samples and --concurrency must be positive")
    if args.state_dir:
        os.environ["SWERVE_SANDBOX_DIR"] = args.state_dir
    await check_support()
    with tempfile.TemporaryDirectory(prefix="swerve-bench-") as tmp:
        workdir = Path(tmp)
        base = args.base.resolve() if args.base else make_base(workdir)
        report: dict = {
            "machine": f"{os.cpu_count()} cpus, {meminfo()['MemTotal'] / (1 << 30):.1f} GiB, {os.uname().release}",
            "launcher": await ns_launcher.describe(),
            "concurrency": args.concurrency,
            "state_dir": ProcessState.for_root(None).root,
            "command": " ".join([os.path.basename(sys.executable), *sys.argv]),
        }
        tmpfs = None
        if not args.state_dir and overlay.fs_type("/dev/shm") == "tmpfs" and os.access("/dev/shm", os.W_OK):
            tmpfs = f"/dev/shm/swerve-bench-{os.getuid()}"  # the same figures with layers in memory
        docker, why = await open_docker(args.docker_image, workdir)
        try:
            report.update(await bench_latencies(base, args.samples, docker, args.docker_samples, tmpfs))
        finally:
            if docker is not None:
                docker.stop()
        report["docker"] = (
            {
                "available": True,
                "image": docker.image,
                "run": report.pop("docker_run"),
                "exec": report.pop("docker_exec"),
            }
            if docker is not None
            else {"available": False, "reason": why}
        )
        report["many"] = await bench_many(base, args.envs, args.concurrency)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    m = report["many"]
    ok = m["failures"] == 0 and not any(m["left_behind"].values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

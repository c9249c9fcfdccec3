"""Environment farm benchmark.

    python bench/farm_bench.py [--envs 20000] [--episodes 200] [--ray-workers 1,2,3,4] [--json out.json]

Measures, in one run on this machine:

- ``--envs`` live environments at once, each reset, 3 scripted steps (read a file, write a script,
  run it), verified in a fresh copy and closed (``swerve gym bench``): wall time, environment
  operations per second, peak memory, failures (goal 0), leftovers (goal 0);
- the per-episode overhead of the farm against a bare subprocess doing the same commands in a
  plain copy of the directory: the environment alone (reset, steps, verify, close), and a whole
  farm episode (agent loop with a scripted model, pool, verification, record fsynced to the store);
- Ray mode with 1 to 4 environment-worker processes on this machine: episodes per second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from swerve.gym.bench import SCRIPT, VERIFY, make_base, policy, run_bench
from swerve.gym.env import DirectoryEnv
from swerve.paths import cache_root

WORK = cache_root() / "farm-bench"


def median_ms(values: list[float]) -> float:
    return 1000 * statistics.median(values) if values else float("nan")


def bare_episode(base: Path, i: int) -> None:
    """The same work with plain copies and subprocesses, no isolation."""
    scratch = Path(tempfile.mkdtemp(prefix="bare-", dir=WORK))
    try:
        work = scratch / "w"
        shutil.copytree(base, work, symlinks=True)
        (work / "notes.txt").read_text()
        (work / "run.sh").write_text(SCRIPT)
        subprocess.run(["bash", "-c", f"echo {i} >> notes.txt; sh run.sh"], cwd=work, check=True)
        copy = scratch / "v"
        shutil.copytree(work, copy, symlinks=True)
        subprocess.run(["bash", "-c", VERIFY], cwd=copy, check=True)
    finally:
        shutil.rmtree(scratch)


async def env_episode(base: Path, i: int) -> None:
    env = DirectoryEnv(f"o-{i}", str(base), VERIFY, prompt="overhead")
    try:
        await env.reset()
        for step in range(3):
            result = await env.step(policy(step, i))
            assert not result.is_error, result.observation
        verdict = await env.verify()
        assert verdict.reward == 1.0, verdict.report
    finally:
        await env.close()


def replay_script(path: Path) -> str:
    turns = [
        {"text": "", "tool_calls": [{"name": c.name, "arguments": c.arguments}]}
        for c in (policy(0, 0), policy(1, 0), policy(2, 0))
    ]
    turns.append({"text": "done"})
    path.write_text(json.dumps({"turns": turns}))
    return f"replay:{path}"


def directory_source(base: Path, n: int):
    from swerve.gym.sources import DirectoryEntry, DirectorySource

    return DirectorySource({f"t{i}": DirectoryEntry(str(base), VERIFY, "run the script") for i in range(n)})


async def pool_episodes(base: Path, n: int, concurrency: int, out: Path) -> tuple[float, dict]:
    from swerve.gym.episode import AgentConfig, EpisodeRunner, PoolLimits
    from swerve.gym.pool import LocalExecutor, Pool, plan_episodes
    from swerve.gym.store import RunStore

    source = directory_source(base, n)
    agent = AgentConfig(model=replay_script(WORK / "policy.json"))
    runner = EpisodeRunner(source, agent, run_id=out.name)
    store = RunStore.open(out, {"source": source.describe(), "agent": agent.describe(), "samples": 1})
    pool = Pool(LocalExecutor(runner, PoolLimits(envs=concurrency)), store)
    t0 = time.perf_counter()
    progress = await pool.run(plan_episodes(source.task_ids()))
    wall = time.perf_counter() - t0
    store.close()
    return wall, progress.to_json()


async def overhead(episodes: int) -> dict:
    base = make_base(WORK)
    bare, env, farm = [], [], []
    for i in range(episodes):  # interleaved, so load swings hit all three alike
        t0 = time.perf_counter()
        bare_episode(base, i)
        bare.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        await env_episode(base, i)
        env.append(time.perf_counter() - t0)
    out = WORK / "pool-seq"
    shutil.rmtree(out, ignore_errors=True)
    wall, summary = await pool_episodes(base, episodes, 1, out)
    farm = [wall / episodes]
    shutil.rmtree(out, ignore_errors=True)
    return {
        "episodes": episodes,
        "bare_ms": median_ms(bare),
        "env_ms": median_ms(env),
        "farm_episode_ms": 1000 * farm[0],
        "env_vs_bare": median_ms(env) / median_ms(bare),
        "farm_vs_bare": 1000 * farm[0] / median_ms(bare),
        "farm_failures": summary["infra_errors"],
    }


def ray_scaling(workers: list[int], episodes: int) -> list[dict]:
    """Episodes per second on a local Ray instance with 1..N environment-worker processes."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return [{"skipped": "ray is not installed (pip install 'swerve[ray]')"}]
    from swerve.gym.episode import AgentConfig, EpisodeRunner, PoolLimits
    from swerve.gym.pool import LocalExecutor, Pool, plan_episodes
    from swerve.gym.ray_backend import RayExecutor

    base = make_base(WORK)
    rows = []
    source = directory_source(base, episodes)
    runner = EpisodeRunner(source, AgentConfig(model=replay_script(WORK / "policy.json")), run_id="local")
    t0 = time.perf_counter()
    progress = asyncio.run(
        Pool(LocalExecutor(runner, PoolLimits(envs=32))).run(plan_episodes(source.task_ids()))
    )
    wall = time.perf_counter() - t0
    rows.append(
        {
            "workers": "local (no Ray)",
            "episodes": episodes,
            "wall_s": round(wall, 2),
            "episodes_per_s": round(episodes / wall, 2),
            "infra_errors": progress.infra_errors,
        }
    )
    print(f"local pool: {episodes / wall:.1f} episodes/s ({wall:.1f} s)", file=sys.stderr)
    for n in workers:
        source = directory_source(base, episodes)
        runner = EpisodeRunner(
            source, AgentConfig(model=replay_script(WORK / "policy.json")), run_id=f"ray{n}"
        )
        executor = RayExecutor(runner, address=None, limits=PoolLimits(envs=32), num_workers=n)
        pool = Pool(executor)
        t0 = time.perf_counter()
        progress = asyncio.run(pool.run(plan_episodes(source.task_ids())))
        wall = time.perf_counter() - t0
        rows.append(
            {
                "workers": n,
                "episodes": episodes,
                "wall_s": round(wall, 2),
                "episodes_per_s": round(episodes / wall, 2),
                "infra_errors": progress.infra_errors,
            }
        )
        print(f"ray workers {n}: {episodes / wall:.1f} episodes/s ({wall:.1f} s)", file=sys.stderr)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--envs", type=int, default=2000, help="live environments (0: skip)")
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument(
        "--episodes", type=int, default=100, help="episodes for the overhead comparison (0: skip)"
    )
    ap.add_argument("--ray-workers", default="1,2,3,4", help="worker counts for Ray mode ('' to skip)")
    ap.add_argument("--ray-episodes", type=int, default=400)
    ap.add_argument("--json", help="write all figures to this file")
    args = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    results: dict = {}

    def phase(name: str, seconds: float) -> None:
        print(f"  {name:<7} {seconds:8.2f} s", file=sys.stderr, flush=True)

    if args.envs:
        print(f"{args.envs} live environments, 3 steps each:", file=sys.stderr)
        many = asyncio.run(
            run_bench(args.envs, 3, concurrency=args.concurrency, work_dir=WORK, on_phase=phase)
        )
        results["many"] = m = many.to_json()
        print(json.dumps(m), file=sys.stderr)
        print(f"\n## farm: {m['envs']} live environments (reset, 3 steps, verify, close)")
        print(
            f"wall {m['wall_s']:.1f} s · {m['ops_per_s']:.0f} env ops/s · failures {m['failures']} (goal 0)"
            f" · leftovers {m['leftovers']} (goal 0) · peak RSS {m['peak_rss_mb']:.0f} MB"
        )
        print("phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in m["phases_s"].items()))
    if args.episodes:
        results["overhead"] = o = asyncio.run(overhead(args.episodes))
        print(json.dumps(o), file=sys.stderr)
        print(f"\n## per-episode overhead against a bare subprocess ({o['episodes']} episodes, medians)")
        print(f"bare subprocess + copies  {o['bare_ms']:8.1f} ms")
        print(f"farm environment          {o['env_ms']:8.1f} ms   ({o['env_vs_bare']:.2f}x bare)")
        print(f"farm episode (agent+pool) {o['farm_episode_ms']:8.1f} ms   ({o['farm_vs_bare']:.2f}x bare)")
    if args.ray_workers:
        results["ray"] = ray_scaling([int(w) for w in args.ray_workers.split(",")], args.ray_episodes)
        print("\n## Ray mode on this machine")
        for row in results["ray"]:
            if "skipped" in row:
                print(row["skipped"])
            else:
                print(
                    f"workers {row['workers']}: {row['episodes_per_s']:.1f} episodes/s"
                    f" ({row['episodes']} in {row['wall_s']:.1f} s, infra errors {row['infra_errors']})"
                )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    many = results.get("many", {})
    return 0 if not many.get("failures") and not many.get("leftovers") else 1


if __name__ == "__main__":
    sys.exit(main())

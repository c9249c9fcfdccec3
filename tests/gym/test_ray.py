"""The Ray backend on a real Ray cluster of several node processes on this machine: real namespace
sandboxes, the real agent with scripted models, the real pool and store, workers killed with SIGKILL."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from ray_support import RayCluster, processes_with

from swerve.config import AgentConfig
from swerve.errors import InfraError
from swerve.gym.base import Episode
from swerve.gym.episode import EpisodeRunner, PoolLimits
from swerve.gym.pool import Pool, plan_episodes
from swerve.gym.ray_backend import NoWorkersLeft, RayExecutor, Worker, plan_placement
from swerve.gym.sources import DirectoryEntry, DirectorySource
from swerve.gym.store import RunStore, read_records

VERIFY = "grep -qx hi out.txt"


# --- without Ray ------------------------------------------------------------------------------------


def test_without_ray_the_error_says_how_to_install_it() -> None:
    code = (
        "import sys; sys.modules['ray'] = None\n"  # what an environment without Ray looks like
        "from swerve.gym.ray_backend import import_ray, RayUnavailable\n"
        "try:\n    import_ray()\nexcept RayUnavailable as exc:\n    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "pip install 'swerve[ray]'" in out.stdout


def test_placement_puts_workers_on_every_node_or_spreads_a_count() -> None:
    assert plan_placement(["a", "b"], 1, None) == ["a", "b"]
    assert plan_placement(["a", "b"], 2, None) == ["a", "a", "b", "b"]
    assert plan_placement(["a", "b"], 1, 3) == ["a", "b", "a"]
    with pytest.raises(ValueError, match="no live Ray node"):
        plan_placement([], 1, None)
    with pytest.raises(ValueError, match="at least 1"):
        plan_placement(["a"], 1, 0)


def test_routing_prefers_the_worker_holding_the_key_while_it_has_room() -> None:
    executor = RayExecutor(EpisodeRunner(None, AgentConfig(model="unused")), limits=PoolLimits(envs=2))
    w0 = Worker(0, "n0", 0, "w0", None)
    w1 = Worker(1, "n1", 0, "w1", None, load=1)
    executor.workers = [w0, w1]
    assert executor.pick("k") is w0  # first come: the least loaded
    w1.keys.add("k")
    assert executor.pick("k") is w1  # holds the key's layer, has room
    w1.load = 2
    assert executor.pick("k") is w0  # full: spill to the least loaded
    w0.load = 2
    assert executor.pick("k") is None  # no room anywhere: the caller waits
    w0.alive = False
    w0.load = 0
    assert executor.pick("other") is None  # a dead worker gets nothing


# --- on a real cluster -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ray_driver(namespaces_available) -> Iterator[dict[str, str]]:
    """This process as a Ray driver: Ray installed, its files in a private directory, a token."""
    if importlib.util.find_spec("ray") is None:
        pytest.skip("Ray is not installed (pip install 'swerve[ray]')")
    tmp = Path(tempfile.mkdtemp(prefix="swr-", dir="/tmp"))  # Unix socket paths below it must stay short
    env = {
        "RAY_TMPDIR": str(tmp),
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": secrets.token_hex(16),
        "RAY_USAGE_STATS_ENABLED": "0",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    imported_before = "ray" in sys.modules
    import ray

    if imported_before:  # Ray reads its authentication mode when imported: make it read it again
        from ray._raylet import Config

        Config.initialize("")
    try:
        yield env
    finally:
        if ray.is_initialized():
            ray.shutdown()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster(ray_driver) -> Iterator[RayCluster]:
    """A head node and one worker node, each a ``ray start`` process tree on this machine."""
    sandbox_dir = Path(tempfile.mkdtemp(prefix="swerve-ray-sbx-"))
    cluster = RayCluster(sandbox_dir, ray_driver)
    try:
        # A node that stops answering is declared dead after about 3 s (not Ray's default 15 s or so).
        cluster.start_head(
            cpus=1, system_config={"health_check_period_ms": 1000, "health_check_failure_threshold": 3}
        )
        cluster.add_node(cpus=1)
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(sandbox_dir, ignore_errors=True)


def replay_script(path: Path, gate: Path | None = None) -> str:
    """A model that writes a script, runs it (after ``gate`` exists, when given) and stops."""
    run = "sh hello.sh"
    if gate is not None:  # bounded, so that a failing test cannot hang
        run = f"i=0; while [ ! -e {gate} ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done; {run}"
    turns = [
        {
            "text": "",
            "tool_calls": [
                {
                    "name": "write_file",
                    "arguments": {"file_path": "hello.sh", "content": "echo hi > out.txt\n"},
                }
            ],
        },
        {"text": "", "tool_calls": [{"name": "run_shell_command", "arguments": {"command": run}}]},
        {"text": "Done."},
    ]
    path.write_text(json.dumps({"turns": turns}))
    return f"replay:{path}"


def directory_source(root: Path, layout: dict[str, str]) -> DirectorySource:
    """Tasks by id -> the name of their starting directory (tasks naming the same one share its layer)."""
    entries = {}
    for task_id, base in layout.items():
        start = root / base
        start.mkdir(parents=True, exist_ok=True)
        (start / "README").write_text("say hi\n")
        entries[task_id] = DirectoryEntry(str(start), VERIFY, "Write hi to out.txt.")
    return DirectorySource(entries)


async def run_pool(
    executor: RayExecutor, episodes: list[Episode], out: Path, on_event=None
) -> tuple[Pool, list[dict]]:
    runner = executor.runner
    config = {"source": runner.source.describe(), "agent": runner.agent.describe(), "samples": 1}
    store = RunStore.open(out, config, planned_keys=[e.key for e in episodes])
    try:
        pool = Pool(executor, store, infra_retries=1, on_event=on_event)
        await asyncio.wait_for(pool.run(episodes), 120)
    finally:
        store.close()
    return pool, list(read_records(out))


def stored_lines(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines() if line.strip()]


async def test_episodes_spread_over_workers_on_every_node_and_all_get_rewards(cluster, outside_tmp):
    source = directory_source(outside_tmp, {f"t{i}": f"base{i}" for i in range(8)})
    runner = EpisodeRunner(source, AgentConfig(model=replay_script(outside_tmp / "s.json")), run_id="spread")
    executor = RayExecutor(runner, address=cluster.address, limits=PoolLimits(envs=4), workers_per_node=2)
    episodes = plan_episodes(source.task_ids())
    pool, records = await run_pool(executor, episodes, outside_tmp / "run")

    assert sorted(r["episode"]["key"] for r in records) == sorted(e.key for e in episodes)
    assert all(r["reward"] == 1.0 and r["infra_error"] is None for r in records)
    workers = Counter(r["episode"]["worker"] for r in records)
    assert len(workers) == 4  # two workers on each of the two nodes, all used
    assert len({label.split(":")[1] for label in workers}) == 2
    assert max(workers.values()) <= 4  # never past a worker's capacity
    assert executor.lost_workers == 0 and executor.requeued == 0 and pool.progress.requeued == 0
    assert executor.workers == [] and executor.capacity == 0  # closed


async def test_episodes_with_the_same_layer_stay_on_one_worker(cluster, outside_tmp):
    layout = {f"{key}{i}": key for key in ("a", "b", "c") for i in range(3)}
    source = directory_source(outside_tmp, layout)
    runner = EpisodeRunner(
        source, AgentConfig(model=replay_script(outside_tmp / "s.json")), run_id="affinity"
    )
    executor = RayExecutor(runner, address=cluster.address, limits=PoolLimits(envs=8), num_workers=3)
    _pool, records = await run_pool(executor, plan_episodes(source.task_ids(), 2), outside_tmp / "run")

    assert len(records) == 18 and all(r["reward"] == 1.0 for r in records)
    by_layer: dict[str, set[str]] = {}
    for r in records:
        by_layer.setdefault(layout[r["episode"]["task_id"]], set()).add(r["episode"]["worker"])
    assert all(len(workers) == 1 for workers in by_layer.values()), by_layer
    assert len(set().union(*by_layer.values())) == 3  # each layer's first episode went to an idle worker


async def test_a_killed_worker_episodes_are_requeued_and_finished_elsewhere(cluster, outside_tmp):
    gate = outside_tmp / "go"
    source = directory_source(outside_tmp, {f"t{i}": f"base{i}" for i in range(6)})
    agent = AgentConfig(model=replay_script(outside_tmp / "s.json", gate))
    runner = EpisodeRunner(source, agent, run_id="kill")
    executor = RayExecutor(runner, address=cluster.address, limits=PoolLimits(envs=4), num_workers=2)
    out = outside_tmp / "run"
    victim: dict[str, Worker] = {}
    started: list[str] = []
    requeued: list[str] = []

    def on_event(kind: str, episode: Episode, record) -> None:
        (started if kind == "started" else requeued if kind == "requeued" else []).append(episode.key)

    async def kill_a_busy_worker() -> None:
        while len(started) < 6:  # every episode is on a worker, waiting for the gate
            await asyncio.sleep(0.05)
        worker = max(executor.workers, key=lambda w: w.load)
        victim["worker"], victim["load"] = worker, worker.load
        while not owned_by(cluster, worker.pid):  # its sandboxes are on disk
            await asyncio.sleep(0.05)
        os.kill(worker.pid, signal.SIGKILL)
        while executor.lost_workers < 1:
            await asyncio.sleep(0.05)
        gate.write_text("go")

    killer = asyncio.create_task(kill_a_busy_worker())
    pool, records = await run_pool(executor, plan_episodes(source.task_ids()), out, on_event)
    await killer

    dead, load = victim["worker"], victim["load"]
    assert load == 3  # the least-loaded routing gave each of the two workers three
    assert executor.lost_workers == 1 and executor.requeued == load and pool.progress.requeued == load
    assert sorted(requeued) == sorted(set(requeued)) and len(requeued) == load
    lines = stored_lines(out)
    assert sorted(r["episode"]["key"] for r in lines) == [f"t{i}#0" for i in range(6)]  # none lost or twice
    assert all(r["reward"] == 1.0 and r["infra_error"] is None for r in records)
    assert not any(r["episode"]["worker"] == dead.label for r in records)
    # Its node lives, so it was replaced, and the replacement swept what the dead one left.
    assert executor.replaced == 1
    assert any("replaced " + dead.label in line for line in executor.history)
    assert owned_by(cluster, dead.pid) == []
    assert sandbox_processes(cluster) == set()  # its sandboxes died with it


async def test_cancelling_the_run_closes_every_environment_on_the_workers(cluster, outside_tmp):
    source = directory_source(outside_tmp, {f"t{i}": f"base{i % 2}" for i in range(4)})
    never = outside_tmp / "never"  # the episodes wait for it until cancelled
    runner = EpisodeRunner(
        source, AgentConfig(model=replay_script(outside_tmp / "s.json", never)), run_id="cancel"
    )
    executor = RayExecutor(runner, address=cluster.address, limits=PoolLimits(envs=4), workers_per_node=1)
    started: list[str] = []
    pool = Pool(executor, on_event=lambda kind, episode, record: started.append(kind))
    run = asyncio.create_task(pool.run(plan_episodes(source.task_ids())))
    while len(started) < 4 or not sandbox_processes(cluster):  # commands are running in sandboxes
        assert not run.done(), run
        await asyncio.sleep(0.05)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert pool.records == []
    assert sandbox_processes(cluster) == set()
    environments = [e for owner in cluster.sandbox_dir.iterdir() if owner.is_dir() for e in owner.iterdir()]
    assert environments == []  # every environment's directory was removed as it closed


def owned_by(cluster: RayCluster, pid: int) -> list[Path]:
    """The sandbox state directories of process ``pid`` (named ``<pid>-<start time>``)."""
    return [p for p in cluster.sandbox_dir.iterdir() if p.name.startswith(f"{pid}-")]


def sandbox_processes(cluster: RayCluster) -> set[int]:
    """Live processes of the cluster's sandboxes (their launchers name the state directory)."""
    return processes_with(str(cluster.sandbox_dir))


async def test_a_worker_whose_node_died_is_dropped_and_its_episodes_end_as_infra_errors(cluster, outside_tmp):
    import ray

    cluster.add_node(cpus=1, resources={"doomed": 1})
    gate = outside_tmp / "go"
    source = directory_source(outside_tmp, {f"t{i}": "base" for i in range(2)})
    runner = EpisodeRunner(
        source, AgentConfig(model=replay_script(outside_tmp / "s.json", gate)), run_id="node"
    )
    executor = RayExecutor(
        runner, address=cluster.address, limits=PoolLimits(envs=4), node_resource="doomed", start_timeout_s=30
    )
    started: list[str] = []

    async def kill_the_node() -> None:
        while len(started) < 2:
            await asyncio.sleep(0.05)
        (worker,) = executor.workers
        cluster.kill_node(worker.node_id)

    killer = asyncio.create_task(kill_the_node())
    try:
        pool, _records = await run_pool(
            executor,
            plan_episodes(source.task_ids()),
            outside_tmp / "run",
            lambda kind, episode, record: started.append(episode.key) if kind == "started" else None,
        )
    finally:
        gate.write_text("go")
        await killer
    assert executor.lost_workers == 1 and executor.dropped == 1 and executor.replaced == 0
    assert executor.requeued == 2 and pool.progress.requeued == 2
    lines = stored_lines(outside_tmp / "run")
    assert sorted(r["episode"]["key"] for r in lines) == ["t0#0", "t1#0"]
    for r in lines:
        assert r["reward"] is None and NoWorkersLeft.__name__ in r["infra_error"], r["infra_error"]
    assert ray.is_initialized() is False  # the executor let go of the cluster it joined
    assert sandbox_processes(cluster) == set()


async def test_without_an_address_a_ray_for_this_machine_is_started_and_stopped(ray_driver, outside_tmp):
    import ray

    source = directory_source(outside_tmp, {"t0": "base", "t1": "base"})
    runner = EpisodeRunner(source, AgentConfig(model=replay_script(outside_tmp / "s.json")), run_id="local")
    executor = RayExecutor(runner, limits=PoolLimits(envs=2), num_workers=1)
    _pool, records = await run_pool(executor, plan_episodes(source.task_ids()), outside_tmp / "run")
    assert sorted(r["episode"]["key"] for r in records) == ["t0#0", "t1#0"]
    assert all(r["reward"] == 1.0 and r["episode"]["worker"].startswith("ray:") for r in records)
    assert not ray.is_initialized()  # the Ray it started is stopped


async def test_no_node_to_host_workers_is_a_clear_error(cluster, outside_tmp):
    import ray

    source = directory_source(outside_tmp, {"t0": "base"})
    runner = EpisodeRunner(source, AgentConfig(model=replay_script(outside_tmp / "s.json")))
    executor = RayExecutor(runner, address=cluster.address, node_resource="no_such_resource")
    with pytest.raises(InfraError, match=r"no live Ray node can host environment workers.*no_such_resource"):
        await executor.start()
    assert not ray.is_initialized() and executor.workers == []


def test_swerve_gym_run_with_ray_uses_the_cluster(cluster, outside_tmp):
    source = directory_source(outside_tmp, {f"t{i}": f"base{i % 2}" for i in range(6)})
    tasks = outside_tmp / "envs.jsonl"
    tasks.write_text(
        "".join(
            json.dumps({"id": i, "path": e.path, "verify": e.verify_command, "prompt": e.prompt}) + "\n"
            for i, e in source.entries.items()
        )
    )
    model = replay_script(outside_tmp / "s.json")
    out = outside_tmp / "run"
    argv = [sys.executable, "-m", "swerve.cli.main", "gym", "run", "--tasks", str(tasks), "--model", model]
    argv += ["--out", str(out), "--ray", cluster.address, "--json"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["done"] == 6 and summary["infra_errors"] == 0 and summary["mean_reward"] == 1.0
    assert all(r["episode"]["worker"].startswith("ray:") for r in read_records(out))

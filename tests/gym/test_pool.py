"""The pool end to end: real sandboxes, the real agent with scripted models, a real store."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ns_support import host_processes_with

from swerve.config import AgentConfig
from swerve.gym.episode import EpisodeRunner, PoolLimits
from swerve.gym.leftovers import Footprint
from swerve.gym.pool import LocalExecutor, Pool, plan_episodes
from swerve.gym.sources import DirectoryEntry, DirectorySource
from swerve.gym.store import RunStore, read_records

pytestmark = pytest.mark.usefixtures("namespaces_available")

VERIFY = "grep -q '^hello' out.txt"


def script(path: Path, turns: list[dict]) -> str:
    path.write_text(json.dumps({"turns": turns}))
    return f"replay:{path}"


def solving_turns(command: str = "sh greet.sh > out.txt") -> list[dict]:
    return [
        {"text": "Looking.", "tool_calls": [{"name": "read_file", "arguments": {"file_path": "greet.sh"}}]},
        {"text": "", "tool_calls": [{"name": "run_shell_command", "arguments": {"command": command}}]},
        {"text": "Done."},
    ]


@pytest.fixture
def envs(outside_tmp: Path) -> Path:
    """A directory environment's starting state, outside /tmp."""
    base = outside_tmp / "start"
    base.mkdir()
    (base / "greet.sh").write_text("echo hello\n")
    return base


def source_of(base: Path, n: int, **options) -> DirectorySource:
    entries = {f"t{i}": DirectoryEntry(str(base), VERIFY, "Write the greeting to out.txt.") for i in range(n)}
    return DirectorySource(entries, **options)


async def run_pool(source, agent, out: Path | None, samples=1, limits=None, retries=2):
    runner = EpisodeRunner(source, agent, run_id="t")
    config = {"source": source.describe(), "agent": agent.describe(), "samples": samples}
    episodes = plan_episodes(source.task_ids(), samples)
    store = RunStore.open(out, config, planned_keys=[e.key for e in episodes]) if out else None
    pool = Pool(LocalExecutor(runner, limits or PoolLimits(envs=8)), store, infra_retries=retries)
    try:
        progress = await pool.run(episodes)
    finally:
        if store is not None:
            store.close()
    return progress, (list(read_records(out)) if out else pool.records)


async def test_samples_are_grouped_rewarded_and_stored_once(envs: Path, outside_tmp: Path):
    before = Footprint.take()
    agent = AgentConfig(model=script(outside_tmp / "s.json", solving_turns()))
    progress, records = await run_pool(source_of(envs, 3), agent, outside_tmp / "run", samples=2)
    assert progress.done == 6 and progress.infra_errors == 0 and progress.mean_reward == 1.0
    keys = sorted(r["episode"]["key"] for r in records)
    assert keys == sorted(f"t{i}#{s}" for i in range(3) for s in range(2))
    for r in records:
        assert r["reward"] == 1.0 and r["infra_error"] is None
        assert r["episode"]["group_id"] == r["episode"]["task_id"]
        assert r["verdict"]["resolved"] is True
        assert r["timing"]["reset_s"] >= 0 and r["timing"]["verify_s"] >= 0
        assert [m["role"] for m in r["messages"]][:2] == ["system", "user"]
    assert before.left_since() == {"processes": 0, "mounts": 0, "directories": 0}


async def test_a_wrong_answer_is_a_reward_of_zero_and_not_retried(envs: Path, outside_tmp: Path):
    turns = [
        {"text": "", "tool_calls": [{"name": "no_such_tool", "arguments": {}}]},
        {
            "text": "",
            "tool_calls": [{"name": "run_shell_command", "arguments": {"command": "echo bye > out.txt"}}],
        },
        {"text": "Done."},
    ]
    agent = AgentConfig(model=script(outside_tmp / "s.json", turns))
    progress, records = await run_pool(source_of(envs, 2), agent, outside_tmp / "run")
    assert progress.retries == 0 and progress.infra_errors == 0 and not progress.store_errors
    assert [r["reward"] for r in records] == [0.0, 0.0]
    assert all(r["episode"]["attempt"] == 1 for r in records)
    tool_messages = [m for m in records[0]["messages"] if m["role"] == "tool"]
    assert "no_such_tool" in tool_messages[0]["content"]


async def test_an_infrastructure_failure_is_retried_then_recorded_without_reward(outside_tmp: Path):
    missing = outside_tmp / "gone"  # the starting state does not exist: the environment cannot be had
    agent = AgentConfig(model=script(outside_tmp / "s.json", solving_turns()))
    progress, records = await run_pool(source_of(missing, 1), agent, outside_tmp / "run", retries=2)
    assert progress.retries == 2 and progress.infra_errors == 1
    (record,) = records
    assert record["reward"] is None and record["verdict"] is None
    assert "gone" in record["infra_error"]
    assert record["episode"]["attempt"] == 3 and len(record["episode"]["infra_retries"]) == 2


async def test_a_dead_model_server_is_an_infrastructure_error(envs: Path, outside_tmp: Path, monkeypatch):
    monkeypatch.setenv("SWERVE_RETRY_MAX_ATTEMPTS", "1")
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    agent = AgentConfig(model="m", provider="openai", base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-x")
    _, records = await run_pool(source_of(envs, 1), agent, None, retries=0)
    (record,) = records
    assert record["reward"] is None and "model" in record["infra_error"]
    assert "sk-x" not in json.dumps(record)


async def test_resuming_skips_finished_episodes_and_loses_none(envs: Path, outside_tmp: Path):
    agent = AgentConfig(model=script(outside_tmp / "s.json", solving_turns()))
    out = outside_tmp / "run"
    small = source_of(envs, 2)
    progress, _ = await run_pool(small, agent, out)
    assert progress.done == 2
    again, records = await run_pool(small, agent, out)
    assert again.skipped == 2 and again.done == 0 and len(records) == 2


async def test_the_episode_deadline_is_an_infrastructure_error(envs: Path, outside_tmp: Path):
    agent = AgentConfig(model=script(outside_tmp / "s.json", solving_turns("sleep 30")))
    before = Footprint.take()
    _, records = await run_pool(
        source_of(envs, 1), agent, None, limits=PoolLimits(envs=2, deadline_s=1.5), retries=0
    )
    (record,) = records
    assert record["reward"] is None and "deadline" in record["infra_error"]
    assert before.left_since() == {"processes": 0, "mounts": 0, "directories": 0}


async def test_cancelling_a_run_closes_every_environment(envs: Path, outside_tmp: Path):
    agent = AgentConfig(model=script(outside_tmp / "s.json", solving_turns("sleep 60")))
    before = Footprint.take()
    out = outside_tmp / "run"
    task = asyncio.ensure_future(run_pool(source_of(envs, 6), agent, out, limits=PoolLimits(envs=4)))
    for _ in range(200):  # until commands run in the sandboxes
        await asyncio.sleep(0.05)
        if len(before.left_since()) and before.left_since()["processes"] >= 4:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert before.left_since() == {"processes": 0, "mounts": 0, "directories": 0}
    assert list(read_records(out)) == []  # nothing half-done was stored


# -- the command line ---------------------------------------------------------------------


def swerve(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "swerve.cli.main", *args], capture_output=True, text=True, **kw
    )


def env_file(base: Path, path: Path, n: int) -> Path:
    with open(path, "w") as f:
        for i in range(n):
            f.write(
                json.dumps({"id": f"t{i}", "path": str(base), "verify": VERIFY, "prompt": "greet"}) + "\n"
            )
    return path


def test_gym_run_stats_export_from_the_command_line(envs: Path, outside_tmp: Path):
    tasks = env_file(envs, outside_tmp / "envs.jsonl", 3)
    model = script(outside_tmp / "s.json", solving_turns())
    out = outside_tmp / "run"
    done = swerve(
        "gym", "run", "--tasks", str(tasks), "--model", model, "--samples", "2", "--out", str(out), "--json"
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["done"] == 6 and summary["infra_errors"] == 0 and summary["mean_reward"] == 1.0
    again = swerve(
        "gym", "run", "--tasks", str(tasks), "--model", model, "--samples", "2", "--out", str(out), "--json"
    )
    assert json.loads(again.stdout.strip().splitlines()[-1])["skipped"] == 6
    other = swerve(
        "gym", "run", "--tasks", str(tasks), "--model", "replay:demo", "--samples", "2", "--out", str(out)
    )
    assert other.returncode == 2 and "model" in other.stderr
    stats = swerve("gym", "stats", str(out), "--json")
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["episodes"]["stored"] == 6
    exported = swerve("gym", "export", str(out), "-o", str(outside_tmp / "e.parquet"))
    assert exported.returncode == 0, exported.stderr
    import pyarrow.parquet as pq

    assert pq.read_table(outside_tmp / "e.parquet").num_rows == 6


def test_gym_run_without_a_model_or_tasks_says_why(outside_tmp: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_", "SWERVE_"))}
    env["HOME"] = str(outside_tmp)
    done = swerve(
        "gym", "run", "--tasks", "builtin", "--out", str(outside_tmp / "r"), env=env, cwd=outside_tmp
    )
    assert done.returncode == 2 and "model" in done.stderr.lower()
    done = swerve(
        "gym", "run", "--tasks", str(outside_tmp / "nope.jsonl"), "--model", "replay:demo", "--out", "x"
    )
    assert done.returncode == 2 and "nope.jsonl" in done.stderr


def test_sigterm_stops_the_run_and_a_rerun_finishes_it(envs: Path, outside_tmp: Path):
    tasks = env_file(envs, outside_tmp / "envs.jsonl", 4)
    marker = "sleep 2.4217"
    slow = script(outside_tmp / "slow.json", solving_turns(f"{marker}; sh greet.sh > out.txt"))
    out = outside_tmp / "run"
    argv = [sys.executable, "-m", "swerve.cli.main", "gym", "run", "--tasks", str(tasks), "--model", slow]
    proc = subprocess.Popen(
        [*argv, "--out", str(out), "--concurrency", "2"], stderr=subprocess.PIPE, text=True
    )
    for _ in range(600):  # until the sandboxes run the sleeps
        time.sleep(0.05)
        if host_processes_with(marker):
            break
    assert host_processes_with(marker), "the episodes never started"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "stopped" in err
    assert host_processes_with(marker) == []
    done = swerve("gym", "run", "--tasks", str(tasks), "--model", slow, "--out", str(out), "--json")
    assert done.returncode == 0, done.stderr
    keys = [r["episode"]["key"] for r in read_records(out)]
    assert sorted(keys) == [f"t{i}#0" for i in range(4)]


def test_gym_bench_prints_one_json_line(outside_tmp: Path):
    done = swerve("gym", "bench", "--envs", "40", "--steps", "3", "--json", "--work-dir", str(outside_tmp))
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(done.stdout.strip().splitlines()[-1])
    assert data["envs"] == 40 and data["failures"] == 0 and data["leftovers"] == 0
    assert data["rewarded"] == 40 and data["wall_s"] > 0 and data["peak_rss_mb"] > 0


async def test_the_running_count_is_what_is_in_flight_when_they_start(envs: Path, outside_tmp: Path):
    source = source_of(envs, 3)
    agent = AgentConfig(model=script(outside_tmp / "s.json", solving_turns()))
    runner = EpisodeRunner(source, agent, run_id="t")
    seen: list[int] = []
    pool: Pool | None = None

    def on_event(kind, episode, record) -> None:
        if kind == "started" and pool is not None:
            seen.append(pool.progress.running)

    pool = Pool(LocalExecutor(runner, PoolLimits(envs=2)), None, on_event=on_event)
    await pool.run(plan_episodes(source.task_ids(), 1))
    assert seen[:2] == [2, 2]  # a display woken by either start sees both in flight

"""Fault injection: a 1,000-episode run while sandbox processes are killed with SIGKILL at random.

Every episode must end exactly once, with a reward or a recorded infrastructure error, and
nothing may be left behind. (Killing a pool worker is in test_ray.py, where workers are processes.)
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
from pathlib import Path

import pytest

from swerve.gym.episode import AgentConfig, EpisodeRunner, PoolLimits
from swerve.gym.leftovers import Footprint
from swerve.gym.pool import LocalExecutor, Pool, plan_episodes
from swerve.gym.sources import DirectoryEntry, DirectorySource
from swerve.gym.store import RunStore, read_records
from swerve.sandbox.proctree import find_tree

pytestmark = pytest.mark.usefixtures("namespaces_available")

EPISODES = 1000
TURNS = [
    {"text": "", "tool_calls": [{"name": "read_file", "arguments": {"file_path": "greet.sh"}}]},
    {
        "text": "",
        "tool_calls": [{"name": "run_shell_command", "arguments": {"command": "sh greet.sh > out.txt"}}],
    },
    {"text": "Done."},
]


async def test_a_thousand_episodes_under_random_kills(outside_tmp: Path):
    base = outside_tmp / "start"
    base.mkdir()
    (base / "greet.sh").write_text("echo hello\n")
    script = outside_tmp / "s.json"
    script.write_text(json.dumps({"turns": TURNS}))
    source = DirectorySource(
        {f"t{i}": DirectoryEntry(str(base), "grep -q hello out.txt", "greet") for i in range(EPISODES // 2)}
    )
    agent = AgentConfig(model=f"replay:{script}")
    episodes = plan_episodes(source.task_ids(), samples=2)
    out = outside_tmp / "run"
    store = RunStore.open(out, {"source": source.describe(), "agent": agent.describe(), "samples": 2})
    before = Footprint.take()
    pool = Pool(LocalExecutor(EpisodeRunner(source, agent), PoolLimits(envs=32)), store, infra_retries=2)
    run = asyncio.ensure_future(pool.run(episodes))
    rng = random.Random(7)
    killed = 0
    while not run.done():
        await asyncio.sleep(0.02)
        victims = sorted(find_tree(os.getpid()) - before.processes)
        if victims:
            try:
                os.kill(rng.choice(victims), signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
    progress = await run
    store.close()
    records = list(read_records(out))
    keys = [r["episode"]["key"] for r in records]
    assert len(keys) == len(set(keys)) == EPISODES, "an episode was lost or stored twice"
    assert sorted(keys) == sorted(e.key for e in episodes)
    for record in records:
        assert (record["reward"] is None) != (record["infra_error"] is None), record["episode"]
    assert killed > 50, f"only {killed} kills: the run ended too fast to test anything"
    assert progress.done == EPISODES and not progress.store_errors
    await asyncio.sleep(0.5)
    assert before.left_since() == {"processes": 0, "mounts": 0, "directories": 0}
    print(
        f"{killed} kills: {progress.rewarded} rewarded (mean {progress.mean_reward:.3f}), "
        f"{progress.infra_errors} infra errors, {progress.retries} retries"
    )

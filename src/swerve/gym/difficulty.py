"""How hard tasks are: the configured agent's solve rate over K attempts, run through the farm.

``solve_rates`` runs K episodes per task of a dataset in the farm's pool (a run folder that resumes
like any ``swerve gym run``) and gives, per task, the share of episodes whose reward is 1.
``swerve tasks generate --solve-rate K`` stores it with each task and ``--keep-solve-rate LO..HI``
keeps the tasks inside the range.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any


def parse_range(text: str) -> tuple[float, float]:
    """``"0.1..0.9"`` as (0.1, 0.9); ValueError with the expected form otherwise."""
    lo, sep, hi = text.partition("..")
    try:
        low, high = float(lo), float(hi)
    except ValueError:
        raise ValueError(f"--keep-solve-rate wants LOW..HIGH like 0.1..0.9, got {text!r}") from None
    if not sep or not 0.0 <= low <= high <= 1.0:
        raise ValueError(f"--keep-solve-rate wants 0 <= LOW <= HIGH <= 1, got {text!r}")
    return low, high


def read_rates(run_dir: Path) -> dict[str, float]:
    """Per instance, the share of its finished episodes (infra errors left out) that were solved."""
    solved: dict[str, list[float]] = defaultdict(list)
    path = run_dir / "episodes.jsonl"
    if not path.is_file():
        return {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("infra_error") or record.get("reward") is None:
            continue
        solved[record["instance_id"]].append(1.0 if float(record["reward"]) >= 1.0 else 0.0)
    return {iid: sum(v) / len(v) for iid, v in solved.items() if v}


async def solve_rates(
    dataset: Path, agent: Any, samples: int, run_dir: Path, *, concurrency: int = 1
) -> dict[str, float]:
    """Run ``samples`` episodes of each task in ``dataset`` with ``agent``; solve rate per task."""
    from swerve.gym.episode import EpisodeRunner, PoolLimits
    from swerve.gym.pool import LocalExecutor, Pool, plan_episodes
    from swerve.gym.sources import load_source
    from swerve.gym.store import RunStore

    source = load_source(str(dataset), repos=[], cache=None, log_root=str(run_dir / "logs"))
    episodes = plan_episodes(source.task_ids(), samples)
    run_id = run_dir.resolve().name
    config = {"source": source.describe(), "agent": agent.describe(), "samples": samples, "run_id": run_id}
    store = RunStore.open(run_dir, config, planned_keys=[e.key for e in episodes])
    try:
        executor = LocalExecutor(EpisodeRunner(source, agent, run_id=run_id), PoolLimits(envs=concurrency))
        await Pool(executor, store, infra_retries=1).run(episodes)
    finally:
        store.close()
    return read_rates(run_dir)

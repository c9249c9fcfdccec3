"""Group-relative advantages over samples that share a ``group_id`` (the K samples of one task):
GRPO (reward minus the group mean, over the group std), Dr.GRPO (minus the mean only) and RLOO
(minus the mean of the others). Dynamic sampling leaves out groups whose rewards are all equal,
which carry no signal. Rows of one episode (forks, per-turn rows) count once in their group."""

from __future__ import annotations

import math
from collections import defaultdict

from swerve.rl.samples import Built, Sample, SampleError

ESTIMATORS = ("grpo", "dr_grpo", "rloo")
EPS = 1e-6


def episode_advantages(rewards: list[float], estimator: str) -> list[float]:
    """The advantage of each of one group's episode rewards."""
    n = len(rewards)
    mean = sum(rewards) / n
    if estimator == "dr_grpo":
        return [r - mean for r in rewards]
    if estimator == "grpo":
        std = math.sqrt(sum((r - mean) ** 2 for r in rewards) / (n - 1)) if n > 1 else 0.0
        return [(r - mean) / (std + EPS) for r in rewards]
    if estimator == "rloo":
        if n < 2:
            return [0.0] * n
        total = sum(rewards)
        return [r - (total - r) / (n - 1) for r in rewards]
    raise SampleError(f"advantage estimator must be one of {', '.join(ESTIMATORS)}, not {estimator!r}")


def assign_advantages(built: Built, estimator: str = "grpo", *, dynamic_sampling: bool = False) -> Built:
    """Set every sample's advantage in place; with ``dynamic_sampling``, drop no-signal groups."""
    if estimator not in ESTIMATORS:
        raise SampleError(f"advantage estimator must be one of {', '.join(ESTIMATORS)}, not {estimator!r}")
    episodes: dict[str, dict[str, list[Sample]]] = defaultdict(dict)
    for sample in built.samples:
        key = str(sample.metadata.get("key") or sample.metadata.get("trajectory_id"))
        episodes[sample.group_id].setdefault(key, []).append(sample)
    kept: list[Sample] = []
    for group in episodes.values():
        rows = list(group.values())
        rewards = [r[0].reward for r in rows]
        if dynamic_sampling and max(rewards) == min(rewards):
            built.dropped_groups += 1
            continue
        for advantage, samples in zip(episode_advantages(rewards, estimator), rows, strict=True):
            for sample in samples:
                sample.advantage = advantage
                sample.metadata["group_size"] = len(rows)
    for sample in built.samples:
        if dynamic_sampling and "group_size" not in sample.metadata:
            continue
        kept.append(sample)
    built.samples = kept
    return built

"""Episodes for a trainer's batch: the samples of each task run through the farm's episode runner
(sandboxes, the agent, verification), with token capture on, returned as one sample per episode.

A trainer asks for exactly K completions per prompt, so every episode gives one row: the last row
of its prefix merge (a fork keeps the later context, as SkyRL's ``is_last_step`` does). An
episode that ended on an infrastructure error after its retries is returned with ``infra_error``
set and its loss mask all zero: it holds a place in the batch and teaches nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from typing import Any

from swerve.config import AgentConfig
from swerve.gym.base import Episode
from swerve.gym.episode import EpisodeRunner, PoolLimits
from swerve.gym.pool import LocalExecutor
from swerve.rl.samples import Sample, build_samples


@dataclass
class Rollout:
    """One episode as a trainer row."""

    task_id: str
    sample: int
    prompt_ids: list[int]
    response_ids: list[int]
    response_mask: list[int]
    logprobs: list[float]
    reward: float | None  # None: an infrastructure error
    truncated: bool
    record: dict[str, Any]


class Rollouts:
    """Runs batches of episodes of one task source with one agent (token capture forced on)."""

    def __init__(
        self,
        source: Any,
        agent: AgentConfig,
        limits: PoolLimits | None = None,
        *,
        eos_id: int = 0,
        truncation: str = "mask",
    ) -> None:
        self.runner = EpisodeRunner(source, dataclasses.replace(agent, capture_tokens=True), run_id="rl")
        self.limits = limits or PoolLimits(envs=8, model_calls=8)
        self.eos_id = eos_id  # the one id an episode without tokens is given (masked)
        self.truncation = truncation  # episodes cut by a limit: see samples.build_samples
        self.step = 0

    async def run(self, task_ids: list[str]) -> list[Rollout]:
        """One episode per entry, in order; repeated entries of a task are its group's samples."""
        self.step += 1
        executor = LocalExecutor(self.runner, self.limits)
        await executor.start()
        try:
            episodes = [
                Episode(t, self.step * 100000 + i, group_id=f"{t}@{self.step}")
                for i, t in enumerate(task_ids)
            ]
            records = await asyncio.gather(*(self._one(executor, e) for e in episodes))
        finally:
            await executor.close()
        return [self._row(r) for r in records]

    async def _one(self, executor: LocalExecutor, episode: Episode) -> dict[str, Any]:
        record = await executor.run(episode)
        for attempt in range(2, self.limits.infra_retries + 2):
            if not record.get("infra_error"):
                break
            record = await executor.run(dataclasses.replace(episode, attempt=attempt))
        return record

    def _row(self, record: dict[str, Any]) -> Rollout:
        episode = record.get("episode") or {}
        built = build_samples([record], truncation=self.truncation)
        last: Sample | None = built.samples[-1] if built.samples else None
        if last is None:  # an infrastructure error, or an episode without ids: a place, no loss
            return Rollout(
                str(episode.get("task_id")),
                int(episode.get("sample") or 0),
                [self.eos_id],
                [self.eos_id],
                [0],
                [0.0],
                None,
                False,
                record,
            )
        return Rollout(
            str(episode.get("task_id")),
            int(episode.get("sample") or 0),
            last.prompt_ids,
            last.response_ids,
            last.response_mask,
            last.rollout_logprobs,
            last.reward,
            last.truncated,
            record,
        )

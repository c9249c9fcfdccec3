"""TRL: a GRPOTrainer ``rollout_func`` that runs swerve episodes.

    from swerve.rl.trl_rollout import swerve_rollout_func, swerve_reward
    trainer = GRPOTrainer(model=..., reward_funcs=[swerve_reward], train_dataset=tasks,
                          args=GRPOConfig(num_generations=8, ...),
                          rollout_func=swerve_rollout_func(source, agent))

Each dataset row's ``prompt`` is a task id of ``source``. TRL's sampler repeats every prompt
``num_generations`` times in a row; each prompt handed over becomes one episode, run in a sandbox
through the farm against the agent's model server (token capture on), and comes back as ``prompt_ids``, ``completion_ids`` (every turn after
the prompt, tool output included), ``logprobs`` (0.0 on tool output) and ``env_mask`` (1 on the
tokens the model sampled). ``swerve_reward`` reads the verified reward; an infrastructure error is
``None``, which TRL leaves out of the group's statistics.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from swerve.config import AgentConfig
from swerve.gym.episode import PoolLimits
from swerve.rl.rollouts import Rollouts


def swerve_rollout_func(
    source: Any, agent: AgentConfig, limits: PoolLimits | None = None, *, truncation: str = "mask"
) -> Callable[[list[Any], Any], dict[str, Any]]:
    """A ``rollout_func`` over ``source``'s tasks run by ``agent``; ``truncation`` says what
    becomes of episodes cut by a limit (``mask``, ``penalise`` or ``keep``, as in the export)."""
    rollouts: Rollouts | None = None

    def rollout_func(prompts: list[Any], trainer: Any) -> dict[str, Any]:
        nonlocal rollouts
        if rollouts is None:
            eos = getattr(trainer.processing_class, "eos_token_id", None) or 0
            rollouts = Rollouts(source, agent, limits, eos_id=int(eos), truncation=truncation)
        rows = asyncio.run(rollouts.run([task_id(p) for p in prompts]))
        return {
            "prompt_ids": [r.prompt_ids for r in rows],
            "completion_ids": [r.response_ids for r in rows],
            "logprobs": [r.logprobs for r in rows],
            "env_mask": [r.response_mask for r in rows],
            "swerve_reward": [r.reward for r in rows],
            "swerve_truncated": [r.truncated for r in rows],
            "swerve_task": [r.task_id for r in rows],
        }

    return rollout_func


def task_id(prompt: Any) -> str:
    """The task id a dataset row's prompt names: the text itself, or a chat's last user message."""
    if isinstance(prompt, list) and prompt and isinstance(prompt[-1], dict):
        return str(prompt[-1].get("content", "")).strip()
    return str(prompt).strip()


def swerve_reward(
    prompts: list[Any], completions: list[Any], swerve_reward: list[float | None], **_: Any
) -> list[float | None]:
    """The reward function: the episodes' verified rewards (None for an infrastructure error)."""
    return list(swerve_reward)

"""One episode: environment, model and agent put together, run, verified and recorded.

The agent is the terminal agent's own core (``swerve.agent.Agent``), headless, with every tool
allowed inside the sandbox. ``EpisodeRunner`` is plain data (it pickles, so Ray workers can hold
one); the gates that bound concurrency are made in the process that runs the episodes.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from swerve.agent.events import Finished
from swerve.agent.loop import Agent
from swerve.agent.permissions import Permission
from swerve.agent.prompts import system_prompt
from swerve.agent.trajectory import EpisodeInfo, TrajectoryRecord, utc_now
from swerve.config import AgentConfig
from swerve.errors import InfraError, SandboxError
from swerve.gym.base import Episode, Verification
from swerve.models.base import Message, Model, ModelTurn, Sampling, TextCallback, ToolSpec, Usage
from swerve.sandbox.cancel import to_the_end
from swerve.secrets import secret_values


@dataclass
class PoolLimits:
    """How much runs at once, in one process (a Ray worker has its own)."""

    envs: int = 256  # live environments
    model_calls: int = 64  # concurrent model requests (the model server is usually the bottleneck)
    execs: int = 0  # concurrent command executions; 0: twice the cores
    verifies: int = 0  # concurrent verifications; 0: the cores
    deadline_s: float = 3600.0  # per episode, for everything; past it the episode is an infra error
    infra_retries: int = 2  # attempts after the first for an infrastructure failure

    def resolved(self) -> PoolLimits:
        cores = os.cpu_count() or 1
        return PoolLimits(
            envs=max(1, self.envs),
            model_calls=max(1, self.model_calls),
            execs=self.execs if self.execs > 0 else 2 * cores,
            verifies=self.verifies if self.verifies > 0 else cores,
            deadline_s=self.deadline_s,
            infra_retries=max(0, self.infra_retries),
        )


class Gates:
    """The semaphores of one process: live environments, model calls, executions, verifications."""

    def __init__(self, limits: PoolLimits) -> None:
        limits = limits.resolved()
        self.limits = limits
        self.envs = asyncio.Semaphore(limits.envs)
        self.model = asyncio.Semaphore(limits.model_calls)
        self.execs = asyncio.Semaphore(limits.execs)
        self.verifies = asyncio.Semaphore(limits.verifies)


class GatedModel:
    """A model whose requests wait for the model gate."""

    def __init__(self, inner: Model, gate: asyncio.Semaphore) -> None:
        self.inner = inner
        self.gate = gate
        self.name = inner.name
        self.context_window = inner.context_window
        self.sampling = getattr(inner, "sampling", None)

    async def complete(
        self,
        messages: list[Message],
        tools: list[ToolSpec],
        *,
        sampling: Sampling | None = None,
        on_text: TextCallback | None = None,
    ) -> ModelTurn:
        async with self.gate:
            return await self.inner.complete(messages, tools, sampling=sampling, on_text=on_text)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class EpisodeRunner:
    """Runs episodes of ``source``'s tasks with the agent of ``agent``; returns trajectory records."""

    source: Any  # swerve.gym.sources.EnvSource
    agent: AgentConfig
    run_id: str = "run"
    worker: str = "local"
    model_factory: Callable[[], Model] | None = None  # instead of agent.build_model() (a trainer's engine)

    def affinity(self, task_id: str) -> str:
        return self.source.affinity(task_id)

    async def run(self, episode: Episode, gates: Gates) -> dict[str, Any]:
        """One episode from reset to record; never raises except on cancellation."""
        async with gates.envs:
            return await self._run(episode, gates)

    async def _run(self, episode: Episode, gates: Gates) -> dict[str, Any]:
        started_at, t0 = utc_now(), time.monotonic()
        timing: dict[str, float] = {}
        agent: Agent | None = None
        model: Model | None = None
        env = None
        finished = None
        verdict: Verification | None = None
        infra: str | None = None
        patch = ""
        prompt = ""
        try:
            async with asyncio.timeout(gates.limits.deadline_s):
                env = self.source.make(episode.task_id, exec_gate=gates.execs, sample=episode.sample)
                prompt = await env.reset()
                timing["reset_s"] = time.monotonic() - t0
                built = self.model_factory() if self.model_factory else self.agent.build_model()
                model = GatedModel(built, gates.model)
                agent = self.agent.build_agent(
                    model,
                    env.tools,
                    env.context,
                    permission=Permission("yolo"),
                    system=system_prompt(env.workspace.root),
                )
                finished = await agent.run(prompt)
                if finished.exit_reason == "model_error":
                    raise InfraError(f"the model failed: {finished.error}")
                if not await env.healthy():
                    raise InfraError("the environment stopped working during the episode")
                t1 = time.monotonic()
                async with gates.verifies:
                    verdict = await env.verify()
                timing["verify_s"] = time.monotonic() - t1
                patch = getattr(env, "patch", "") or ""
        except TimeoutError:
            infra = f"the episode ran past its deadline of {gates.limits.deadline_s:g} s"
        except InfraError as exc:
            infra = str(exc) or type(exc).__name__
        except (SandboxError, OSError) as exc:
            infra = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # a fault of the machinery, not of the agent: kept, never a reward
            infra = f"internal error: {type(exc).__name__}: {exc}"
        finally:
            await _close_quietly(env, model)
        timing["episode_s"] = time.monotonic() - t0
        return self._record(
            episode, prompt, agent, model, finished, verdict, infra, patch, timing, started_at
        )

    def _record(
        self,
        episode: Episode,
        prompt: str,
        agent: Agent | None,
        model: Model | None,
        finished: Finished | None,
        verdict: Verification | None,
        infra: str | None,
        patch: str,
        timing: dict[str, float],
        started_at: str,
    ) -> dict[str, Any]:
        if finished is None:
            finished = Finished(
                exit_reason="error",
                result="",
                num_turns=0,
                usage=Usage(),
                duration_s=0.0,
                model_s=0.0,
                env_s=0.0,
                error=infra,
            )
        sampling = getattr(model, "sampling", None) if model is not None else None
        return TrajectoryRecord(
            task=prompt,
            model=self.agent.model,
            sampling=sampling if isinstance(sampling, Sampling) else None,
            messages=agent.messages if agent is not None else [],
            turns=agent.turns if agent is not None else [],
            finished=finished,
            started_at=started_at,
            ended_at=utc_now(),
            patch=patch,
            instance_id=episode.task_id,
            tools=[s.name for s in agent.tools.specs()] if agent is not None else [],
            verdict=verdict.to_json() if verdict is not None and infra is None else None,
            infra_error=infra,
            reward=None if infra is not None else (verdict.reward if verdict else 0.0),
            episode=EpisodeInfo(
                episode.key,
                episode.task_id,
                episode.sample,
                episode.group_id,
                episode.attempt,
                run_id=self.run_id,
                worker=self.worker,
            ),
            timing=timing,
        ).to_json(secret_values([self.agent.api_key]))


async def _close_quietly(env: Any, model: Model | None) -> None:
    """Close what was opened, even while the episode is being cancelled."""
    closers = []
    if env is not None:
        closers.append(env.close())
    if model is not None:
        closers.append(model.aclose())
    if not closers:
        return
    await to_the_end(asyncio.gather(*closers, return_exceptions=True))

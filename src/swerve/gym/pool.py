"""The pool: one asyncio scheduler that runs many episodes and stores every one exactly once.

The pool keeps at most ``executor.capacity`` episodes in flight (backpressure: the queue is not
drained faster than environments free up); the executor bounds live environments, model calls,
command executions and verifications. An infrastructure failure is retried up to
``infra_retries`` times, then stored as such; an agent's failure is stored at once, never retried.
An episode whose worker died goes back in the queue. Cancelling ``run`` (Ctrl-C, SIGTERM) cancels
every episode in flight; each closes its environment before the cancellation finishes. Finished
episodes of an earlier run in the same store are skipped.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from swerve.gym.base import Episode, Executor, WorkerLost
from swerve.gym.episode import EpisodeRunner, Gates, PoolLimits

MAX_REQUEUES = 3  # a task that kills its worker this many times is recorded as an infra error

PoolEventKind = Literal["started", "finished", "retry", "requeued"]
PoolEvent = Callable[[PoolEventKind, Episode, dict[str, Any] | None], None]


def plan_episodes(task_ids: Iterable[str], samples: int = 1) -> list[Episode]:
    """``samples`` episodes per task; the samples of a task form one group (for GRPO)."""
    return [Episode(task_id, sample, group_id=task_id) for task_id in task_ids for sample in range(samples)]


class LocalExecutor:
    """Runs episodes in this process, bounded by one set of gates."""

    def __init__(self, runner: EpisodeRunner, limits: PoolLimits | None = None) -> None:
        self.runner = runner
        self.limits = (limits or PoolLimits()).resolved()
        self.capacity = self.limits.envs
        self.gates: Gates | None = None

    async def start(self) -> None:
        from swerve.sandbox.ns.state import sweep

        await asyncio.to_thread(sweep)  # what a killed earlier run left behind
        self.gates = Gates(self.limits)

    async def run(self, episode: Episode) -> dict[str, Any]:
        if self.gates is None:
            raise RuntimeError("the executor is not started")
        return await self.runner.run(episode, self.gates)

    async def close(self) -> None:
        return None


@dataclass
class Progress:
    """What the pool has done so far (for the live display and the summary)."""

    planned: int = 0
    skipped: int = 0  # finished in an earlier run of the same store
    done: int = 0
    running: int = 0
    infra_errors: int = 0
    retries: int = 0
    requeued: int = 0
    reward_sum: float = 0.0
    model_s: float = 0.0
    env_s: float = 0.0
    started: float = field(default_factory=time.monotonic)
    exit_reasons: dict[str, int] = field(default_factory=dict)
    store_errors: list[str] = field(default_factory=list)

    @property
    def rewarded(self) -> int:
        return self.done - self.infra_errors

    @property
    def mean_reward(self) -> float | None:
        return self.reward_sum / self.rewarded if self.rewarded else None

    @property
    def per_minute(self) -> float:
        elapsed = time.monotonic() - self.started
        return 60.0 * self.done / elapsed if elapsed > 0 else 0.0

    def add(self, record: dict[str, Any]) -> None:
        self.done += 1
        if record.get("infra_error"):
            self.infra_errors += 1
        else:
            self.reward_sum += float(record.get("reward") or 0.0)
        timing = record.get("timing") or {}
        self.model_s += float(timing.get("model_s") or 0.0)
        self.env_s += float(timing.get("env_s") or 0.0)
        reason = "infra_error" if record.get("infra_error") else str(record.get("exit_reason"))
        self.exit_reasons[reason] = self.exit_reasons.get(reason, 0) + 1

    def to_json(self) -> dict[str, Any]:
        return {
            "planned": self.planned,
            "skipped": self.skipped,
            "done": self.done,
            "infra_errors": self.infra_errors,
            "retries": self.retries,
            "requeued": self.requeued,
            "mean_reward": self.mean_reward,
            "model_s": round(self.model_s, 3),
            "env_s": round(self.env_s, 3),
            "wall_s": round(time.monotonic() - self.started, 3),
            "exit_reasons": dict(self.exit_reasons),
            "store_errors": self.store_errors[:10],
        }


class Pool:
    """Runs episodes on an executor and appends their records to ``store`` (a RunStore, or None)."""

    def __init__(
        self,
        executor: Executor,
        store: Any = None,
        *,
        infra_retries: int = 2,
        on_event: PoolEvent | None = None,
    ) -> None:
        self.executor = executor
        self.store = store
        self.infra_retries = max(0, infra_retries)
        self.on_event = on_event or (lambda kind, episode, record: None)
        self.progress = Progress()
        self.records: list[dict[str, Any]] = []  # kept only without a store

    async def run(self, episodes: Iterable[Episode]) -> Progress:
        """Run every episode not already in the store; returns the progress at the end."""
        episodes = list(episodes)
        finished = self.store.finished_keys() if self.store is not None else set()
        queue = deque(e for e in episodes if e.key not in finished)
        self.progress = progress = Progress(planned=len(episodes), skipped=len(episodes) - len(queue))
        results: asyncio.Queue[tuple[Episode, dict[str, Any] | None]] = asyncio.Queue()
        in_flight: set[asyncio.Task[None]] = set()
        history: dict[str, list[str]] = {}
        requeues: dict[str, int] = {}
        stored: set[str] = set(finished)

        async def one(episode: Episode) -> None:
            try:
                record = await self.executor.run(episode)
            except WorkerLost:
                record = None
            except Exception as exc:  # a fault of the machinery: recorded, never a hang or a loss
                record = _infra_record(episode, f"internal error: {type(exc).__name__}: {exc}")
            results.put_nowait((episode, record))

        await self.executor.start()
        try:
            outstanding = 0  # started and not yet taken from ``results``
            while queue or outstanding:
                started = []
                while queue and outstanding < max(1, self.executor.capacity):
                    episode = queue.popleft()
                    task = asyncio.create_task(one(episode))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                    outstanding += 1
                    started.append(episode)
                progress.running = outstanding  # before the events, so a display sees all in flight
                for episode in started:
                    self.on_event("started", episode, None)
                episode, record = await results.get()
                outstanding -= 1
                if record is None:
                    requeues[episode.key] = requeues.get(episode.key, 0) + 1
                    progress.requeued += 1
                    if requeues[episode.key] <= MAX_REQUEUES:
                        queue.append(episode)
                        self.on_event("requeued", episode, None)
                        continue
                    record = _infra_record(
                        episode, f"the worker running this episode died {requeues[episode.key]} times"
                    )
                if record.get("infra_error") and episode.attempt <= self.infra_retries:
                    history.setdefault(episode.key, []).append(str(record["infra_error"]))
                    progress.retries += 1
                    queue.append(replace(episode, attempt=episode.attempt + 1))
                    self.on_event("retry", episode, record)
                    continue
                if episode.key in stored:  # a duplicate can only come from a bug: never store it twice
                    continue
                record.setdefault("episode", {})["infra_retries"] = history.pop(episode.key, [])
                stored.add(episode.key)
                await self._store(record)
                progress.add(record)
                progress.running = outstanding
                self.on_event("finished", episode, record)
        finally:
            for task in list(in_flight):
                task.cancel()
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
            await self.executor.close()
            progress.running = 0
        return progress

    async def _store(self, record: dict[str, Any]) -> None:
        if self.store is None:
            self.records.append(record)
            return
        from swerve.errors import StoreError

        try:
            await self.store.append_async(record)
        except StoreError as exc:  # a record the store refuses: say so, keep the run going
            self.progress.store_errors.append(str(exc))


def _infra_record(episode: Episode, cause: str) -> dict[str, Any]:
    """The record of an episode that produced none itself (its workers kept dying, say)."""
    from swerve.agent.trajectory import EpisodeInfo, TrajectoryRecord

    info = EpisodeInfo(episode.key, episode.task_id, episode.sample, episode.group_id, episode.attempt)
    return TrajectoryRecord.infra(info, cause).to_json()

"""The trajectory record: one plain JSON object per episode, for training, evaluation and replay.

``TrajectoryRecord`` is its typed form; ``to_json`` gives the stored shape (schema
``swerve.trajectory/1``), with secrets masked. Model-caused endings (limits, loops) are in
``exit_reason``; a failure of the machinery around the agent goes in ``infra_error`` and is never
a reward of 0 (``reward`` is then None).
"""

from __future__ import annotations

import datetime
import platform
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from swerve import __version__
from swerve.agent.events import ExitReason, Finished
from swerve.agent.loop import TurnStats
from swerve.agent.requests import encode
from swerve.models.base import Message, Sampling, Usage
from swerve.secrets import redact_obj

SCHEMA = "swerve.trajectory/1"


def utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")


@dataclass
class EpisodeInfo:
    """Where a farm episode belongs: its task, its sample in the task's group, its attempt."""

    key: str
    task_id: str
    sample: int
    group_id: str
    attempt: int
    run_id: str | None = None
    worker: str | None = None
    infra_retries: list[str] = field(default_factory=list)


@dataclass
class TrajectoryRecord:
    """One episode: what was asked, every message, per-turn timings and usage, the patch, the
    verdict and how it ended."""

    task: str
    model: str
    sampling: Sampling | None
    messages: list[Message]
    turns: list[TurnStats]
    finished: Finished
    started_at: str
    ended_at: str
    patch: str = ""
    session_id: str | None = None
    instance_id: str | None = None
    tools: list[str] = field(default_factory=list)
    verdict: dict[str, Any] | None = None
    infra_error: str | None = None
    reward: float | None = None
    episode: EpisodeInfo | None = None
    timing: dict[str, float] = field(default_factory=dict)  # beyond the agent's own: reset_s, verify_s...
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @classmethod
    def infra(cls, episode: EpisodeInfo, cause: str) -> TrajectoryRecord:
        """The record of an episode that produced none itself (its workers kept dying, say)."""
        now = utc_now()
        finished = Finished("error", "", 0, Usage(), 0.0, 0.0, 0.0, error=cause)
        return cls(
            task="",
            model="",
            sampling=None,
            messages=[],
            turns=[],
            finished=finished,
            started_at=now,
            ended_at=now,
            instance_id=episode.task_id,
            infra_error=cause,
            episode=episode,
        )

    def to_json(self, secrets: list[str] | None = None) -> dict[str, Any]:
        f = self.finished
        requests = encode([t.request for t in self.turns])
        record: dict[str, Any] = {
            "schema": SCHEMA,
            "id": self.id,
            "session_id": self.session_id,
            "instance_id": self.instance_id,
            "task": self.task,
            "model": {"name": self.model, "sampling": asdict(self.sampling) if self.sampling else None},
            "tools": self.tools,
            "messages": self.messages,
            "turns": [
                {
                    "turn": t.turn,
                    "model_s": round(t.model_s, 4),
                    "env_s": round(t.env_s, 4),
                    "usage": t.usage.dict(),
                    "finish_reason": t.finish_reason,
                    "raw": t.raw_text,
                    "request": request,
                    **({"tokens": t.tokens.to_json()} if t.tokens is not None else {}),
                    **({"repairs": t.repairs} if t.repairs else {}),
                }
                for t, request in zip(self.turns, requests, strict=True)
            ],
            "usage": f.usage.dict(),
            "timing": {
                "duration_s": round(f.duration_s, 4),
                "model_s": round(f.model_s, 4),
                "env_s": round(f.env_s, 4),
                **{k: round(v, 4) for k, v in self.timing.items()},
            },
            "num_turns": f.num_turns,
            "patch": self.patch,
            "verdict": self.verdict,
            "exit_reason": self.exit_reason,
            "error": f.error,
            "infra_error": self.infra_error,
            "result": f.result,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "versions": {"swerve": __version__, "python": platform.python_version()},
        }
        if self.episode is not None:
            record["reward"] = self.reward
            record["episode"] = asdict(self.episode)
        return redact_obj(record, secrets or [])

    @property
    def exit_reason(self) -> ExitReason:
        return self.finished.exit_reason

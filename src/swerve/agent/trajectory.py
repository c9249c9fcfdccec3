"""The trajectory record: one plain JSON object per episode, for training, evaluation and replay."""

from __future__ import annotations

import datetime
import platform
import uuid
from dataclasses import asdict
from typing import Any

from swerve import __version__
from swerve.agent.events import Finished
from swerve.agent.loop import TurnStats
from swerve.models.base import Message, Sampling
from swerve.secrets import redact_obj

SCHEMA = "swerve.trajectory/1"


def utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")


def trajectory_record(
    *,
    task: str,
    model: str,
    sampling: Sampling | None,
    messages: list[Message],
    turns: list[TurnStats],
    finished: Finished,
    started_at: str,
    ended_at: str,
    patch: str = "",
    session_id: str | None = None,
    instance_id: str | None = None,
    tools: list[str] | None = None,
    verdict: dict[str, Any] | None = None,
    infra_error: str | None = None,
    secrets: list[str] | None = None,
) -> dict[str, Any]:
    """Build the record. Model-caused endings (limits, loops) are in ``exit_reason``; a failure of the
    machinery around the agent goes in ``infra_error`` and is never a reward of 0."""
    record = {
        "schema": SCHEMA,
        "id": uuid.uuid4().hex,
        "session_id": session_id,
        "instance_id": instance_id,
        "task": task,
        "model": {"name": model, "sampling": asdict(sampling) if sampling else None},
        "tools": tools or [],
        "messages": messages,
        "turns": [
            {
                "turn": t.turn,
                "model_s": round(t.model_s, 4),
                "env_s": round(t.env_s, 4),
                "usage": t.usage.dict(),
                "finish_reason": t.finish_reason,
            }
            for t in turns
        ],
        "usage": finished.usage.dict(),
        "timing": {
            "duration_s": round(finished.duration_s, 4),
            "model_s": round(finished.model_s, 4),
            "env_s": round(finished.env_s, 4),
        },
        "num_turns": finished.num_turns,
        "patch": patch,
        "verdict": verdict,
        "exit_reason": finished.exit_reason,
        "error": finished.error,
        "infra_error": infra_error,
        "result": finished.result,
        "started_at": started_at,
        "ended_at": ended_at,
        "versions": {"swerve": __version__, "python": platform.python_version()},
    }
    return redact_obj(record, secrets or [])

"""Trajectory records (``swerve.trajectory/1`` plus the farm's keys) as report episodes.

Records from older versions or cut-off runs may lack any field, or hold a wrong type in it: what
cannot be read is left empty, never guessed and never a traceback.
"""

from __future__ import annotations

import math
import re
from typing import Any

from swerve.report.model import Detail, Episode, test_counts, test_lists

# SWE-bench's instance ids are <owner>__<name>-<number>; the built-in suite's builtin__<lib>-<hash>
_REPO_IN_ID = re.compile(r"^(?P<owner>[^_/]+)__(?P<name>.+)-[0-9A-Za-z]+$")


def repo_of(task_id: str) -> str:
    """The repository an instance id names (``django__django-1234`` -> ``django/django``), or ""."""
    m = _REPO_IN_ID.match(task_id)
    return f"{m['owner']}/{m['name']}" if m else ""


def number(value: Any) -> float | None:
    """A finite number, or None (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def count(value: Any) -> int | None:
    n = number(value)
    return int(n) if n is not None and n >= 0 else None


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _outcome(record: dict[str, Any], report: dict[str, Any]) -> str:
    if record.get("infra_error"):
        return "infra_error"
    outcome = report.get("outcome")
    if isinstance(outcome, str) and outcome:
        return outcome
    verdict = as_dict(record.get("verdict"))
    if isinstance(verdict.get("resolved"), bool):
        return "resolved" if verdict["resolved"] else "unresolved"
    reward = number(record.get("reward"))
    return "resolved" if reward is not None and reward >= 1.0 else "unresolved"


def _timings(record: dict[str, Any], report: dict[str, Any]) -> dict[str, float]:
    timing = as_dict(record.get("timing"))
    graded = as_dict(report.get("timings"))
    found = {
        "model_s": number(timing.get("model_s")),
        "env_s": number(timing.get("env_s")),
        "reset_s": number(timing.get("reset_s")),
        "verify_s": number(timing.get("verify_s")),
        "tests_s": number(graded.get("tests_s")),
        "total_s": number(timing.get("episode_s")) or number(timing.get("duration_s")),
    }
    return {k: round(v, 4) for k, v in found.items() if v is not None}


def episode_from_record(record: dict[str, Any], *, label: str = "") -> Episode:
    """The episode of one record (its detail is read separately, see ``detail_from_record``)."""
    meta = as_dict(record.get("episode"))
    task_id = text(meta.get("task_id")) or text(record.get("instance_id"))
    key = text(meta.get("key")) or task_id or "?"
    task_id = task_id or key.rpartition("#")[0] or key
    verdict = as_dict(record.get("verdict"))
    report = as_dict(verdict.get("report"))
    usage = as_dict(record.get("usage"))
    infra = record.get("infra_error")
    cause = str(infra) if infra else text(report.get("cause")) or text(record.get("error"))
    return Episode(
        key=key,
        task_id=task_id,
        sample=count(meta.get("sample")) or 0,
        group_id=text(meta.get("group_id")) or task_id,
        repo=repo_of(task_id),
        label=label or text(as_dict(record.get("model")).get("name")),
        outcome=_outcome(record, report),
        reward=None if infra else number(record.get("reward")),
        cause=cause,
        exit_reason="infra_error" if infra else text(record.get("exit_reason")) or "unknown",
        turns=count(record.get("num_turns")),
        input_tokens=count(usage.get("input_tokens")) if usage else None,
        output_tokens=count(usage.get("output_tokens")) if usage else None,
        timings=_timings(record, report),
        tests=test_counts(verdict.get("tests_status") or report.get("tests_status")),
    )


def detail_from_record(record: dict[str, Any]) -> Detail:
    """What the viewer shows of one record: conversation, final diff, verdict, tests, log tail."""
    verdict = as_dict(record.get("verdict"))
    report = as_dict(verdict.get("report"))
    messages = record.get("messages")
    summary: dict[str, Any] = {
        "outcome": _outcome(record, report),
        "reward": number(record.get("reward")),
        "resolution": text(report.get("resolution")),
        "cause": text(report.get("cause")),
        "exit_reason": text(record.get("exit_reason")),
        "test_exit_code": report.get("test_exit_code", report.get("exit_code")),
    }
    notes: list[tuple[str, str]] = []
    if record.get("infra_error"):
        notes.append(("infrastructure error", str(record["infra_error"])))
    if record.get("error") and not record.get("infra_error"):
        notes.append(("agent error", str(record["error"])))
    retries = as_dict(record.get("episode")).get("infra_retries")
    if isinstance(retries, list) and retries:
        notes.append(("earlier attempts", "\n".join(str(r) for r in retries)))
    if report.get("command"):
        notes.append(("verification command", str(report["command"])))
    if isinstance(record.get("result"), str) and record["result"]:
        notes.append(("final answer", record["result"]))
    return Detail(
        messages=[m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else [],
        patch=text(record.get("patch")),
        tests=test_lists(verdict.get("tests_status") or report.get("tests_status")),
        log_tail=text(report.get("output_tail")),
        verdict={k: v for k, v in summary.items() if v not in (None, "")},
        notes=notes,
    )

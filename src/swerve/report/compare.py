"""Two runs side by side: per task, which one did better, and the difference with its uncertainty.

A task's score in a run is its success rate over graded samples (pass@1). The difference is the
mean over the tasks both runs graded of (this run - the other), with a paired bootstrap interval
over tasks; a win is a task where this run scored higher.
"""

from __future__ import annotations

from typing import Any

from swerve.report.model import Run
from swerve.report.stats import paired_difference


def compare(run: Run, figures: dict[str, Any], other: Run, other_figures: dict[str, Any]) -> dict[str, Any]:
    """The comparison of ``run`` (this one) with ``other``, as JSON-able figures."""
    mine = {t["task"]: t for t in figures["tasks"]}
    theirs = {t["task"]: t for t in other_figures["tasks"]}
    rows = []
    pairs = []
    for task_id in sorted(set(mine) | set(theirs)):
        a, b = mine.get(task_id), theirs.get(task_id)
        score_a = a["pass@1"] if a else None
        score_b = b["pass@1"] if b else None
        delta = score_a - score_b if score_a is not None and score_b is not None else None
        if delta is not None:
            pairs.append((score_b, score_a))
        rows.append(
            {
                "task": task_id,
                "repo": (a or b or {}).get("repo", ""),
                "this": score_a,
                "other": score_b,
                "delta": delta,
                "result": _result(delta, a, b),
                "keys": a["keys"] if a else [],
            }
        )
    return {
        "other": {
            "title": other.title,
            "path": other.path,
            "run_id": other.run_id,
            "model": other.model,
            "problems": other.problems,
        },
        "this_resolved": figures["resolved"],
        "other_resolved": other_figures["resolved"],
        "this_reward": figures["reward"],
        "other_reward": other_figures["reward"],
        "difference": paired_difference(pairs),
        "only_this": sum(1 for r in rows if r["other"] is None and r["this"] is not None),
        "only_other": sum(1 for r in rows if r["this"] is None and r["other"] is not None),
        "rows": rows,
        "other_pass_at_k": other_figures["pass_at_k"],
    }


def _result(delta: float | None, a: dict[str, Any] | None, b: dict[str, Any] | None) -> str:
    if a is None:
        return "only in the other run"
    if b is None:
        return "only in this run"
    if delta is None:
        return "not graded in both"
    return "win" if delta > 0 else "loss" if delta < 0 else "tie"

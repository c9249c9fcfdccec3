"""The figures of a run: headline rates with intervals, per task, per repository, per group, time,
tokens and turns. Plain JSON-able values: the page shows them and embeds them, so what is on the
page can be checked against the records.

Rates are over graded episodes (resolved or failed); infrastructure errors and pending episodes
are counted apart, never as a 0.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from swerve.report.model import FAILED, INFRA, PENDING, RESOLVED, Episode, Run
from swerve.report.stats import bootstrap_mean, mean, pass_at_k, pass_at_k_curve, wilson

# timing keys of an episode, in the order "where the time goes" stacks them, with their labels;
# tests_s is part of verify_s where both are known (an agent's episode), so it stacks only alone
PHASES = (
    ("reset_s", "environment start"),
    ("model_s", "model"),
    ("env_s", "tool calls"),
    ("build_s", "environment build"),
    ("apply_s", "patch apply"),
    ("tests_s", "tests"),
    ("verify_s", "verification"),
)


def _rate(successes: int, n: int) -> dict[str, Any]:
    interval = wilson(successes, n)
    return {
        "successes": successes,
        "n": n,
        "rate": successes / n if n else None,
        "low": interval[0] if interval else None,
        "high": interval[1] if interval else None,
    }


def _task_rows(run: Run, episodes: list[Episode]) -> list[dict[str, Any]]:
    by_task: dict[str, list[Episode]] = defaultdict(list)
    for e in episodes:
        by_task[e.task_id].append(e)
    every: dict[str, list[Episode]] = defaultdict(list)  # counted or not: all open in the viewer
    for e in run.episodes:
        every[e.task_id].append(e)
    rows = []
    k = max(1, run.samples)
    for task_id in sorted(by_task):
        eps = by_task[task_id]
        graded = [e for e in eps if e.klass in (RESOLVED, FAILED)]
        rewards = [e.reward for e in graded if e.reward is not None]
        c = sum(e.resolved for e in graded)
        outcomes = Counter(e.outcome for e in eps)
        rows.append(
            {
                "task": task_id,
                "repo": eps[0].repo,
                "episodes": len(eps),
                "graded": len(graded),
                "resolved": c,
                "infra": sum(e.klass == INFRA for e in eps),
                "pending": sum(e.klass == PENDING for e in eps),
                "mean_reward": mean(rewards),
                "pass@1": c / len(graded) if graded else None,
                "pass@k": pass_at_k(len(graded), c, k) if k > 1 else None,
                "outcome": "/".join(
                    f"{o} {n}" if len(outcomes) > 1 else o for o, n in outcomes.most_common()
                ),
                "no_signal": len(rewards) >= 2 and len(set(rewards)) == 1,
                "keys": [e.key for e in sorted(every[task_id], key=lambda e: e.sample)],
                **run.task_notes.get(task_id, {}),
            }
        )
    return rows


def _repo_rows(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_repo: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in tasks:
        by_repo[t["repo"] or "(unknown)"].append(t)
    rows = []
    for repo in sorted(by_repo):
        ts = by_repo[repo]
        graded, resolved = sum(t["graded"] for t in ts), sum(t["resolved"] for t in ts)
        rows.append(
            {
                "repo": repo,
                "tasks": len(ts),
                "episodes": sum(t["episodes"] for t in ts),
                "graded": graded,
                "resolved": resolved,
                "rate": resolved / graded if graded else None,
                "infra": sum(t["infra"] for t in ts),
                "tasks_solved": sum(t["resolved"] > 0 for t in ts),
            }
        )
    return rows


def _groups(episodes: list[Episode]) -> list[dict[str, Any]]:
    by_group: dict[str, list[float]] = defaultdict(list)
    for e in episodes:
        if e.reward is not None and e.klass in (RESOLVED, FAILED):
            by_group[e.group_id or e.task_id].append(e.reward)
    groups = []
    for group_id, rewards in sorted(by_group.items()):
        m = sum(rewards) / len(rewards)
        spread = (sum((r - m) ** 2 for r in rewards) / len(rewards)) ** 0.5
        groups.append(
            {
                "group": group_id,
                "rewards": rewards,
                "mean": m,
                "std": spread,
                "no_signal": len(rewards) >= 2 and len(set(rewards)) == 1,
            }
        )
    return groups


def _series(episodes: list[Episode]) -> dict[str, list[float]]:
    series: dict[str, list[float]] = defaultdict(list)
    for e in episodes:
        for key, value in e.timings.items():
            series[key].append(value)
        if e.turns is not None:
            series["turns"].append(float(e.turns))
        if e.input_tokens is not None or e.output_tokens is not None:
            series["tokens"].append(float((e.input_tokens or 0) + (e.output_tokens or 0)))
            series["input_tokens"].append(float(e.input_tokens or 0))
            series["output_tokens"].append(float(e.output_tokens or 0))
    return dict(series)


def summarise(run: Run) -> dict[str, Any]:
    """Every figure of the page, from the run's counted episodes."""
    episodes = run.counted()
    graded = [e for e in episodes if e.klass in (RESOLVED, FAILED)]
    resolved = sum(e.resolved for e in graded)
    tasks = _task_rows(run, episodes)
    by_task: dict[str, list[float]] = defaultdict(list)
    for e in graded:
        if e.reward is not None:
            by_task[e.task_id].append(e.reward)
    rewards = [r for rs in by_task.values() for r in rs]
    interval = bootstrap_mean(list(by_task.values()))
    pass1 = [t["pass@1"] for t in tasks if t["pass@1"] is not None]
    k_max = max([run.samples, *(t["graded"] for t in tasks)]) if tasks else 1
    series = _series(episodes)
    phases = [
        (label, sum(series[key]))
        for key, label in PHASES
        if series.get(key) and not (key == "tests_s" and series.get("verify_s"))
    ]
    return {
        "episodes": len(episodes),
        "planned": run.planned,
        "graded": len(graded),
        "resolved": _rate(resolved, len(graded)),
        "tasks_resolved": _rate(sum(t["resolved"] > 0 for t in tasks), len(tasks)),
        "failed": sum(e.klass == FAILED for e in episodes),
        "infra": sum(e.klass == INFRA for e in episodes),
        "pending": sum(e.klass == PENDING for e in episodes),
        "reward": {
            "mean": mean(rewards),
            "low": interval[0] if interval else None,
            "high": interval[1] if interval else None,
            "n": len(rewards),
        },
        "pass@1": mean(pass1),
        "samples": run.samples,
        "pass_at_k": [
            {"k": k, "value": v, "tasks": n}
            for k, v, n in pass_at_k_curve([(t["graded"], t["resolved"]) for t in tasks], k_max)
        ],
        "outcomes": dict(Counter(e.outcome for e in episodes).most_common()),
        "exit_reasons": dict(Counter(e.exit_reason for e in episodes if e.exit_reason).most_common()),
        "infra_causes": dict(
            Counter(
                (e.cause.strip().splitlines() or [""])[0][:120] for e in episodes if e.klass == INFRA
            ).most_common(10)
        ),
        "tasks": tasks,
        "repos": _repo_rows(tasks),
        "groups": _groups(episodes) if run.samples > 1 or any(t["episodes"] > 1 for t in tasks) else [],
        "series": series,
        "phases": phases,
    }

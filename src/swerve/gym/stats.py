"""A summary of a run: rewards per task, pass@k, exit reasons, timings, tokens and throughput.

Reads the run directory without taking its lock, so it works while the run is going on. Records
from older or partial runs may lack any field; what is missing is left out of the figures.
"""

from __future__ import annotations

import datetime
import math
import os
from collections import Counter
from pathlib import Path
from typing import Any

from swerve.errors import StoreError
from swerve.gym.store import EPISODES, model_name, read_manifest, read_records, scan_episodes

TIMINGS = ("episode_s", "duration_s", "reset_s", "model_s", "env_s", "verify_s")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _time(value: Any) -> datetime.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def percentile(values: list[float], q: float) -> float | None:
    """The q-quantile (0..1) with linear interpolation between the closest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def pass_at_k(n: int, c: int, k: int) -> float | None:
    """The unbiased pass@k estimate from n samples with c successes (None when n < k)."""
    if k < 1 or n < k:
        return None
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def _succeeded(record: dict[str, Any], reward: float) -> bool:
    """A success: the verdict's ``resolved`` when there is one, otherwise a reward of 1 or more."""
    resolved = _dict(record.get("verdict")).get("resolved")
    return resolved if isinstance(resolved, bool) else reward >= 1.0


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def run_stats(out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Figures about the run in ``out_dir`` (see docs/gym.md for every field)."""
    out = Path(out_dir)
    manifest = read_manifest(out)
    if manifest is None and not (out / EPISODES).exists():
        raise StoreError(f"{out} holds no run (no {EPISODES} or manifest.json)")
    manifest = manifest or {}
    config = _dict(manifest.get("config"))
    scan = scan_episodes(out / EPISODES)

    tasks: dict[str, dict[str, Any]] = {}
    exit_reasons: Counter[str] = Counter()
    infra_messages: Counter[str] = Counter()
    timings: dict[str, list[float]] = {name: [] for name in TIMINGS}
    tokens = {"input": 0, "output": 0, "cache_read": 0}
    with_usage = 0
    turns: list[float] = []
    rewards: list[float] = []
    resolved = 0
    first: datetime.datetime | None = None
    last: datetime.datetime | None = None
    episodes = 0
    models: Counter[str] = Counter()

    for record in read_records(out, scan):
        episodes += 1
        episode = _dict(record.get("episode"))
        task_id = str(episode.get("task_id") or str(episode.get("key", "?")).rpartition("#")[0] or "?")
        task = tasks.setdefault(task_id, {"samples": 0, "rewards": [], "successes": 0, "infra_errors": 0})
        task["samples"] += 1
        reward = _number(record.get("reward"))
        if record.get("infra_error"):
            task["infra_errors"] += 1
            exit_reasons["infra_error"] += 1
            infra_messages[(str(record["infra_error"]).strip().splitlines() or [""])[0][:100]] += 1
        else:
            exit_reasons[str(record.get("exit_reason") or "unknown")] += 1
        if reward is not None and not record.get("infra_error"):
            rewards.append(reward)
            task["rewards"].append(reward)
            if _succeeded(record, reward):
                task["successes"] += 1
                resolved += 1
        timing = _dict(record.get("timing"))
        for name in TIMINGS:
            value = _number(timing.get(name))
            if value is not None:
                timings[name].append(value)
        usage = record.get("usage")
        if isinstance(usage, dict):
            with_usage += 1
            tokens["input"] += int(_number(usage.get("input_tokens")) or 0)
            tokens["output"] += int(_number(usage.get("output_tokens")) or 0)
            tokens["cache_read"] += int(_number(usage.get("cache_read_tokens")) or 0)
        num_turns = _number(record.get("num_turns"))
        if num_turns is not None:
            turns.append(num_turns)
        started, ended = _time(record.get("started_at")), _time(record.get("ended_at"))
        if started and (first is None or started < first):
            first = started
        if ended and (last is None or ended > last):
            last = ended
        name = _dict(record.get("model")).get("name")
        if isinstance(name, str):
            models[name] += 1

    samples = _number(config.get("samples"))
    k = int(samples) if samples else max((t["samples"] for t in tasks.values()), default=1)
    per_task: dict[str, dict[str, Any]] = {}
    for task_id in sorted(tasks):
        t = tasks[task_id]
        n = len(t["rewards"])
        per_task[task_id] = {
            "samples": t["samples"],
            "rewarded": n,
            "infra_errors": t["infra_errors"],
            "mean_reward": _mean(t["rewards"]),
            "successes": t["successes"],
            "pass@1": t["successes"] / n if n else None,
            "pass@k": pass_at_k(n, t["successes"], k) if k > 1 else None,
        }
    pass1 = [v["pass@1"] for v in per_task.values() if v["pass@1"] is not None]
    passk = [v["pass@k"] for v in per_task.values() if v["pass@k"] is not None]

    counts = _dict(manifest.get("counts"))
    planned = counts.get("planned") if isinstance(counts.get("planned"), int) else None
    wall_s = (last - first).total_seconds() if first and last and last > first else None
    infra = sum(t["infra_errors"] for t in tasks.values())
    problems = list(scan.problems)
    if scan.torn:
        problems.append(f"a torn last line ({scan.size - scan.end} bytes) is not counted")
    return {
        "run": {
            "out_dir": str(out),
            "run_id": manifest.get("run_id"),
            "model": model_name(config) or (models.most_common(1)[0][0] if models else None),
            "samples": k,
            "created_at": manifest.get("created_at"),
            "updated_at": manifest.get("updated_at"),
        },
        "episodes": {
            "planned": planned,
            "stored": episodes,
            "rewarded": len(rewards),
            "infra_errors": infra,
            "pending": max(0, planned - episodes) if planned is not None else None,
        },
        "reward": {
            "mean": _mean(rewards),
            "resolved": resolved,
            "pass@1": _mean(pass1),
            "k": k,
            "pass@k": _mean(passk) if k > 1 else None,
            "pass@k_tasks": len(passk),
        },
        "tasks": per_task,
        "exit_reasons": dict(exit_reasons.most_common()),
        "infra_errors": dict(infra_messages.most_common(10)),
        "timings": {
            name: {
                "n": len(values),
                "mean": _mean(values),
                "median": percentile(values, 0.5),
                "p90": percentile(values, 0.9),
                "total": sum(values),
            }
            for name, values in timings.items()
            if values
        },
        "tokens": {
            **tokens,
            "episodes": with_usage,
            "per_episode": {
                "input": tokens["input"] / with_usage if with_usage else None,
                "output": tokens["output"] / with_usage if with_usage else None,
            },
        },
        "turns": {"mean": _mean(turns), "max": max(turns) if turns else None},
        "throughput": {
            "first_started_at": first.isoformat() if first else None,
            "last_ended_at": last.isoformat() if last else None,
            "wall_s": wall_s,
            "episodes_per_min": 60.0 * episodes / wall_s if wall_s else None,
        },
        "problems": problems,
    }


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return ["  " + line for line in lines]


def format_stats(stats: dict[str, Any], *, max_tasks: int | None = 50) -> str:
    """``run_stats`` as plain text; at most ``max_tasks`` rows of the per-task table (None: all)."""
    run, eps, reward = stats["run"], stats["episodes"], stats["reward"]
    k = reward["k"]
    lines = [
        f"run {_fmt(run['run_id'])}  model {_fmt(run['model'])}  samples {k}  ({run['out_dir']})",
        f"episodes: {eps['stored']} stored of {_fmt(eps['planned'])} planned, {eps['rewarded']} rewarded, "
        f"{eps['infra_errors']} infrastructure errors, {_fmt(eps['pending'])} pending",
        f"reward: mean {_fmt(reward['mean'])}, resolved {reward['resolved']}, pass@1 {_fmt(reward['pass@1'])}"
        + (f", pass@{k} {_fmt(reward['pass@k'])} over {reward['pass@k_tasks']} tasks" if k > 1 else ""),
    ]
    tasks = stats["tasks"]
    if tasks:
        lines += ["", "per task:"]
        header = ["task", "samples", "infra", "mean reward", "pass@1"] + ([f"pass@{k}"] if k > 1 else [])
        shown = list(tasks.items())[: max_tasks if max_tasks is not None else None]
        rows = [
            [task_id, str(t["samples"]), str(t["infra_errors"]), _fmt(t["mean_reward"]), _fmt(t["pass@1"])]
            + ([_fmt(t["pass@k"])] if k > 1 else [])
            for task_id, t in shown
        ]
        lines += _table(header, rows)
        if len(shown) < len(tasks):
            lines.append(f"  ... {len(tasks) - len(shown)} more tasks")
    if stats["exit_reasons"]:
        lines += ["", "exit reasons:"]
        lines += [f"  {reason}: {n}" for reason, n in stats["exit_reasons"].items()]
    if stats["infra_errors"]:
        lines += ["", "infrastructure errors:"]
        lines += [f"  {n} x {message}" for message, n in stats["infra_errors"].items()]
    if stats["timings"]:
        lines += ["", "timings (s):"]
        rows = [
            [
                name,
                str(t["n"]),
                _fmt(t["median"], 2),
                _fmt(t["p90"], 2),
                _fmt(t["mean"], 2),
                _fmt(t["total"], 1),
            ]
            for name, t in stats["timings"].items()
        ]
        lines += _table(["", "n", "median", "p90", "mean", "total"], rows)
    tok = stats["tokens"]
    if tok["episodes"]:
        per = tok["per_episode"]
        lines += [
            "",
            f"tokens: input {tok['input']}, output {tok['output']}, cache read {tok['cache_read']}; "
            f"per episode input {_fmt(per['input'], 1)}, output {_fmt(per['output'], 1)}",
        ]
    if stats["turns"]["mean"] is not None:
        lines.append(f"turns: mean {_fmt(stats['turns']['mean'], 1)}, max {_fmt(stats['turns']['max'], 0)}")
    thr = stats["throughput"]
    if thr["episodes_per_min"] is not None:
        lines.append(f"throughput: {thr['episodes_per_min']:.2f} episodes/min over {thr['wall_s']:.1f} s")
    if stats["problems"]:
        lines += ["", "problems:"] + [f"  {p}" for p in stats["problems"]]
    return "\n".join(lines)

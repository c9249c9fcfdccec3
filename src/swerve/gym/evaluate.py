"""Evaluate an agent on tasks: episodes in the farm, graded as ``swerve eval`` grades predictions.

Each task gets one episode (the agent, headless, in a sandbox over the task's instance layer); its
final diff becomes the prediction, graded in a fresh sandbox that the agent never touched. Written
under the report folder: the SWE-bench files (per-instance ``report.json`` and logs, the run report
``<model>.<run_id>.json``), the predictions (``<model>.<run_id>.predictions.jsonl``, readable by
``swerve eval --predictions`` and SWE-bench's harness) and the trajectories (a resumable farm run
in ``trajectories/<run_id>/``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from swerve.config import AgentConfig
from swerve.eval.harness import EvalOptions
from swerve.eval.reports import (
    ERROR,
    InstanceResult,
    instance_log_dir,
    model_dir_name,
    run_report,
    write_instance_result,
    write_run_report,
)
from swerve.gym.episode import EpisodeRunner, PoolLimits
from swerve.gym.pool import LocalExecutor, Pool, plan_episodes
from swerve.gym.sources import TaskSource
from swerve.gym.store import RunStore
from swerve.tasks.model import Task


def instance_result(record: dict[str, Any], model: str) -> InstanceResult:
    """The evaluation outcome an episode's record holds (an infra error is an error, never a 0)."""
    task_id = record["episode"]["task_id"]
    report = (record.get("verdict") or {}).get("report") or {}
    if record.get("infra_error") or not report.get("outcome"):
        cause = record.get("infra_error") or "the episode ended without a verdict"
        return InstanceResult(task_id, model, ERROR, cause=str(cause))
    return InstanceResult.from_json({**report, "instance_id": task_id, "model": model})


async def evaluate_agent(
    tasks: list[Task],
    agent: AgentConfig,
    options: EvalOptions,
    *,
    sandbox: str = "namespace",
    on_event: Callable[[str, Any, Any], None] | None = None,
    deadline_s: float = 3600.0,
) -> tuple[dict[str, Any], Path]:
    """Run the agent on every task and write SWE-bench's reports; returns the run report and its path."""
    model = model_dir_name(agent.model)
    log_root = options.log_root / options.run_id / model
    source = TaskSource(
        tasks,
        repos=list(options.repos),
        cache=str(options.cache) if options.cache else None,
        sandbox=sandbox,
        timeout_s=options.timeout_s,
        log_root=str(log_root),
    )
    out = options.report_dir / "trajectories" / options.run_id
    config = {"source": source.describe(), "agent": agent.describe(), "samples": 1, "run_id": options.run_id}
    episodes = plan_episodes([t.id for t in tasks])
    store = RunStore.open(out, config, planned_keys=[e.key for e in episodes])
    try:
        runner = EpisodeRunner(source, agent, run_id=options.run_id)
        limits = PoolLimits(envs=options.workers, deadline_s=deadline_s)
        pool = Pool(LocalExecutor(runner, limits), store, on_event=on_event)
        progress = await pool.run(episodes)
        store.update_manifest(**progress.to_json())
        records = {r["episode"]["task_id"]: r for r in store.records()}
    finally:
        store.close()
    results = []
    predictions = []
    for task in tasks:
        record = records.get(task.id)
        if record is None:
            continue
        result = instance_result(record, agent.model)
        log_dir = instance_log_dir(options.log_root, options.run_id, agent.model, task.id)
        write_instance_result(result, log_dir)
        results.append(result)
        predictions.append(
            {
                "instance_id": task.id,
                "model_name_or_path": agent.model,
                "model_patch": record.get("patch") or "",
            }
        )
    options.report_dir.mkdir(parents=True, exist_ok=True)
    with open(options.report_dir / f"{model}.{options.run_id}.predictions.jsonl", "w", encoding="utf-8") as f:
        for prediction in predictions:
            f.write(json.dumps(prediction) + "\n")
    report = run_report(
        dataset_ids=[t.id for t in tasks],
        submitted_ids=[t.id for t in tasks],
        results=results,
        sandbox=sandbox,
    )
    report["trajectories"] = str(out)
    path = write_run_report(report, options.report_dir, agent.model, options.run_id)
    return report, path

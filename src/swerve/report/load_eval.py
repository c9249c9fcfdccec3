"""Eval report folders (``swerve eval``) as a report ``Run``: predictions graded, or an agent evaluated.

A finished run has ``<model>.<run_id>.json`` (SWE-bench's run report plus swerve's keys) and per
instance ``logs/run_evaluation/<run_id>/<model>/<instance>/`` (``swerve.json``, ``report.json``,
``patch.diff``, ``test_output.txt``, ``run_instance.log``); an agent run adds its trajectories, a
gym run store in ``trajectories/<run_id>/``. A run still going (or stopped) has no run report yet:
its instances are read from the log folders, and the page says so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from swerve.eval.reports import OUTCOME_FILE
from swerve.report.load_gym import is_gym_run, load_records, writer_alive
from swerve.report.model import Detail, Episode, Run, test_counts, test_lists
from swerve.report.records import as_dict, number, repo_of, text

LOG_TAIL_BYTES = 8192
HARNESS_LOG_BYTES = 3072
# the run report's id lists, in the order an outcome is looked up
OUTCOME_LISTS = (
    ("resolved_ids", "resolved"),
    ("unresolved_ids", "unresolved"),
    ("empty_patch_ids", "empty_patch"),
    ("patch_apply_failed_ids", "patch_failed"),
    ("environment_unavailable_ids", "env_unavailable"),
    ("timeout_ids", "timeout"),
    ("error_ids", "error"),
)


def read_json(path: Path, run: Run | None = None) -> Any:
    """A JSON file's content, or None with a problem noted when it is missing or broken."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        if run is not None:
            run.problem(f"{path} cannot be read: {exc}")
        return None


def tail(path: Path, limit: int) -> str:
    """The last ``limit`` bytes of a text file ("" when it cannot be read)."""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, 2)
            f.seek(max(0, size - limit))
            data = f.read()
    except OSError:
        return ""
    decoded = data.decode("utf-8", errors="replace")
    return f"[... {size - limit} bytes before]\n{decoded}" if size > limit else decoded


def log_dirs(log_root: Path, run_id: str) -> dict[str, Path]:
    """model folder name -> its folder, under ``logs/run_evaluation/<run_id>``."""
    base = log_root / run_id
    try:
        return {p.name: p for p in sorted(base.iterdir()) if p.is_dir()}
    except OSError:
        return {}


def instance_detail(log_dir: Path, result: dict[str, Any], base: Detail | None = None) -> Detail:
    """The viewer's content for one graded instance: its diff, tests, verdict and log tails."""
    detail = base or Detail()
    try:
        detail.patch = detail.patch or (log_dir / "patch.diff").read_text(errors="replace")
    except OSError:
        pass
    detail.tests = detail.tests or test_lists(result.get("tests_status"))
    detail.log_tail = tail(log_dir / "test_output.txt", LOG_TAIL_BYTES) or detail.log_tail
    verdict = {
        "outcome": text(result.get("outcome")),
        "resolution": text(result.get("resolution")),
        "cause": text(result.get("cause")),
        "test_exit_code": result.get("test_exit_code"),
        "patch_applied": result.get("patch_applied"),
    }
    detail.verdict = {**{k: v for k, v in verdict.items() if v not in (None, "")}, **detail.verdict}
    harness = tail(log_dir / "run_instance.log", HARNESS_LOG_BYTES)
    if harness:
        detail.notes.append(("harness log (run_instance.log)", harness))
    return detail


def instance_episode(task_id: str, log_dir: Path | None, fallback: str, *, label: str) -> Episode:
    """An instance's episode from its ``swerve.json`` (``fallback``: its outcome from the run report)."""
    result = as_dict(read_json(log_dir / OUTCOME_FILE)) if log_dir is not None else {}
    graded = {k: float(v) for k, v in as_dict(result.get("timings")).items() if number(v) is not None}
    # the harness's env_s is building the environment, not the agent's tool time as in a record
    timings = {k: graded[k] for k in ("apply_s", "tests_s") if k in graded}
    if "env_s" in graded or "layer_s" in graded:
        timings["build_s"] = round(graded.get("env_s", 0.0) + graded.get("layer_s", 0.0), 4)
    if "total_s" in graded:
        timings["total_s"] = graded["total_s"]
    episode = Episode(
        key=task_id,
        task_id=task_id,
        group_id=task_id,
        repo=repo_of(task_id),
        label=label,
        outcome=text(result.get("outcome")) or fallback,
        cause=text(result.get("cause")),
        timings=timings,
        tests=test_counts(result.get("tests_status")),
    )
    episode.reward = None if episode.klass == "infra" else float(episode.resolved)
    if log_dir is not None and log_dir.is_dir():
        episode.load_detail = lambda: instance_detail(log_dir, result)
    return episode


def _outcomes(report: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, outcome in OUTCOME_LISTS:
        for iid in report.get(key) or []:
            found.setdefault(str(iid), outcome)
    return found


def find_run(report_file: Path) -> tuple[str, str] | None:
    """(run_id, model folder) of a run report ``<model>.<run_id>.json``, found among its log folders."""
    log_root = report_file.parent / "logs" / "run_evaluation"
    try:
        run_ids = [p.name for p in log_root.iterdir() if p.is_dir()]
    except OSError:
        return None
    for run_id in run_ids:
        for model in log_dirs(log_root, run_id):
            if report_file.name == f"{model}.{run_id}.json":
                return run_id, model
    return None


def load_run_report(report_file: Path) -> Run:
    """A finished eval run from its run report."""
    run = Run(kind="eval", path=str(report_file), title="eval run")
    run.sources.append(str(report_file))
    report = as_dict(read_json(report_file, run))
    found = find_run(report_file)
    run_id, model = found if found else (report_file.stem.rpartition(".")[2], "")
    if not found:
        run.problem(f"no log folders for this report under {report_file.parent / 'logs' / 'run_evaluation'}")
    run.run_id = run_id
    log_base = report_file.parent / "logs" / "run_evaluation" / run_id / model
    outcomes = _outcomes(report)
    submitted = [str(i) for i in report.get("submitted_ids") or sorted(outcomes)]
    trajectories = _trajectory_dir(report_file.parent, report, run_id)
    records = {}
    if trajectories is not None:
        run.kind, run.title = "agent-eval", "agent evaluation"
        records = {e.task_id: e for e in load_records(trajectories, run)}
        run.model = next((e.label for e in records.values() if e.label), "")
    for iid in submitted:
        log_dir = log_base / iid if model else None
        episode = instance_episode(iid, log_dir, outcomes.get(iid, "pending"), label=run.model or model)
        if iid in records:
            episode = _with_trajectory(episode, records[iid], log_dir)
        if episode.outcome == "pending":
            run.problem(f"{iid}: submitted, but the report has no outcome for it")
        run.episodes.append(episode)
    run.model = run.model or _model_name(run.episodes, model)
    run.planned = len(submitted)
    total = report.get("total_instances")
    run.facts.append(("instances", f"{len(submitted)} submitted of {total if total is not None else '?'}"))
    if report.get("sandbox"):
        run.facts.append(("sandbox", str(report["sandbox"])))
    return run


def _model_name(episodes: list[Episode], folder: str) -> str:
    return next((e.label for e in episodes if e.label), folder.replace("__", "/"))


def _trajectory_dir(report_dir: Path, report: dict[str, Any], run_id: str) -> Path | None:
    named = report.get("trajectories")
    for candidate in (Path(str(named)) if named else None, report_dir / "trajectories" / run_id):
        if candidate is not None and is_gym_run(candidate):
            return candidate
    return None


def _with_trajectory(graded: Episode, record: Episode, log_dir: Path | None) -> Episode:
    """The agent's episode (conversation, turns, tokens) with the harness's grading of its diff."""
    record.outcome = graded.outcome if graded.outcome != "pending" else record.outcome
    record.reward = None if record.klass == "infra" else float(record.resolved)
    record.tests = graded.tests or record.tests
    record.key = graded.key
    read_record = record.load_detail
    if read_record is not None and log_dir is not None:
        result = as_dict(read_json(log_dir / OUTCOME_FILE))
        record.load_detail = lambda: instance_detail(log_dir, result, read_record())
    return record


def load_partial(report_dir: Path, run_id: str) -> Run:
    """A run with no run report yet: what its log folders (and trajectories) hold so far."""
    trajectories = report_dir / "trajectories" / run_id
    run = Run(kind="eval", path=str(report_dir), title="eval run", run_id=run_id)
    if is_gym_run(trajectories):
        run.kind, run.title = "agent-eval", "agent evaluation"
        run.episodes = load_records(trajectories, run)
        run.live = writer_alive(trajectories)
        run.model = next((e.label for e in run.episodes if e.label), "")
    else:
        for model, folder in log_dirs(report_dir / "logs" / "run_evaluation", run_id).items():
            for log_dir in sorted(p for p in folder.iterdir() if (p / OUTCOME_FILE).exists()):
                run.episodes.append(instance_episode(log_dir.name, log_dir, "pending", label=model))
                run.sources.append(str(log_dir / OUTCOME_FILE))
            run.sources.append(str(folder))
        run.model = _model_name(run.episodes, "")
    state = "still running" if run.live else "still running, or it was stopped before the end"
    run.problem(
        f"no run report for run {run_id} in {report_dir} yet: the run is {state}; "
        f"showing the {len(run.episodes)} instances graded so far"
    )
    return run

"""Validation reports (``swerve eval --validate``) as a report ``Run``.

A task is valid when its gold patch resolves it and, with no patch, its FAIL_TO_PASS tests fail.
Each task gives two episodes: the gold run (counted in the run's figures: "resolved" there means
the gold patch works) and the no-patch run (shown, not counted); a gold run repeated to tell flaky
from broken is a third. The per-task table gets the verdict: valid, and the cause when not.
"""

from __future__ import annotations

from pathlib import Path

from swerve.eval.validation import GOLD_RERUN_MODEL
from swerve.report.load_eval import instance_episode, log_dirs, read_json
from swerve.report.model import Run
from swerve.report.records import as_dict, text
from swerve.tasks.swebench import GOLD_MODEL

NO_PATCH = "no-patch"
LABELS = ((GOLD_MODEL, "gold", True), (NO_PATCH, "no-patch", False), (GOLD_RERUN_MODEL, "gold again", False))


def is_validation_report(data: object) -> bool:
    return isinstance(data, dict) and "valid_ids" in data and isinstance(data.get("instances"), dict)


def _episodes(run: Run, log_root: Path, run_id: str, task_ids: list[str]) -> None:
    folders = log_dirs(log_root, run_id)
    for task_id in task_ids:
        for folder, label, counted in LABELS:
            log_dir = folders[folder] / task_id if folder in folders else None
            if log_dir is None or not log_dir.is_dir():
                if counted:
                    run.problem(f"{task_id}: no log folder for its gold run")
                continue
            episode = instance_episode(task_id, log_dir, "pending", label=label)
            episode.key = f"{task_id}#{label}"
            episode.sample = 0 if counted else 1
            episode.counted = counted
            run.episodes.append(episode)


def load_validation(report_file: Path) -> Run:
    """A finished validation from ``validation.<run_id>.json``."""
    run = Run(kind="validation", path=str(report_file), title="task validation", model="gold patches")
    run.sources.append(str(report_file))
    report = as_dict(read_json(report_file, run))
    run.run_id = text(report.get("run_id")) or report_file.stem.partition(".")[2]
    instances = as_dict(report.get("instances"))
    run.note_columns = [("valid", "valid"), ("cause", "cause"), ("detail", "why")]
    for task_id, item in sorted(instances.items()):
        item = as_dict(item)
        run.task_notes[task_id] = {
            "valid": "yes" if item.get("valid") is True else "no",
            "cause": text(item.get("cause")),
            "detail": text(item.get("detail")),
        }
    _episodes(run, report_file.parent / "logs" / "run_evaluation", run.run_id, sorted(instances))
    valid, total = report.get("valid"), report.get("total")
    run.facts.append(("valid tasks", f"{valid} of {total}"))
    for cause, n in sorted(as_dict(report.get("invalid_by_cause")).items()):
        run.facts.append((f"invalid: {cause}", str(n)))
    return run


def load_partial_validation(report_dir: Path, run_id: str) -> Run:
    """A validation with no report yet: the gold and no-patch runs graded so far."""
    run = Run(kind="validation", path=str(report_dir), title="task validation", model="gold patches")
    run.run_id = run_id
    log_root = report_dir / "logs" / "run_evaluation"
    folders = log_dirs(log_root, run_id)
    task_ids = sorted({p.name for f in folders.values() for p in f.iterdir() if p.is_dir()})
    _episodes(run, log_root, run_id, task_ids)
    run.sources.extend(str(f) for f in folders.values())
    run.problem(
        f"no validation report for run {run_id} yet: it is still running, or it was stopped; "
        f"showing the {sum(e.counted for e in run.episodes)} gold runs graded so far (valid: not known yet)"
    )
    return run

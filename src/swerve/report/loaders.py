"""Which loader reads a path: one registry for every kind of run.

A kind of run is a ``Loader``: a name, ``detect(path)`` and ``load(path) -> Run``. The built-in
ones read gym run directories, eval run reports, validation reports and eval report folders (the
newest run in the folder). A new kind of run (task-generation runs, say) registers its own loader
with ``register`` and needs nothing else: the statistics, plots and page read only ``Run``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swerve.report.load_eval import find_run, load_partial, load_run_report, log_dirs
from swerve.report.load_gym import is_gym_run, load_gym
from swerve.report.load_validation import (
    LABELS,
    is_validation_report,
    load_partial_validation,
    load_validation,
)
from swerve.report.model import Run


class ReportError(Exception):
    """The path holds nothing a report can be made of; the message says what was expected."""


@dataclass(frozen=True)
class Loader:
    kind: str
    detect: Callable[[Path], bool]
    load: Callable[[Path], Run]


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_run_report(data: Any) -> bool:
    return isinstance(data, dict) and "resolved_ids" in data and "submitted_ids" in data


def _is_report_file(path: Path) -> bool:
    if not (path.is_file() and path.suffix == ".json"):
        return False
    data = _json(path)
    return is_run_report(data) or is_validation_report(data)


def _load_report_file(path: Path) -> Run:
    return load_validation(path) if is_validation_report(_json(path)) else load_run_report(path)


def _is_eval_folder(path: Path) -> bool:
    return path.is_dir() and ((path / "logs" / "run_evaluation").is_dir() or any(_runs_in(path)))


def _runs_in(folder: Path) -> list[tuple[float, str, Callable[[], Run]]]:
    """(modified time, run id, loader) of every run in an eval report folder."""
    runs: list[tuple[float, str, Callable[[], Run]]] = []
    covered: set[str] = set()
    for path in sorted(folder.glob("*.json")):
        data = _json(path)
        if is_validation_report(data):
            run_id = str(data.get("run_id") or path.stem.partition(".")[2])
        elif is_run_report(data):
            found = find_run(path)
            run_id = found[0] if found else path.stem
        else:
            continue
        covered.add(run_id)
        runs.append((path.stat().st_mtime, run_id, lambda p=path: _load_report_file(p)))
    log_root = folder / "logs" / "run_evaluation"
    if log_root.is_dir():
        for run_dir in sorted(p for p in log_root.iterdir() if p.is_dir() and p.name not in covered):
            models = set(log_dirs(log_root, run_dir.name))
            validation = bool(models) and models <= {folder_name for folder_name, _, _ in LABELS}
            load = load_partial_validation if validation else load_partial
            runs.append((run_dir.stat().st_mtime, run_dir.name, lambda r=run_dir.name, f=load: f(folder, r)))
    return runs


def _load_eval_folder(folder: Path) -> Run:
    runs = sorted(_runs_in(folder), key=lambda r: r[0])
    if not runs:
        raise ReportError(f"{folder} holds no eval run yet (no run report and no logs/run_evaluation/<run>)")
    load = runs[-1][2]
    run = load()
    if len(runs) > 1:
        others = ", ".join(r[1] for r in runs[:-1][-5:])
        more = f" (and {len(runs) - 6} more)" if len(runs) > 6 else ""
        run.facts.append(("other runs in this folder", f"{others}{more}: give a run's report file to see it"))
    run.sources.append(str(folder))
    return run


LOADERS: list[Loader] = [
    Loader("gym", is_gym_run, load_gym),
    Loader("report-file", _is_report_file, _load_report_file),
    Loader("eval-folder", _is_eval_folder, _load_eval_folder),
]


def register(loader: Loader) -> None:
    """Add a kind of run; it is tried before the built-in ones."""
    LOADERS.insert(0, loader)


def load_run(path: str | Path) -> Run:
    """The run at ``path``; ReportError when it is none of the kinds known."""
    path = Path(path)
    if not path.exists():
        raise ReportError(f"{path} does not exist")
    for loader in LOADERS:
        if loader.detect(path):
            return loader.load(path)
    raise ReportError(
        f"{path} is not a run swerve knows: expected a gym run directory (episodes.jsonl, manifest.json), "
        "an eval report folder or run report (<model>.<run_id>.json), or a validation report "
        "(validation.<run_id>.json)"
    )

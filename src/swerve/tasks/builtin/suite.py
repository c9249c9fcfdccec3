"""The curated suite: task records stored as JSON in the package, turned into ``Task``s.

One file per library, ``data/<name>.json``: ``{"library", "version", "tasks": [record, ...]}``. A
record holds everything a task needs, so loading never re-runs generation:

- ``id``, ``library``, ``version``;
- ``base_commit``: the commit of the task's starting state (the pristine sdist tree plus the bug,
  committed reproducibly; see ``sources``);
- ``bug_patch`` (pristine -> starting state) and ``gold_patch`` (starting state -> pristine);
- ``FAIL_TO_PASS`` / ``PASS_TO_PASS``: pytest node ids; ``test_files``: what the test command runs;
- ``test_command``, ``problem_statement``, and ``mutation`` (operator, file, line: for reports,
  never shown to a solver).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from swerve.errors import TaskError
from swerve.tasks.builtin.libraries import LIBRARIES, Library, get_library
from swerve.tasks.builtin.sources import ensure_task_repo, task_repo_path
from swerve.tasks.generate.fetch import install_command
from swerve.tasks.model import EnvSpec, RepoSource, Task

DATA_DIR = Path(__file__).parent / "data"
SUITE_NAME = "builtin"
TASK_TIMEOUT_S = 300.0
REQUIRED = (
    "id",
    "library",
    "version",
    "base_commit",
    "bug_patch",
    "gold_patch",
    "FAIL_TO_PASS",
    "PASS_TO_PASS",
    "test_files",
    "test_command",
    "problem_statement",
)


def env_spec(lib: Library) -> EnvSpec:
    """The environment of every task of ``lib``: the running Python, pytest and the test pins."""
    return EnvSpec(python="", pins=lib.pins, install=(install_command(lib.import_root),))


def data_file(library: str) -> Path:
    return DATA_DIR / f"{library}.json"


def read_records(library: str | None = None, *, data_dir: Path | None = None) -> list[dict[str, Any]]:
    """The stored task records (of one library, or of all)."""
    folder = data_dir or DATA_DIR
    files = [folder / f"{library}.json"] if library else sorted(folder.glob("*.json"))
    records: list[dict[str, Any]] = []
    for path in files:
        if not path.is_file():
            raise TaskError(f"no built-in tasks for {library!r} ({path} is missing)")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise TaskError(f"{path}: unreadable suite file: {exc}") from None
        tasks = data.get("tasks") if isinstance(data, dict) else None
        if not isinstance(tasks, list):
            raise TaskError(f"{path}: expected an object with a 'tasks' list")
        records.extend(tasks)
    return records


def _strings(record: dict[str, Any], key: str) -> tuple[str, ...]:
    value = record.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TaskError(f"built-in task {record.get('id')!r}: {key} must be a list of strings")
    return tuple(value)


def task_from_record(
    record: dict[str, Any], *, cache: Path | None = None, library: Library | None = None
) -> Task:
    """A ``Task`` from one stored record (of ``library``, default: the pinned one it names).

    Raises TaskError on a malformed record."""
    if not isinstance(record, dict):
        raise TaskError("a built-in task record must be an object")
    missing = [k for k in REQUIRED if k not in record]
    if missing:
        raise TaskError(f"built-in task {record.get('id')!r}: missing {', '.join(missing)}")
    lib = library or get_library(str(record["library"]))
    if record["version"] != lib.version:
        raise TaskError(
            f"built-in task {record['id']}: version {record['version']} but {lib.name} is pinned at {lib.version}"
        )
    task_id = str(record["id"])
    f2p = _strings(record, "FAIL_TO_PASS")
    if not f2p:
        raise TaskError(f"built-in task {task_id}: FAIL_TO_PASS is empty")
    return Task(
        id=task_id,
        repo=lib.repo,
        source=RepoSource("git", str(task_repo_path(task_id, cache))),
        base_commit=str(record["base_commit"]),
        problem_statement=str(record["problem_statement"]),
        version=lib.version,
        env=env_spec(lib),
        test_command=str(record["test_command"]),
        test_files=_strings(record, "test_files"),
        fail_to_pass=f2p,
        pass_to_pass=_strings(record, "PASS_TO_PASS"),
        log_parser="pytest",
        gold_patch=str(record["gold_patch"]),
        timeout_s=TASK_TIMEOUT_S,
        metadata={
            "suite": SUITE_NAME,
            "library": lib.name,
            "import_root": lib.import_root,
            "sdist": lib.sdist,
            "sdist_sha256": lib.sha256,
            "sdist_url": lib.url,
            "bug_patch": str(record["bug_patch"]),
            "mutation": record.get("mutation", {}),
        },
    )


def prepare_tasks(tasks: list[Task], *, cache: Path | None = None) -> list[Task]:
    """Make each task's starting-state repository exist (downloading sdists on first use).

    Raises SourceError (a TaskError) when an sdist cannot be had or a build disagrees with the
    recorded commit.
    """
    for task in tasks:
        lib = get_library(task.metadata["library"])
        ensure_task_repo(
            lib, task.id, task.metadata["bug_patch"], expected_commit=task.base_commit, cache=cache
        )
    return tasks


def load_builtin(
    *,
    prepare: bool = True,
    libraries: list[str] | None = None,
    cache: Path | None = None,
    data_dir: Path | None = None,
) -> list[Task]:
    """The built-in suite as Tasks, in a stable order.

    With ``prepare`` (the default) each task's repository is ready to check out when this returns:
    sdists are downloaded and verified on first use, then cached. ``prepare=False`` only reads the
    stored records (no network, no disk writes).
    """
    names = libraries or sorted(LIBRARIES)
    for name in names:
        get_library(name)  # a clear error for an unknown name
    records = (
        [r for name in names for r in read_records(name, data_dir=data_dir)]
        if libraries
        else read_records(data_dir=data_dir)
    )
    tasks = [task_from_record(r, cache=cache) for r in records]
    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        raise TaskError("the built-in suite has duplicate task ids")
    tasks.sort(key=lambda t: (t.metadata["library"], t.id))
    if prepare:
        prepare_tasks(tasks, cache=cache)
    return tasks

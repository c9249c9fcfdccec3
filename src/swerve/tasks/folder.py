"""Native task folders: a user's own verifiable tasks, described in ``task.toml`` (docs/tasks.md).

my-task/
  task.toml         what to build, how to test, which tests decide
  problem.md        the problem statement (or ``problem_statement`` in task.toml)
  repo/             the starting code (default source)
  solution.patch    optional gold patch
  tests.patch       optional patch applied before the tests run (hidden from the solver)
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from swerve.errors import TaskError
from swerve.tasks.grading.parsers import PARSERS
from swerve.tasks.model import EnvSpec, RepoSource, Task

TASK_FILE = "task.toml"
_SOURCE_KINDS = ("dir", "git", "sdist", "snapshot")


def _table(data: dict[str, Any], key: str, where: Path) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise TaskError(f"{where}: [{key}] must be a table")
    return value


def _strings(value: Any, what: str, where: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TaskError(f"{where}: {what} must be a list of strings")
    return tuple(value)


def _string(data: dict[str, Any], key: str, where: Path, default: str = "") -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise TaskError(f"{where}: {key} must be a string")
    return value


def _read_optional(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskError(f"{path}: {exc}") from None


def load_task_folder(folder: str | Path) -> Task:
    """One task folder as a Task."""
    folder = Path(folder).resolve()
    spec_path = folder / TASK_FILE
    try:
        data = tomllib.loads(spec_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TaskError(f"{folder}: no {TASK_FILE}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskError(f"{spec_path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise TaskError(f"{spec_path}: invalid TOML: {exc}") from None

    task_id = _string(data, "id", spec_path, folder.name)
    if not task_id or "/" in task_id:
        raise TaskError(f"{spec_path}: id must be a non-empty name without '/'")
    source_t = _table(data, "source", spec_path)
    kind = _string(source_t, "kind", spec_path, "dir")
    if kind not in _SOURCE_KINDS:
        raise TaskError(f"{spec_path}: source kind must be one of {', '.join(_SOURCE_KINDS)}")
    location = _string(source_t, "location", spec_path, "repo" if kind == "dir" else "")
    if location and "://" not in location and not location.startswith("git@"):
        location = str((folder / location).resolve())
    if kind in ("dir", "sdist") and not Path(location).exists():
        raise TaskError(f"{spec_path}: source {location} does not exist")

    env_t = _table(data, "environment", spec_path)
    env = EnvSpec(
        python=_string(env_t, "python", spec_path),
        pins=_strings(env_t.get("pins"), "environment.pins", spec_path),
        pre_install=_strings(env_t.get("pre_install"), "environment.pre_install", spec_path),
        install=_strings(env_t.get("install"), "environment.install", spec_path),
        system_tools=_strings(env_t.get("system_tools"), "environment.system_tools", spec_path),
        build_pins=_strings(env_t.get("build_pins"), "environment.build_pins", spec_path),
        optional_files=_strings(env_t.get("optional_files"), "environment.optional_files", spec_path),
        eval_env=tuple(sorted((str(k), str(v)) for k, v in _table(env_t, "variables", spec_path).items())),
    )
    tests_t = _table(data, "tests", spec_path)
    command = _string(tests_t, "command", spec_path)
    if not command:
        raise TaskError(f"{spec_path}: [tests] command is required")
    parser = _string(tests_t, "log_parser", spec_path, "pytest")
    if parser not in PARSERS:
        raise TaskError(f"{spec_path}: unknown log_parser {parser!r} (known: {', '.join(sorted(PARSERS))})")
    eval_type = _string(tests_t, "eval_type", spec_path, "pass_and_fail")
    if eval_type not in ("pass_and_fail", "fail_only"):
        raise TaskError(f"{spec_path}: eval_type must be pass_and_fail or fail_only")
    timeout = tests_t.get("timeout", 1800)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise TaskError(f"{spec_path}: tests.timeout must be a positive number of seconds")
    fail_to_pass = _strings(tests_t.get("fail_to_pass"), "tests.fail_to_pass", spec_path)
    if not fail_to_pass:
        raise TaskError(f"{spec_path}: tests.fail_to_pass must name at least one test")

    statement = _string(data, "problem_statement", spec_path) or _read_optional(folder / "problem.md") or ""
    return Task(
        id=task_id,
        repo=_string(data, "repo", spec_path, task_id),
        source=RepoSource(kind, location),  # type: ignore[arg-type]
        base_commit=_string(data, "base_commit", spec_path),
        problem_statement=statement,
        version=_string(data, "version", spec_path),
        env=env,
        test_command=command,
        test_files=_strings(tests_t.get("files"), "tests.files", spec_path),
        fail_to_pass=fail_to_pass,
        pass_to_pass=_strings(tests_t.get("pass_to_pass"), "tests.pass_to_pass", spec_path),
        log_parser=parser,
        eval_type=eval_type,  # type: ignore[arg-type]
        gold_patch=_read_optional(folder / "solution.patch"),
        test_patch=_read_optional(folder / "tests.patch"),
        timeout_s=float(timeout),
        metadata={"folder": str(folder)},
    )


def load_task_folders(path: str | Path) -> list[Task]:
    """A task folder, or a folder of task folders (each subfolder with a task.toml)."""
    path = Path(path)
    if (path / TASK_FILE).is_file():
        return [load_task_folder(path)]
    if not path.is_dir():
        raise TaskError(f"{path}: not a folder")
    folders = sorted(p for p in path.iterdir() if (p / TASK_FILE).is_file())
    if not folders:
        raise TaskError(f"{path}: no {TASK_FILE} here or in its subfolders")
    tasks = [load_task_folder(p) for p in folders]
    seen: set[str] = set()
    for t in tasks:
        if t.id in seen:
            raise TaskError(f"{path}: two tasks with id {t.id}")
        seen.add(t.id)
    return tasks

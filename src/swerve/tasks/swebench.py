"""SWE-bench instances and predictions, read from local files.

Instances: ``.parquet``, ``.jsonl`` or ``.json`` (a list, one object, or an object keyed by id),
with the classic fields and the v5 ones (``image``, ``eval_script``, ``log_parser``,
``eval_type``); FAIL_TO_PASS / PASS_TO_PASS as JSON-encoded strings or as lists.

Predictions: ``.jsonl``, a ``.json`` list, or a ``.json`` object keyed by instance id; each record
``{"instance_id", "model_name_or_path", "model_patch"}``. "gold" builds them from the instances.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from swerve.errors import TaskError
from swerve.tasks.grading.parsers import REPO_PARSERS
from swerve.tasks.model import EnvSpec, RepoSource, Task
from swerve.tasks.specs import instance_pins, spec_for, test_command_for

GOLD_MODEL = "gold"
_REQUIRED = ("instance_id", "repo", "base_commit")
_KNOWN = {
    "instance_id",
    "repo",
    "base_commit",
    "patch",
    "test_patch",
    "problem_statement",
    "version",
    "FAIL_TO_PASS",
    "PASS_TO_PASS",
    "eval_script",
    "log_parser",
    "eval_type",
    "image",
    "environment",
    "source",
}
_DIFF_HEADER = re.compile(r"^diff --git a/(\S+) b/(\S+)", re.M)


@dataclass(frozen=True)
class Prediction:
    instance_id: str
    model_name_or_path: str
    model_patch: str | None

    @property
    def is_empty(self) -> bool:
        return not self.model_patch or not self.model_patch.strip()

    def to_json(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "model_name_or_path": self.model_name_or_path,
            "model_patch": self.model_patch,
        }


# -- reading files --------------------------------------------------------------------------------


def _read_json_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise TaskError(f"{path}: not UTF-8 text ({exc})") from None
    except json.JSONDecodeError as exc:
        raise TaskError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    records = []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise TaskError(f"{path}: not UTF-8 text ({exc})") from None
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TaskError(f"{path}:{n}: invalid JSON: {exc.msg}") from None
        if not isinstance(record, dict):
            raise TaskError(f"{path}:{n}: expected a JSON object, got {type(record).__name__}")
        records.append(record)
    return records


def _read_parquet(path: Path) -> list[dict[str, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise TaskError(f"{path}: reading .parquet needs pyarrow (pip install 'swerve[tasks]')") from None
    try:
        return pq.read_table(path).to_pylist()
    except Exception as exc:  # pyarrow raises its own error types for damaged files
        raise TaskError(f"{path}: cannot read parquet: {exc}") from None


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """The raw records of an instance or prediction file, by extension."""
    p = Path(path)
    if not p.is_file():
        raise TaskError(f"{p}: no such file")
    suffix = p.suffix.lower()
    if suffix == ".parquet":
        return _read_parquet(p)
    if suffix == ".jsonl":
        return _read_jsonl(p)
    if suffix == ".json":
        data = _read_json_file(p)
        if isinstance(data, list):
            bad = [i for i, r in enumerate(data) if not isinstance(r, dict)]
            if bad:
                raise TaskError(f"{p}: item {bad[0]} is not a JSON object")
            return data
        if isinstance(data, dict):
            if "instance_id" in data:
                return [data]
            records = []
            for key, value in data.items():
                if not isinstance(value, dict):
                    raise TaskError(f"{p}: value for {key!r} is not a JSON object")
                records.append({"instance_id": key, **value})
            return records
        raise TaskError(f"{p}: expected a JSON list or object")
    raise TaskError(f"{p}: unsupported file type {suffix or '(none)'} (use .parquet, .jsonl or .json)")


# -- instances ------------------------------------------------------------------------------------


def _test_list(value: Any, field: str, iid: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise TaskError(f"{iid}: {field} is not a JSON list") from None
    if not isinstance(value, list | tuple) or not all(isinstance(t, str) for t in value):
        raise TaskError(f"{iid}: {field} must be a list of test ids")
    return tuple(value)


def files_in_patch(test_patch: str | None) -> tuple[str, ...]:
    """The files a test patch touches, in order, each once."""
    files: list[str] = []
    for m in _DIFF_HEADER.finditer(test_patch or ""):
        if m.group(2) not in files:
            files.append(m.group(2))
    return tuple(files)


def _text(record: dict[str, Any], key: str, iid: str) -> str:
    value = record.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TaskError(f"{iid}: {key} must be a string")
    return value


def _env_from_record(value: Any, iid: str) -> EnvSpec:
    """swerve's extension: an instance may carry its own ``environment`` (python, pins, pre_install,
    install, system_tools, variables), for repositories our spec table does not know."""
    if not isinstance(value, dict):
        raise TaskError(f"{iid}: environment must be an object")
    lists = {}
    for key in ("pins", "pre_install", "install", "system_tools", "build_pins", "optional_files"):
        items = value.get(key) or []
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise TaskError(f"{iid}: environment.{key} must be a list of strings")
        lists[key] = tuple(items)
    variables = value.get("variables") or {}
    if not isinstance(variables, dict):
        raise TaskError(f"{iid}: environment.variables must be an object")
    python = value.get("python") or ""
    if not isinstance(python, str):
        raise TaskError(f'{iid}: environment.python must be a string like "3.11"')
    return EnvSpec(
        python=python, eval_env=tuple(sorted((str(k), str(v)) for k, v in variables.items())), **lists
    )


def _source_from_record(value: Any, iid: str, base: Path | None) -> RepoSource:
    """swerve's extension: ``source`` {"kind": "git", "location": PATH-or-URL} names the repository
    (a relative path is taken from the dataset file's folder); without it, --repos is searched."""
    if not value:
        return RepoSource("snapshot")
    if (
        not isinstance(value, dict)
        or value.get("kind") != "git"
        or not isinstance(value.get("location"), str)
    ):
        raise TaskError(f'{iid}: source must be {{"kind": "git", "location": PATH-or-URL}}')
    location = value["location"]
    if base is not None and "://" not in location and not Path(location).is_absolute():
        location = str((base / location).resolve())
    return RepoSource("git", location)


def task_from_instance(record: dict[str, Any], *, base: Path | None = None) -> Task:
    """One SWE-bench instance as a Task."""
    iid = record.get("instance_id")
    if not isinstance(iid, str) or not iid:
        raise TaskError(f"instance without an instance_id: keys {sorted(record)[:8]}")
    missing = [k for k in _REQUIRED if not record.get(k)]
    if missing:
        raise TaskError(f"{iid}: missing {', '.join(missing)}")
    repo = _text(record, "repo", iid)
    version = str(record.get("version") or "")
    parser = _text(record, "log_parser", iid) or REPO_PARSERS.get(repo, "pytest")
    eval_type = _text(record, "eval_type", iid) or "pass_and_fail"
    if eval_type not in ("pass_and_fail", "fail_only"):
        raise TaskError(f"{iid}: unknown eval_type {eval_type!r}")
    spec = spec_for(repo, version)
    env = _env_from_record(record.get("environment"), iid) if record.get("environment") else None
    test_patch = _text(record, "test_patch", iid) or None
    return Task(
        id=iid,
        repo=repo,
        source=_source_from_record(record.get("source"), iid, base),
        base_commit=_text(record, "base_commit", iid),
        problem_statement=_text(record, "problem_statement", iid),
        version=version,
        env=env or (replace(spec.env_spec(), instance_pins=instance_pins(iid)) if spec else None),
        test_command=test_command_for(repo, version),
        test_files=files_in_patch(test_patch),
        eval_script=_text(record, "eval_script", iid),
        fail_to_pass=_test_list(record.get("FAIL_TO_PASS"), "FAIL_TO_PASS", iid),
        pass_to_pass=_test_list(record.get("PASS_TO_PASS"), "PASS_TO_PASS", iid),
        log_parser=parser,
        eval_type=eval_type,  # type: ignore[arg-type]
        gold_patch=_text(record, "patch", iid) or None,
        test_patch=test_patch,
        image=_text(record, "image", iid),
        metadata={k: v for k, v in record.items() if k not in _KNOWN and v is not None},
    )


def load_instances(path: str | Path) -> list[Task]:
    """Every instance of a dataset file, as Tasks; duplicate ids are an error."""
    base = Path(path).resolve().parent
    tasks = [task_from_instance(r, base=base) for r in read_records(path)]
    seen: set[str] = set()
    for t in tasks:
        if t.id in seen:
            raise TaskError(f"{path}: instance {t.id} appears twice")
        seen.add(t.id)
    return tasks


# -- predictions ----------------------------------------------------------------------------------


def load_predictions(path: str | Path) -> dict[str, Prediction]:
    """Predictions keyed by instance id, from any of SWE-bench's three prediction formats."""
    out: dict[str, Prediction] = {}
    for n, record in enumerate(read_records(path)):
        iid = record.get("instance_id")
        if not isinstance(iid, str) or not iid:
            raise TaskError(f"{path}: prediction {n} has no instance_id")
        patch = record.get("model_patch")
        if patch is not None and not isinstance(patch, str):
            raise TaskError(f"{path}: {iid}: model_patch must be a string or null")
        model = record.get("model_name_or_path") or Path(path).stem
        if not isinstance(model, str):
            raise TaskError(f"{path}: {iid}: model_name_or_path must be a string")
        if iid in out:
            raise TaskError(f"{path}: two predictions for {iid}")
        out[iid] = Prediction(iid, model, patch)
    return out


def gold_predictions(tasks: list[Task]) -> dict[str, Prediction]:
    """Each task's own fix as its prediction, under the model name "gold"."""
    return {t.id: Prediction(t.id, GOLD_MODEL, t.gold_patch) for t in tasks}


def check_prediction_ids(predictions: dict[str, Prediction], tasks: list[Task]) -> None:
    """Predictions for ids that are not in the dataset are an error, as in SWE-bench."""
    known = {t.id for t in tasks}
    unknown = sorted(set(predictions) - known)
    if unknown:
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise TaskError(f"predictions for instances not in the dataset: {', '.join(unknown[:5])}{more}")

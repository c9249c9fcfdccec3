"""Export a run's trajectory records to Parquet for dataset tooling: one row per episode.

Scalar fields become flat columns; the nested parts (``messages``, ``turns``, ``verdict``,
``sampling``) are JSON strings, so every row has the same schema whatever the tools and tasks were.
pyarrow is imported only here (``pip install 'swerve[tasks]'``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from swerve.errors import StoreError
from swerve.gym.store import EPISODES, read_manifest, read_records

ROWS_PER_GROUP = 256
COLUMN_TIMINGS = ("episode_s", "duration_s", "reset_s", "model_s", "env_s", "verify_s")
INT64 = 2**63

# (column, arrow type name) in the order written
COLUMNS: tuple[tuple[str, str], ...] = (
    ("key", "string"),
    ("task_id", "string"),
    ("sample", "int64"),
    ("group_id", "string"),
    ("attempt", "int64"),
    ("run_id", "string"),
    ("worker", "string"),
    ("infra_retries", "list<string>"),
    ("id", "string"),
    ("schema", "string"),
    ("instance_id", "string"),
    ("model", "string"),
    ("reward", "float64"),
    ("resolved", "bool"),
    ("exit_reason", "string"),
    ("infra_error", "string"),
    ("error", "string"),
    ("num_turns", "int64"),
    ("input_tokens", "int64"),
    ("output_tokens", "int64"),
    ("cache_read_tokens", "int64"),
    ("episode_s", "float64"),
    ("duration_s", "float64"),
    ("reset_s", "float64"),
    ("model_s", "float64"),
    ("env_s", "float64"),
    ("verify_s", "float64"),
    ("started_at", "string"),
    ("ended_at", "string"),
    ("task", "string"),
    ("result", "string"),
    ("patch", "string"),
    ("messages", "string"),
    ("turns", "string"),
    ("verdict", "string"),
    ("sampling", "string"),
)


class ExportError(StoreError):
    """The export could not be written; no partial file is left at the destination."""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = int(value)
    except (OverflowError, ValueError):
        return None
    return number if -INT64 <= number < INT64 else None


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)


def record_row(record: dict[str, Any]) -> dict[str, Any]:
    """One record as a flat row (missing fields are null)."""
    episode = _dict(record.get("episode"))
    timing = _dict(record.get("timing"))
    usage = _dict(record.get("usage"))
    model = _dict(record.get("model"))
    verdict = record.get("verdict")
    resolved = _dict(verdict).get("resolved")
    retries = episode.get("infra_retries")
    return {
        "key": _str(episode.get("key")),
        "task_id": _str(episode.get("task_id")),
        "sample": _int(episode.get("sample")),
        "group_id": _str(episode.get("group_id")),
        "attempt": _int(episode.get("attempt")),
        "run_id": _str(episode.get("run_id")),
        "worker": _str(episode.get("worker")),
        "infra_retries": [str(r) for r in retries] if isinstance(retries, list) else None,
        "id": _str(record.get("id")),
        "schema": _str(record.get("schema")),
        "instance_id": _str(record.get("instance_id")),
        "model": _str(model.get("name")) if model else _str(record.get("model")),
        "reward": _float(record.get("reward")),
        "resolved": resolved if isinstance(resolved, bool) else None,
        "exit_reason": _str(record.get("exit_reason")),
        "infra_error": _str(record.get("infra_error")),
        "error": _str(record.get("error")),
        "num_turns": _int(record.get("num_turns")),
        "input_tokens": _int(usage.get("input_tokens")),
        "output_tokens": _int(usage.get("output_tokens")),
        "cache_read_tokens": _int(usage.get("cache_read_tokens")),
        **{name: _float(timing.get(name)) for name in COLUMN_TIMINGS},
        "started_at": _str(record.get("started_at")),
        "ended_at": _str(record.get("ended_at")),
        "task": _str(record.get("task")),
        "result": _str(record.get("result")),
        "patch": _str(record.get("patch")),
        "messages": _json(record.get("messages")),
        "turns": _json(record.get("turns")),
        "verdict": _json(verdict),
        "sampling": _json(model.get("sampling")),
    }


def _schema(pa: Any) -> Any:
    types = {
        "string": pa.string(),
        "int64": pa.int64(),
        "float64": pa.float64(),
        "bool": pa.bool_(),
        "list<string>": pa.list_(pa.string()),
    }
    return pa.schema([pa.field(name, types[kind]) for name, kind in COLUMNS])


def _batches(records: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for record in records:
        batch.append(record_row(record))
        if len(batch) >= ROWS_PER_GROUP:
            yield batch
            batch = []
    if batch:
        yield batch


def export_parquet(out_dir: str | os.PathLike[str], path: str | os.PathLike[str]) -> int:
    """Write every episode of the run in ``out_dir`` to the Parquet file ``path``; returns the rows.

    The file is written beside ``path`` under a temporary name and renamed into place at the end,
    so ``path`` is either the complete export or untouched."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as e:
        raise ExportError(f"Parquet export needs pyarrow: pip install 'swerve[tasks]' ({e})") from e
    out = Path(out_dir)
    if read_manifest(out) is None and not (out / EPISODES).exists():
        raise StoreError(f"{out} holds no run (no {EPISODES} or manifest.json)")
    dest = Path(path)
    if dest.is_dir():
        raise ExportError(f"{dest} is a directory; give a file name such as {dest / 'episodes.parquet'}")
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    schema = _schema(pa)
    rows = 0
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for batch in _batches(read_records(out)):
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                rows += len(batch)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except (OSError, ValueError, pa.ArrowException) as e:
        raise ExportError(f"cannot write {dest}: {e}") from e
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:  # the folder itself is unusable: nothing was written there
            pass
    return rows

"""The run store: an append-only JSONL of trajectory records plus a run manifest, resumable after a crash.

A run directory holds ``episodes.jsonl`` (one trajectory record per line, each write flushed and
fsynced before ``append`` returns), ``manifest.json`` (run id, timestamps, the run's configuration and
counts) and ``.lock`` (held with ``flock`` by the one process writing the run). Re-opening a run
resumes it: the episodes already stored are reported by ``finished_keys()`` and an episode is never
stored twice.

Which record counts for a key (the same rule for every reader): the first record with a reward is
final; a key with only infrastructure-error records is represented by the last of them. So an
infrastructure error re-run with ``retry_infra=True`` is superseded by its new record, while a
duplicate written by an older version keeps the first copy (and is reported).
"""

from __future__ import annotations

import asyncio
import datetime
import errno
import fcntl
import json
import logging
import math
import os
import socket
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swerve.errors import StoreError

log = logging.getLogger(__name__)

MANIFEST_SCHEMA = "swerve.run/1"
EPISODES = "episodes.jsonl"
MANIFEST = "manifest.json"
LOCK = ".lock"
TORN_PREFIX = EPISODES + ".torn-"
PREVIOUS_PREFIX = "previous-"
MAX_PROBLEMS = 100  # problem messages kept in memory; the rest are only counted
IDENTITY = ("source", "model", "sampling", "samples")  # what must match to resume a run


def utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")


# --- reading -------------------------------------------------------------------------------------


@dataclass
class _Entry:
    """Where a key's effective record lies in the file."""

    offset: int
    length: int
    final: bool  # has a reward; False for an infrastructure error


@dataclass
class Scan:
    """What a pass over ``episodes.jsonl`` found (nothing is changed by scanning)."""

    entries: dict[str, _Entry] = field(default_factory=dict)
    end: int = 0  # offset just past the last complete line
    size: int = 0  # file size when scanned; size > end means a torn last line
    lines: int = 0
    duplicates: int = 0  # extra records of an already final key (first kept)
    superseded: int = 0  # infrastructure-error records replaced by a later record of the key
    skipped: int = 0  # complete lines that are not usable records
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)
        elif len(self.problems) == MAX_PROBLEMS:
            self.problems.append("(more problems not listed)")

    @property
    def torn(self) -> bool:
        return self.size > self.end


def record_outcome(record: Any) -> tuple[str, bool]:
    """The key and whether the record is final (a reward) or an infrastructure error.
    Raises ValueError saying what is wrong with a record that is neither."""
    if not isinstance(record, dict):
        raise ValueError(f"a record must be a JSON object, not {type(record).__name__}")
    episode = record.get("episode")
    if not isinstance(episode, dict):
        raise ValueError("the record has no 'episode' object")
    key = episode.get("key")
    if not isinstance(key, str) or not key:
        raise ValueError("the record has no episode key ('episode.key')")
    if "task_id" in episode and "sample" in episode:
        expected = f"{episode['task_id']}#{episode['sample']}"
        if key != expected:
            raise ValueError(f"episode key {key!r} does not match task_id#sample {expected!r}")
    reward = record.get("reward")
    infra = record.get("infra_error")
    has_reward = isinstance(reward, int | float) and not isinstance(reward, bool)
    if has_reward and not math.isfinite(reward):
        raise ValueError(f"episode {key}: reward {reward!r} is not a finite number")
    if reward is not None and not has_reward:
        raise ValueError(f"episode {key}: reward {reward!r} is not a number")
    has_infra = infra is not None and infra != ""
    if has_infra and not isinstance(infra, str):
        raise ValueError(f"episode {key}: infra_error must be a string")
    if has_reward == has_infra:
        both = "both" if has_reward else "neither"
        raise ValueError(f"episode {key}: a record needs exactly one of reward or infra_error, it has {both}")
    return key, has_reward


def scan_episodes(path: Path) -> Scan:
    """Index ``path`` without changing it: the effective record of every key, problems, torn tail."""
    scan = Scan()
    if not path.exists():
        return scan
    with open(path, "rb") as f:
        offset = 0
        for number, line in enumerate(f, start=1):
            if not line.endswith(b"\n"):
                break  # a torn last line: left to the writer to move aside
            scan.lines = number
            _index_line(scan, number, line, offset)
            offset += len(line)
        scan.end = offset
        scan.size = f.seek(0, os.SEEK_END)
    return scan


def _index_line(scan: Scan, number: int, line: bytes, offset: int) -> None:
    if not line.strip():
        return
    try:
        record = json.loads(line)
        key, final = record_outcome(record)
    except ValueError as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        scan.skipped += 1
        scan.problem(f"line {number}: skipped: {str(e)[:200]}")
        return
    known = scan.entries.get(key)
    entry = _Entry(offset, len(line), final)
    if known is None:
        scan.entries[key] = entry
    elif known.final:
        scan.duplicates += 1
        scan.problem(f"line {number}: duplicate record of episode {key}; the first is kept")
    else:
        scan.superseded += 1
        del scan.entries[key]  # re-insert so that order follows the file
        scan.entries[key] = entry


def _read_entries(path: Path, entries: Iterable[_Entry]) -> Iterator[dict[str, Any]]:
    with open(path, "rb") as f:
        for entry in sorted(entries, key=lambda e: e.offset):
            f.seek(entry.offset)
            yield json.loads(f.read(entry.length))


def read_records(out_dir: str | os.PathLike[str], scan: Scan | None = None) -> Iterator[dict[str, Any]]:
    """The effective record of every episode of a run, in file order, without taking the lock
    (safe while a writer appends: lines written after the scan and a torn tail are not read).
    ``scan``: a ``scan_episodes`` of the run's episodes file already made."""
    path = Path(out_dir) / EPISODES
    if scan is None:
        scan = scan_episodes(path)
    yield from _read_entries(path, list(scan.entries.values()))


def read_manifest(out_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The run's manifest, or None when there is none; StoreError when it is not valid JSON."""
    path = Path(out_dir) / MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as e:
        raise StoreError(f"cannot read {path}: {e}") from e
    try:
        manifest = json.loads(text)
    except ValueError as e:
        raise StoreError(f"{path} is not valid JSON ({e}); fix it or move it aside") from e
    if not isinstance(manifest, dict):
        raise StoreError(f"{path} is not a JSON object; fix it or move it aside")
    return manifest


# --- configuration identity --------------------------------------------------------------------------


def model_name(config: dict[str, Any]) -> Any:
    """The model a configuration names: ``model`` (a name, or a dict with name/model) or ``agent.model``."""
    model = config.get("model")
    if isinstance(model, dict):
        model = model.get("name", model.get("model"))
    if model is None and isinstance(config.get("agent"), dict):
        model = config["agent"].get("model")
    return model


def run_identity(config: dict[str, Any]) -> dict[str, Any]:
    """The parts of a run's configuration that must match to resume it (JSON-normalised)."""
    sampling = config.get("sampling")
    if sampling is None and isinstance(config.get("agent"), dict):
        sampling = config["agent"].get("sampling")
    identity = {
        "source": config.get("source"),
        "model": model_name(config),
        "sampling": sampling or None,
        "samples": config.get("samples"),
    }
    return json.loads(json.dumps(identity, sort_keys=True, default=str))


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 160 else text[:157] + "..."


def identity_differences(stored: dict[str, Any], given: dict[str, Any]) -> list[str]:
    """Lines saying how two configurations differ in what identifies a run (empty when they match)."""
    old, new = run_identity(stored), run_identity(given)
    lines = []
    for name in IDENTITY:
        if old[name] == new[name]:
            continue
        if isinstance(old[name], dict) and isinstance(new[name], dict):
            for sub in sorted(set(old[name]) | set(new[name])):
                if old[name].get(sub) != new[name].get(sub):
                    was, now = _short(old[name].get(sub)), _short(new[name].get(sub))
                    lines.append(f"{name}.{sub}: stored {was}, given {now}")
        else:
            lines.append(f"{name}: stored {_short(old[name])}, given {_short(new[name])}")
    return lines


# --- files ----------------------------------------------------------------------------------------


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json_atomic(path: Path, obj: Any) -> None:
    data = (json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n").encode()
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _free_name(directory: Path, prefix: str) -> Path:
    n = 1
    while (directory / f"{prefix}{n}").exists():
        n += 1
    return directory / f"{prefix}{n}"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


# --- the store ------------------------------------------------------------------------------------


class RunStore:
    """One run directory, opened by one writer. Use ``RunStore.open``; close it (or use ``with``)."""

    def __init__(self, out_dir: Path, lock_fd: int, *, retry_infra: bool) -> None:
        self.out_dir = out_dir
        self.path = out_dir / EPISODES
        self.retry_infra = retry_infra
        self.manifest: dict[str, Any] = {}
        self.problems: list[str] = []  # what opening found and repaired or skipped, for the user
        self.torn_files: list[Path] = []  # torn tails moved aside when opening
        self.moved_to: Path | None = None  # where resume=False moved an earlier run
        self._lock_fd: int | None = lock_fd
        self._fd: int | None = None
        self._entries: dict[str, _Entry] = {}
        self._end = 0
        self._this_session: set[str] = set()
        self._planned: list[str] | None = None
        self._mutex = threading.Lock()

    # opening

    @classmethod
    def open(
        cls,
        out_dir: str | os.PathLike[str],
        config: dict[str, Any],
        *,
        planned_keys: list[str] | None = None,
        resume: bool = True,
        retry_infra: bool = False,
    ) -> RunStore:
        """Create the run in ``out_dir`` or reopen it.

        ``resume=True`` continues a run already there, whose configuration must match ``config`` in
        source, model, sampling and samples (StoreError saying what differs otherwise).
        ``resume=False`` starts a new run: an earlier run's files are moved to ``out_dir/previous-<n>/``.
        ``retry_infra=True`` treats stored infrastructure errors as not finished, so they run again.
        A torn last line (a writer killed mid-append) is moved to ``episodes.jsonl.torn-<n>``.
        """
        if not isinstance(config, dict):
            raise StoreError("the run configuration must be a dict")
        try:
            config = json.loads(json.dumps(config))
        except (TypeError, ValueError) as e:
            raise StoreError(f"the run configuration is not JSON-able: {e}") from e
        out = Path(out_dir)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"cannot create the run directory {out}: {e}") from e
        if not out.is_dir():
            raise StoreError(f"{out} is not a directory")
        store = cls(out, _take_lock(out), retry_infra=retry_infra)
        try:
            store._open(config, planned_keys, resume)
        except BaseException:
            store._release()
            raise
        return store

    def _open(self, config: dict[str, Any], planned_keys: list[str] | None, resume: bool) -> None:
        out = self.out_dir
        if not resume:
            self._move_aside()  # even an unreadable manifest: nothing is lost, nothing is read
        manifest = read_manifest(out)
        has_episodes = self.path.exists() and self.path.stat().st_size > 0
        if manifest is None and has_episodes:
            raise StoreError(
                f"{self.path} has records but {out / MANIFEST} is missing, so the run cannot be checked; "
                "open with resume=False to start a new run (the old files are moved aside)"
            )
        if manifest is not None:
            stored_config = manifest.get("config") if isinstance(manifest.get("config"), dict) else {}
            differences = identity_differences(stored_config, config)
            if differences:
                raise StoreError(
                    f"{out} holds a different run ({manifest.get('run_id')}):\n  "
                    + "\n  ".join(differences)
                    + "\nUse another output directory, or open with resume=False to start a new run here "
                    "(the old run is moved to previous-<n>/)."
                )
        scan = scan_episodes(self.path)
        if scan.torn:
            self._cut_torn_tail(scan)
        self.problems.extend(scan.problems)
        listed = sum("duplicate record of episode" in p for p in scan.problems)
        if scan.duplicates > listed:  # each is listed once; only what the list left out is counted
            self.problems.append(
                f"{scan.duplicates - listed} more duplicate record(s) ignored (the first of each kept)"
            )
        for problem in self.problems:
            log.warning("%s: %s", self.path, problem)
        self._entries = scan.entries
        self._end = scan.end
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as e:
            raise StoreError(f"cannot open {self.path} for appending: {e}") from e
        self._planned = list(planned_keys) if planned_keys is not None else None
        self.manifest = self._next_manifest(manifest, config)
        self._write_manifest()

    def _move_aside(self) -> None:
        names = [MANIFEST, EPISODES, *sorted(p.name for p in self.out_dir.glob(TORN_PREFIX + "*"))]
        present = [n for n in names if (self.out_dir / n).exists()]
        if not present:
            return
        dest = _free_name(self.out_dir, PREVIOUS_PREFIX)
        dest.mkdir()
        for name in present:
            os.replace(self.out_dir / name, dest / name)
        _fsync_dir(self.out_dir)
        self.moved_to = dest
        self.problems.append(f"the earlier run was moved to {dest}")

    def _cut_torn_tail(self, scan: Scan) -> None:
        """Keep the bytes of a torn last line in a side file, then cut them off the store."""
        torn = _free_name(self.out_dir, TORN_PREFIX)
        with open(self.path, "rb") as f:
            f.seek(scan.end)
            tail = f.read()
        with open(torn, "xb") as f:
            f.write(tail)
            f.flush()
            os.fsync(f.fileno())
        with open(self.path, "r+b") as f:
            f.truncate(scan.end)
            os.fsync(f.fileno())
        _fsync_dir(self.out_dir)
        self.torn_files.append(torn)
        self.problems.append(
            f"a torn last record ({len(tail)} bytes, a writer killed mid-append) was moved to {torn.name}; "
            "its episode will run again"
        )

    def _next_manifest(self, old: dict[str, Any] | None, config: dict[str, Any]) -> dict[str, Any]:
        now = utc_now()
        session = {"opened_at": now, "pid": os.getpid(), "host": socket.gethostname()}
        session["retry_infra"] = self.retry_infra
        if old is None:
            run_id = str(config.get("run_id") or f"{now[:10]}-{uuid.uuid4().hex[:8]}")
            return {
                "schema": MANIFEST_SCHEMA,
                "run_id": run_id,
                "created_at": now,
                "updated_at": now,
                "config": config,
                "counts": {},
                "progress": {},
                "sessions": [session],
            }
        manifest = dict(old)
        old_config = old.get("config") if isinstance(old.get("config"), dict) else {}
        changed = {
            key: {"was": old_config.get(key), "now": config.get(key)}
            for key in sorted(set(old_config) | set(config))
            if old_config.get(key) != config.get(key)
        }
        if changed:
            session["changed"] = changed
        sessions = old.get("sessions") if isinstance(old.get("sessions"), list) else []
        manifest.update(
            run_id=str(old.get("run_id") or f"{now[:10]}-{uuid.uuid4().hex[:8]}"),
            updated_at=now,
            config=config,
            sessions=[*sessions, session],
        )
        manifest.setdefault("created_at", now)
        return manifest

    # queries

    @property
    def run_id(self) -> str:
        return str(self.manifest["run_id"])

    def finished_keys(self) -> set[str]:
        """Keys ("<task_id>#<sample>") of the episodes that need not run again."""
        with self._mutex:
            if not self.retry_infra:
                return set(self._entries)
            return {k for k, e in self._entries.items() if e.final or k in self._this_session}

    def pending(self, keys: Iterable[str]) -> list[str]:
        """Those of ``keys`` not finished, in the given order."""
        finished = self.finished_keys()
        return [k for k in keys if k not in finished]

    def counts(self) -> dict[str, int]:
        """What the file holds: episodes stored, with a reward, with an infrastructure error; and planned."""
        with self._mutex:
            finished = len(self._entries)
            rewarded = sum(1 for e in self._entries.values() if e.final)
            counts = {"finished": finished, "rewarded": rewarded, "infra_errors": finished - rewarded}
            if self._planned is not None:
                counts["planned"] = len(self._planned)
                counts["pending"] = sum(1 for k in set(self._planned) if k not in self._entries)
            elif isinstance(self.manifest.get("counts"), dict) and "planned" in self.manifest["counts"]:
                counts["planned"] = self.manifest["counts"]["planned"]
            return counts

    def records(self) -> Iterator[dict[str, Any]]:
        """The effective record of every stored episode, in file order (see the module docstring)."""
        with self._mutex:
            entries = list(self._entries.values())
        return _read_entries(self.path, entries)

    # writing

    def append(self, record: dict[str, Any]) -> None:
        """Store one episode's final record, durably (flushed and fsynced) before returning.

        StoreError, with nothing written, when the record is not valid (no episode key, not exactly
        one of reward / infra_error, not JSON-able) or when its episode is already stored."""
        try:
            key, final = record_outcome(record)
            data = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
        except (TypeError, ValueError) as e:
            raise StoreError(f"record not stored: {e}") from e
        data += b"\n"
        with self._mutex:
            if self._fd is None:
                raise StoreError(f"record {key} not stored: the store is closed")
            known = self._entries.get(key)
            if known is not None and (known.final or not self.retry_infra or key in self._this_session):
                raise StoreError(f"record not stored: episode {key} is already stored in {self.path}")
            try:
                _write_all(self._fd, data)
                os.fsync(self._fd)
            except OSError as e:
                self._undo_partial_write(e)
                raise StoreError(f"record {key} not stored: {e}") from e
            self._entries.pop(key, None)
            self._entries[key] = _Entry(self._end, len(data), final)
            self._end += len(data)
            self._this_session.add(key)

    def _undo_partial_write(self, error: OSError) -> None:
        assert self._fd is not None
        try:
            os.ftruncate(self._fd, self._end)
            os.fsync(self._fd)
        except OSError:  # the torn tail is then cut when the run is next opened
            log.warning("%s: could not cut a partial write after %s", self.path, error)

    async def append_async(self, record: dict[str, Any]) -> None:
        """``append`` in a worker thread, so that the event loop does not wait for the disk."""
        await asyncio.to_thread(self.append, record)

    def update_manifest(self, **progress: Any) -> None:
        """Record the caller's progress figures (any JSON-able values) and the current counts."""
        try:
            progress = json.loads(json.dumps(progress, allow_nan=False))
        except (TypeError, ValueError) as e:
            raise StoreError(f"manifest not updated: the figures are not JSON-able: {e}") from e
        if self._lock_fd is None:
            raise StoreError("manifest not updated: the store is closed")
        self.manifest["progress"] = progress
        self._write_manifest()

    def _write_manifest(self) -> None:
        self.manifest["counts"] = self.counts()
        self.manifest["updated_at"] = utc_now()
        try:
            _write_json_atomic(self.out_dir / MANIFEST, self.manifest)
        except OSError as e:
            raise StoreError(f"cannot write {self.out_dir / MANIFEST}: {e}") from e

    def close(self) -> None:
        """Write the final counts to the manifest and release the run directory; safe to call twice."""
        if self._lock_fd is None:
            return
        try:
            self._write_manifest()
        finally:
            self._release()

    def _release(self) -> None:
        with self._mutex:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            if self._lock_fd is not None:
                os.close(self._lock_fd)  # closing the only descriptor releases the flock
                self._lock_fd = None

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RunStore({str(self.out_dir)!r}, episodes={len(self._entries)})"


def _take_lock(out: Path) -> int:
    """Hold ``out/.lock`` exclusively for this process; StoreError naming the holder when taken."""
    path = out / LOCK
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as e:
        raise StoreError(f"cannot open the lock file {path}: {e}") from e
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise StoreError(
                f"run directory {out} is in use by another writer ({holder}); "
                "only one process may write a run at a time"
            ) from None
        raise StoreError(f"cannot lock {path}: {e}") from e
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
    return fd

"""Where the farm's environments come from.

An ``EnvSource`` names tasks and makes a fresh ``Env`` for one of them. Sources are plain data
(they pickle, and cross to Ray workers); whatever is live (the evaluation harness, prepared
layers) is made in the process that uses it.

- ``DirectorySource``: plain directories, each with a verification command (``DirectoryEnv``).
- ``TaskSource``: swerve Tasks (SWE-bench instances, the built-in suite, task folders), graded
  as ``swerve eval`` grades (``TaskEnv``).
- ``load_source(spec)``: the source the command line names.

Directory environments are described by a JSONL file (one object a line), a JSON file (a list of
objects, or one object), or a folder of folders each holding an ``env.json``::

    {"id": "hello", "path": "hello/repo", "verify": "python3 -m pytest -q", "prompt": "Make the tests pass."}

``id`` (default in a folder: the folder's name), ``path`` (the starting state, a directory; relative
paths are taken from the file's folder; default in a folder: its ``repo`` subfolder), ``verify`` (a
shell command run in a copy of the final state, in the directory's root; exit 0 is reward 1.0),
``prompt`` (the task statement; in a folder, ``prompt.md`` may hold it instead), and optionally
``verify_timeout_s``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from swerve.eval.harness import Harness
    from swerve.gym.base import Env
    from swerve.gym.env import LayerCache
    from swerve.tasks.model import Task

ENV_FILE = "env.json"
PROMPT_FILE = "prompt.md"
DEFAULT_VERIFY_TIMEOUT_S = 600.0
DEFAULT_COMMAND_TIMEOUT_S = 600.0
_OVERLAY_UNSAFE = (",", ":", "\\", "\n")


class EnvSource(Protocol):
    """Tasks by id, and a fresh environment for any of them."""

    def task_ids(self) -> list[str]: ...

    def prompt(self, task_id: str) -> str: ...

    def affinity(self, task_id: str) -> str:
        """Episodes with equal keys share environment layers (schedule them together)."""
        ...

    def make(self, task_id: str, *, exec_gate: asyncio.Semaphore | None = None, sample: int = 0) -> Env:
        """A new environment for one episode of the task (``sample``: which of its samples)."""
        ...

    def describe(self) -> dict[str, Any]:
        """What the source is, for a run's manifest (JSON-able, no secrets)."""
        ...


def _ids_digest(ids: list[str]) -> str:
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]


def _unknown(task_id: str, ids: dict[str, Any]) -> KeyError:
    return KeyError(f"unknown task {task_id!r} ({len(ids)} tasks in this source)")


# -- directories -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectoryEntry:
    """One directory environment: starting state, verification command, task statement."""

    path: str
    verify_command: str
    prompt: str
    verify_timeout_s: float | None = None


class DirectorySource:
    """Directory environments by id."""

    def __init__(
        self,
        entries: dict[str, DirectoryEntry],
        *,
        network: bool = False,
        timeout_s: float = DEFAULT_COMMAND_TIMEOUT_S,
        verify_timeout_s: float = DEFAULT_VERIFY_TIMEOUT_S,
        persistent: bool = False,
        origin: str = "",
        limits: Any = None,
    ) -> None:
        self.entries = dict(entries)
        self.network = network
        self.limits = limits  # the sandboxes' Limits (None: the defaults)
        self.timeout_s = timeout_s
        self.verify_timeout_s = verify_timeout_s
        self.persistent = persistent
        self.origin = origin

    @classmethod
    def load(cls, path: str | os.PathLike[str], **options: Any) -> DirectorySource:
        """From a JSONL or JSON file, or a folder of environment folders (see the module doc)."""
        return cls(load_directory_entries(path), origin=str(path), **options)

    def _entry(self, task_id: str) -> DirectoryEntry:
        try:
            return self.entries[task_id]
        except KeyError:
            raise _unknown(task_id, self.entries) from None

    def task_ids(self) -> list[str]:
        return list(self.entries)

    def prompt(self, task_id: str) -> str:
        return self._entry(task_id).prompt

    def affinity(self, task_id: str) -> str:
        return self._entry(task_id).path

    def make(self, task_id: str, *, exec_gate: asyncio.Semaphore | None = None, sample: int = 0) -> Env:
        from swerve.gym.env import DirectoryEnv

        entry = self._entry(task_id)
        return DirectoryEnv(
            task_id,
            entry.path,
            entry.verify_command,
            prompt=entry.prompt,
            timeout_s=self.timeout_s,
            verify_timeout_s=entry.verify_timeout_s or self.verify_timeout_s,
            network=self.network,
            limits=self.limits,
            exec_gate=exec_gate,
            persistent=self.persistent,
        )

    def describe(self) -> dict[str, Any]:
        ids = self.task_ids()
        return {
            "kind": "directories",
            "origin": self.origin,
            "tasks": len(ids),
            "task_ids_sha256": _ids_digest(ids),
            "network": self.network,
        }


def _check_entry(record: Any, where: str, base: Path, default_id: str = "") -> tuple[str, DirectoryEntry]:
    """One record as (id, entry); ValueError naming ``where`` when it is malformed."""
    if not isinstance(record, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(record).__name__}")
    known = {"id", "path", "verify", "prompt", "verify_timeout_s"}
    extra = sorted(set(record) - known)
    if extra:
        raise ValueError(f"{where}: unknown key(s) {', '.join(extra)} (known: {', '.join(sorted(known))})")
    values: dict[str, str] = {}
    for key in ("id", "path", "verify", "prompt"):
        value = record.get(key, "")
        if not isinstance(value, str):
            raise ValueError(f"{where}: {key!r} must be a string")
        values[key] = value
    task_id = values["id"] or default_id
    if not task_id.strip():
        raise ValueError(f"{where}: 'id' is required")
    if not values["verify"].strip():
        raise ValueError(f"{where}: 'verify' (the verification command) is required")
    if not values["path"]:
        raise ValueError(f"{where}: 'path' (the starting directory) is required")
    path = (base / values["path"]).resolve()
    if not path.is_dir():
        raise ValueError(f"{where}: path {path} is not a directory")
    if any(c in str(path) for c in _OVERLAY_UNSAFE):
        raise ValueError(
            f"{where}: path {path} contains one of , : \\ or a newline, which sandboxes cannot take"
        )
    timeout = record.get("verify_timeout_s")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
    ):
        raise ValueError(f"{where}: 'verify_timeout_s' must be a positive number of seconds")
    return task_id, DirectoryEntry(str(path), values["verify"], values["prompt"], timeout)


def _add(entries: dict[str, DirectoryEntry], item: tuple[str, DirectoryEntry], where: str) -> None:
    task_id, entry = item
    if task_id in entries:
        raise ValueError(f"{where}: two environments with id {task_id!r}")
    entries[task_id] = entry


def _env_folder(folder: Path) -> tuple[str, DirectoryEntry]:
    spec = folder / ENV_FILE
    try:
        record = json.loads(spec.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{spec}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{spec}: invalid JSON: {exc}") from None
    if isinstance(record, dict):
        record = dict(record)
        record.setdefault("path", "repo")
        if not record.get("prompt") and (folder / PROMPT_FILE).is_file():
            record["prompt"] = (folder / PROMPT_FILE).read_text(encoding="utf-8")
    return _check_entry(record, str(spec), folder, default_id=folder.name)


def load_directory_entries(path: str | os.PathLike[str]) -> dict[str, DirectoryEntry]:
    """Directory environments from a .jsonl/.json file or a folder (see the module doc)."""
    p = Path(path)
    entries: dict[str, DirectoryEntry] = {}
    if p.is_dir():
        if (p / ENV_FILE).is_file():
            _add(entries, _env_folder(p), str(p))
            return entries
        folders = sorted(f for f in p.iterdir() if (f / ENV_FILE).is_file())
        if not folders:
            raise ValueError(f"{p}: no {ENV_FILE} here or in its subfolders")
        for folder in folders:
            _add(entries, _env_folder(folder), str(p))
        return entries
    if not p.is_file():
        raise ValueError(f"{p}: no such file or folder")
    suffix = p.suffix.lower()
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{p}: {exc}") from None
    base = p.resolve().parent
    if suffix == ".jsonl":
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            where = f"{p}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{where}: invalid JSON: {exc}") from None
            _add(entries, _check_entry(record, where, base), where)
    elif suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{p}: invalid JSON: {exc}") from None
        records = data if isinstance(data, list) else [data]
        for index, record in enumerate(records):
            where = f"{p}[{index}]"
            _add(entries, _check_entry(record, where, base), where)
    else:
        raise ValueError(f"{p}: unsupported file type {suffix or '(none)'} (use .jsonl or .json)")
    if not entries:
        raise ValueError(f"{p}: no environments in it")
    return entries


# -- tasks -----------------------------------------------------------------------------------------


class TaskSource:
    """swerve Tasks, each in a sandbox over its instance layer, graded by the evaluation harness.

    ``repos``: folders of local repositories; ``cache``: the layer cache (default
    ``$SWERVE_CACHE``); ``sandbox``: ``namespace`` (default), ``host`` or ``docker``;
    ``timeout_s``: the tests' timeout (default: each task's own); ``log_root``: where each task's
    evaluation files go (``<log_root>/<task id>/``; None: not kept). The harness is made in the
    process that first needs it, and is not pickled.
    """

    def __init__(
        self,
        tasks: list[Task],
        *,
        repos: list[str] | tuple[str, ...] = (),
        cache: str | None = None,
        sandbox: str = "namespace",
        timeout_s: float | None = None,
        log_root: str | None = None,
        command_timeout_s: float = DEFAULT_COMMAND_TIMEOUT_S,
        origin: str = "",
        limits: Any = None,
    ) -> None:
        from swerve.eval.sandboxes import SANDBOX_NAMES

        if sandbox not in SANDBOX_NAMES:
            raise ValueError(f"unknown sandbox {sandbox!r} (use {', '.join(SANDBOX_NAMES)})")
        self.tasks: dict[str, Task] = {}
        for task in tasks:
            if task.id in self.tasks:
                raise ValueError(f"two tasks with id {task.id!r}")
            self.tasks[task.id] = task
        self.repos = [str(r) for r in repos]
        self.cache = str(cache) if cache is not None else None
        self.sandbox = sandbox
        self.timeout_s = timeout_s
        self.log_root = str(log_root) if log_root is not None else None
        self.command_timeout_s = command_timeout_s
        self.origin = origin
        self.limits = limits  # the sandboxes' Limits (None: the defaults)
        self._harness: Harness | None = None
        self._layers: LayerCache | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_harness"] = None  # live: made again where the source is used
        state["_layers"] = None
        return state

    @property
    def harness(self) -> Harness:
        """This process's harness (made on first use)."""
        if self._harness is None:
            from swerve.eval.harness import EvalOptions, Harness
            from swerve.eval.sandboxes import sandbox_named
            from swerve.gym.env import LayerCache

            options = EvalOptions(
                run_id="gym",
                repos=list(self.repos),
                timeout_s=self.timeout_s,
                cache=Path(self.cache) if self.cache else None,
                sandbox=sandbox_named(self.sandbox, limits=self.limits),
                force=True,
            )
            self._harness = Harness(options)
            self._layers = LayerCache(self._harness)
        return self._harness

    def _task(self, task_id: str) -> Task:
        try:
            return self.tasks[task_id]
        except KeyError:
            raise _unknown(task_id, self.tasks) from None

    def task_ids(self) -> list[str]:
        return list(self.tasks)

    def prompt(self, task_id: str) -> str:
        return self._task(task_id).problem_statement

    def affinity(self, task_id: str) -> str:
        task = self._task(task_id)
        return f"{task.repo}@{task.version}"

    def make(
        self,
        task_id: str,
        *,
        exec_gate: asyncio.Semaphore | None = None,
        sample: int = 0,
        log_dir: str | os.PathLike[str] | None = None,
    ) -> Env:
        """A TaskEnv for the task. Its evaluation files go to ``log_dir`` when given, else to
        ``<log_root>/<task id>`` for sample 0 and ``<log_root>/<task id>.<sample>`` for the others."""
        from swerve.gym.env import TaskEnv

        task = self._task(task_id)
        harness = self.harness
        if log_dir is None and self.log_root is not None:
            log_dir = Path(self.log_root) / (task_id if sample == 0 else f"{task_id}.{sample}")
        return TaskEnv(
            task,
            harness,
            exec_gate=exec_gate,
            log_dir=log_dir,
            layers=self._layers,
            timeout_s=self.command_timeout_s,
        )

    def describe(self) -> dict[str, Any]:
        ids = self.task_ids()
        return {
            "kind": "tasks",
            "origin": self.origin,
            "tasks": len(ids),
            "task_ids_sha256": _ids_digest(ids),
            "sandbox": self.sandbox,
            "timeout_s": self.timeout_s,
        }


# -- what the command line names ---------------------------------------------------------------------


def _is_directory_env_file(path: Path) -> bool:
    """A .jsonl/.json file whose first record looks like a directory environment."""
    try:
        with open(path, encoding="utf-8") as f:
            if path.suffix.lower() == ".jsonl":
                first = next((line for line in f if line.strip()), "")
                record = json.loads(first) if first else None
            else:
                data = json.load(f)
                record = data[0] if isinstance(data, list) and data else data
    except (OSError, UnicodeDecodeError, ValueError):
        return False  # the dataset loader gives the precise error
    return isinstance(record, dict) and "verify" in record and "instance_id" not in record


def load_source(
    spec: str,
    *,
    repos: list[str] | tuple[str, ...] = (),
    cache: str | None = None,
    sandbox: str = "namespace",
    timeout_s: float | None = None,
    log_root: str | None = None,
    network: bool = False,
    verify_timeout_s: float = DEFAULT_VERIFY_TIMEOUT_S,
    limits: Any = None,
) -> EnvSource:
    """The source ``spec`` names: ``builtin``; ``humaneval`` or another code-task dataset (a JSONL,
    a folder ``swerve tasks scale-tests`` wrote); a dataset file (.parquet, .jsonl, .json); a task
    folder or a folder of them; a directory-env file or folder. Raises ValueError saying what is
    wrong (TaskError is a ValueError)."""
    spec = str(spec).strip()
    if not spec:
        raise ValueError(
            "no tasks named (use 'builtin', a dataset file, a task folder or a directory-env file)"
        )
    task_options: dict[str, Any] = {
        "repos": repos,
        "cache": cache,
        "sandbox": sandbox,
        "timeout_s": timeout_s,
        "log_root": log_root,
        "origin": spec,
        "limits": limits,
    }
    if spec == "builtin":
        try:
            from swerve.tasks.builtin import load_builtin
        except ImportError as exc:
            raise ValueError(f"the built-in suite is not available ({exc})") from None
        return TaskSource(list(load_builtin()), **task_options)
    from swerve.tasks.code.loaders import is_code_dataset

    if is_code_dataset(spec):  # humaneval, a code-task JSONL, a folder of scaled code tasks
        from swerve.gym.code_env import load_code_source

        return load_code_source(spec)
    path = Path(spec).expanduser()
    if path.is_dir():
        from swerve.tasks.folder import TASK_FILE, load_task_folders

        has_tasks = (path / TASK_FILE).is_file() or any((p / TASK_FILE).is_file() for p in path.iterdir())
        if has_tasks:
            return TaskSource(load_task_folders(path), **task_options)
        has_envs = (path / ENV_FILE).is_file() or any((p / ENV_FILE).is_file() for p in path.iterdir())
        if has_envs:
            return DirectorySource.load(path, network=network, verify_timeout_s=verify_timeout_s, limits=limits)
        raise ValueError(f"{spec}: no task.toml or {ENV_FILE} in this folder or its subfolders")
    if not path.exists():
        raise ValueError(
            f"{spec}: no such file or folder (use 'builtin', a dataset file, a task folder or a directory-env file)"
        )
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".jsonl", ".json"):
        raise ValueError(
            f"{spec}: unsupported file type {suffix or '(none)'} (use .parquet, .jsonl or .json)"
        )
    if suffix != ".parquet" and _is_directory_env_file(path):
        return DirectorySource.load(path, network=network, verify_timeout_s=verify_timeout_s, limits=limits)
    from swerve.tasks.swebench import load_instances

    tasks = load_instances(path)
    if not tasks:
        raise ValueError(f"{spec}: no instances in it")
    return TaskSource(tasks, **task_options)

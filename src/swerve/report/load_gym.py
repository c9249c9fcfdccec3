"""Gym run directories (``episodes.jsonl`` + ``manifest.json``) as a report ``Run``.

Read without the run's lock, like ``swerve gym stats``: a run still being written is shown as far
as its complete lines go. Which record counts for an episode follows the store's rule
(``swerve.gym.store.scan_episodes``); lines it skips, a torn tail and a missing or broken manifest
become problems on the page.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

from swerve.gym.store import EPISODES, LOCK, MANIFEST, StoreError, model_name, read_manifest, scan_episodes
from swerve.report.model import Detail, Episode, Run
from swerve.report.records import as_dict, count, detail_from_record, episode_from_record, text


def is_gym_run(path: Path) -> bool:
    return path.is_dir() and ((path / EPISODES).exists() or (path / MANIFEST).exists())


def _reader(path: Path, offset: int, length: int) -> Any:
    def load() -> Detail:
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                return detail_from_record(json.loads(f.read(length)))
        except (OSError, ValueError) as exc:
            return Detail(notes=[("unreadable", f"the record could not be read again: {exc}")])

    return load


def writer_alive(run_dir: Path) -> bool:
    """Whether the process named in the run's lock file still runs on this host."""
    try:
        holder = (run_dir / LOCK).read_text(errors="replace").split()
    except OSError:
        return False
    if len(holder) < 4 or holder[0] != "pid" or holder[3] != socket.gethostname():
        return False
    try:
        os.kill(int(holder[1]), 0)
    except PermissionError:
        return True
    except (OSError, ValueError):
        return False
    return True


def load_records(run_dir: Path, run: Run, *, label: str = "") -> list[Episode]:
    """Every effective record of ``run_dir``'s store as an episode; problems go to ``run``."""
    path = run_dir / EPISODES
    run.sources.append(str(path))
    if not path.exists():
        run.problem(f"{path} does not exist yet: no episode has finished")
        return []
    try:
        scan = scan_episodes(path)
    except OSError as exc:
        run.problem(f"cannot read {path}: {exc}")
        return []
    for problem in scan.problems:
        run.problem(f"{EPISODES}: {problem}")
    if scan.torn:
        run.problem(f"{EPISODES}: a torn last line ({scan.size - scan.end} bytes) is not shown")
    episodes = []
    with open(path, "rb") as f:
        for entry in sorted(scan.entries.values(), key=lambda e: e.offset):
            f.seek(entry.offset)
            record = json.loads(f.read(entry.length))  # the scan has parsed this line already
            episode = episode_from_record(record, label=label)
            episode.load_detail = _reader(path, entry.offset, entry.length)
            episodes.append(episode)
    return episodes


def load_gym(run_dir: Path) -> Run:
    """The run in ``run_dir``."""
    run = Run(kind="gym", path=str(run_dir), title="gym run")
    run.sources.append(str(run_dir / MANIFEST))
    try:
        manifest = read_manifest(run_dir)
    except StoreError as exc:
        run.problem(str(exc))
        manifest = None
    if manifest is None:
        manifest = {}
        if (run_dir / EPISODES).exists():
            run.problem(f"{run_dir / MANIFEST} is missing: the run's configuration is unknown")
    config = as_dict(manifest.get("config"))
    counts = as_dict(manifest.get("counts"))
    run.run_id = text(manifest.get("run_id")) or run_dir.name
    run.model = str(model_name(config) or "")
    run.created_at = text(manifest.get("created_at"))
    run.updated_at = text(manifest.get("updated_at"))
    run.samples = count(config.get("samples")) or 1
    run.planned = count(counts.get("planned"))
    run.episodes = load_records(run_dir, run)
    if not run.model:
        run.model = next((e.label for e in run.episodes if e.label), "")
    run.live = writer_alive(run_dir)
    _describe(run, config)
    if run.planned is not None and len(run.episodes) < run.planned:
        missing = run.planned - len(run.episodes)
        state = "still running" if run.live else "not running (stopped or crashed; run it again to resume)"
        run.problem(f"{missing} of {run.planned} planned episodes are not stored yet: the run is {state}")
    return run


def _describe(run: Run, config: dict[str, Any]) -> None:
    source = as_dict(config.get("source"))
    agent = as_dict(config.get("agent"))
    facts = [
        ("tasks", f"{source.get('origin') or source.get('kind') or '?'} ({source.get('tasks', '?')} tasks)"),
        ("samples per task", str(run.samples)),
        ("sandbox", text(source.get("sandbox"))),
        ("max turns", str(agent.get("max_turns") or "")),
        ("sampling", json.dumps(agent.get("sampling")) if agent.get("sampling") else ""),
    ]
    run.facts.extend((k, v) for k, v in facts if v)

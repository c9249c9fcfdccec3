"""The folder ``swerve tasks scale-tests`` writes, itself a dataset for ``swerve eval`` / ``swerve gym``.

tasks.jsonl        the scaled tasks (original tests first, then the picked ones), swerve's schema
heldout.jsonl      per task, the generated tests not picked: for audits and for ``strength``
provenance.jsonl   per test: how it was made, whether it was kept and why, mutants it kills
mutants.jsonl      per task, each mutant: killed by the original tests, by the whole pool
report.json        per-task counts, the skipped tasks with reasons, the options used
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from swerve.errors import TaskError
from swerve.tasks.code.loaders import TASKS_FILE, write_code_tasks
from swerve.tasks.code.model import IOTest
from swerve.tasks.code.scale import Scaled


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    tmp.replace(path)


def write_scaled(scaled: Scaled, out: Path, meta: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    contracts = {t.id: t.contract for t in scaled.tasks}
    write_code_tasks(scaled.tasks, out / TASKS_FILE)
    _write_jsonl(
        out / "heldout.jsonl",
        [
            {"task_id": k, "contract": contracts.get(k, "function"), "tests": [t.to_dict() for t in v]}
            for k, v in scaled.heldout.items()
        ],
    )
    _write_jsonl(out / "provenance.jsonl", scaled.provenance)
    _write_jsonl(out / "mutants.jsonl", [{"task_id": k, "mutants": v} for k, v in scaled.mutants.items()])
    report = {
        "schema": "swerve.scaled-tests/1",
        **meta,
        "tasks": scaled.stats,
        "skipped": scaled.skipped,
        "notes": scaled.notes,
    }
    (out / "report.json").write_text(json.dumps(report, indent=1))


def read_heldout(folder: Path) -> dict[str, list[IOTest]]:
    path = folder / "heldout.jsonl"
    if not path.is_file():
        raise TaskError(f"{folder} has no heldout.jsonl: is it a folder swerve tasks scale-tests wrote?")
    out = {}
    for line in path.read_text().splitlines():
        row = json.loads(line)
        out[row["task_id"]] = [IOTest.from_dict(t, row.get("contract", "function")) for t in row["tests"]]
    return out


def read_report(folder: Path) -> dict[str, Any]:
    path = folder / "report.json"
    return json.loads(path.read_text()) if path.is_file() else {}

"""Real runs to report on, made once per session with the real commands: a validation and an agent
evaluation of four built-in tasks, a gym run of them with three samples each (the agent is the
scripted solver in scripted_solver.py), and a gym run of directory environments that includes an
infrastructure error. Each skips, saying why, where its parts are not available."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for helpers in (HERE, ROOT / "tests" / "eval"):
    if str(helpers) not in sys.path:
        sys.path.insert(0, str(helpers))

from support import LIBRARY, TASKS, VALIDATED, swerve  # noqa: E402  (found through the path set above)


@pytest.fixture(scope="session")
def scratch() -> Iterator[Path]:
    """A folder outside /tmp (a sandbox's /tmp is its own), removed at the end."""
    root = ROOT / ".swerve-cache" / "tests" / f"report-{uuid.uuid4().hex[:8]}"
    root.mkdir(parents=True)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def sandbox_ok() -> None:
    from calc_project import namespace_usable

    why = namespace_usable()
    if why:
        pytest.skip(f"namespace sandboxes are not available here: {why}")


@pytest.fixture(scope="session")
def builtin_ready(sandbox_ok: None) -> None:
    from swerve.tasks.builtin import LIBRARIES
    from swerve.tasks.builtin.sources import is_cached

    if not is_cached(LIBRARIES[LIBRARY]):
        pytest.skip(
            f"the {LIBRARY} sdist is not cached and tests make no network calls; "
            f"run `python -m swerve.tasks.builtin fetch --library {LIBRARY}` once"
        )


@pytest.fixture(scope="session")
def solver(builtin_ready: None, scratch: Path) -> Path:
    from scripted_solver import solver_script

    from swerve.tasks.builtin import load_builtin

    tasks = [t for t in load_builtin(libraries=[LIBRARY]) if t.id in TASKS]
    script = solver_script(sorted(tasks, key=lambda t: t.id), always={TASKS[0]}, coin={TASKS[3]})
    path = scratch / "solver.json"
    path.write_text(json.dumps(script))
    return path


def _checked(done: subprocess.CompletedProcess[str], what: str) -> subprocess.CompletedProcess[str]:
    if done.returncode != 0:
        pytest.fail(f"{what} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return done


@pytest.fixture(scope="session")
def validation_run(builtin_ready: None, scratch: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """(report folder, the command's result) of ``swerve eval --validate`` on two tasks."""
    out = scratch / "val"
    done = swerve("eval", "--dataset", "builtin", "--validate", "--instance-ids", *VALIDATED,
                  "--workers", "2", "--report-dir", str(out), "--run-id", "val")  # fmt: skip
    return out, _checked(done, "swerve eval --validate")


@pytest.fixture(scope="session")
def predictions_run(builtin_ready: None, scratch: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """(report folder, result) of ``swerve eval --predictions gold`` on two tasks."""
    out = scratch / "pred"
    done = swerve("eval", "--dataset", "builtin", "--predictions", "gold", "--instance-ids", *VALIDATED,
                  "--workers", "2", "--report-dir", str(out), "--run-id", "pred")  # fmt: skip
    return out, _checked(done, "swerve eval --predictions gold")


@pytest.fixture(scope="session")
def agent_run(solver: Path, scratch: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """(report folder, result) of ``swerve eval --model replay:<solver>`` on the four tasks."""
    out = scratch / "agent"
    done = swerve("eval", "--dataset", "builtin", "--model", f"replay:{solver}", "--instance-ids", *TASKS,
                  "--workers", "2", "--report-dir", str(out), "--run-id", "agent")  # fmt: skip
    return out, _checked(done, "swerve eval --model")


@pytest.fixture(scope="session")
def gym_run(solver: Path, scratch: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """(run directory, result) of ``swerve gym run --samples 3`` on the four tasks."""
    out = scratch / "gym"
    done = swerve("gym", "run", "--tasks", "builtin", "--instance-ids", *TASKS, "--model", f"replay:{solver}",
                  "--samples", "3", "--concurrency", "4", "--out", str(out))  # fmt: skip
    return out, _checked(done, "swerve gym run")


@pytest.fixture(scope="session")
def dir_run(sandbox_ok: None, scratch: Path) -> Path:
    """A gym run of directory environments: one passes, one fails, one is an infrastructure error
    (a sandbox over procfs does not work), two samples each; written without the HTML report."""
    base = scratch / "dirs"
    (base / "ok").mkdir(parents=True)
    (base / "ok" / "a.txt").write_text("keep me\n")
    envs = [
        {"id": "passes", "path": "ok", "verify": "test -f a.txt", "prompt": "Keep a.txt."},
        {"id": "fails", "path": "ok", "verify": "test -f b.txt", "prompt": "Make b.txt."},
        {"id": "procfs", "path": "/proc/driver", "verify": "true", "prompt": "Nothing works here."},
    ]
    (base / "envs.jsonl").write_text("".join(json.dumps(e) + "\n" for e in envs))
    done = swerve("gym", "run", "--tasks", "envs.jsonl", "--model", "replay:demo", "--samples", "2",
                  "--infra-retries", "0", "--out", "run", "--no-report", cwd=base)  # fmt: skip
    _checked(done, "swerve gym run (directories)")
    assert not (base / "run" / "report.html").exists(), "--no-report wrote a report"
    return base / "run"

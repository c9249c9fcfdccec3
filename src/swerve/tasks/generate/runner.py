"""Running a library's tests on a tree and reading back every test's outcome.

The generator runs the suite many times (once per candidate bug), so this path is lean: the venv's
Python runs pytest directly on the tree with the project's import root on ``PYTHONPATH``, no
bytecode is written (a mutated file and its restored original can share a size and an mtime), and a
small plugin writes outcomes as JSON instead of this module parsing logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


class Tested(Protocol):
    """What running a project's tests needs to know (a built-in ``Library``, a generated ``Project``)."""

    @property
    def key(self) -> str: ...
    @property
    def import_root(self) -> str: ...
    @property
    def test_paths(self) -> tuple[str, ...]: ...
    @property
    def test_command(self) -> str: ...


PLUGIN_DIR = Path(__file__).parent / "pytest_plugin"
PASSING = ("passed", "xfail")


@dataclass
class SuiteRun:
    """What one run of the tests gave."""

    tests: dict[str, dict[str, Any]] = field(default_factory=dict)  # node id -> outcome record
    collect_errors: list[dict[str, Any]] = field(default_factory=list)
    exit_code: int = 0
    timed_out: bool = False
    output_tail: str = ""

    @property
    def ok(self) -> bool:
        """The run finished and collected everything (test failures allowed)."""
        return not self.timed_out and not self.collect_errors and bool(self.tests)

    def passing(self) -> set[str]:
        return {t for t, r in self.tests.items() if r["outcome"] in PASSING}

    def failing(self) -> set[str]:
        return {t for t, r in self.tests.items() if r["outcome"] in ("failed", "error")}


def test_argv(lib: Tested, python: str) -> list[str]:
    """The project's test command as argv, run by ``python``."""
    argv = shlex.split(lib.test_command)
    if argv and argv[0] == "python":
        argv[0] = python
    return argv


def run_env(lib: Tested, tree: Path, outcomes: Path) -> dict[str, str]:
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PYTHONPATH"] = os.pathsep.join([str(PLUGIN_DIR), str((tree / lib.import_root).resolve())])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["SWERVE_OUTCOMES"] = str(outcomes)
    return env


async def run_suite(
    lib: Tested,
    tree: Path,
    python: str,
    *,
    paths: tuple[str, ...] | None = None,
    timeout: float = 120.0,
    wrapper: tuple[str, ...] = (),
) -> SuiteRun:
    """Run ``paths`` (default: the project's whole suite) on ``tree`` with ``python``; ``wrapper``
    goes before the command (``unshare -rn``: no network)."""
    with tempfile.TemporaryDirectory(prefix="swerve-outcomes-") as scratch:
        outcomes = Path(scratch) / "outcomes.json"
        argv = [*wrapper, *test_argv(lib, python), "-p", "swerve_outcomes", "-q", *(paths or lib.test_paths)]
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=tree,
            env=run_env(lib, tree, outcomes),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        run = SuiteRun()
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)
            out, _ = await proc.communicate()
            run.timed_out = True
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)
            raise
        finally:
            # the tests may have started processes of their own
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)
        run.exit_code = proc.returncode if proc.returncode is not None else -1
        run.output_tail = (out or b"").decode(errors="replace")[-4000:]
        if outcomes.exists():
            try:
                data = json.loads(outcomes.read_text(encoding="utf-8"))
                run.tests = data.get("tests", {})
                run.collect_errors = data.get("collect_errors", [])
            except (OSError, ValueError):
                pass
        return run

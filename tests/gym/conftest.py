"""Fixtures for the farm's environment tests: real namespace sandboxes, and the evaluation tests'
calculator project (its fixtures are reused from tests/eval/conftest.py, not copied). What a sandbox
leaves on the host is checked with tests/sandbox/ns_support.py."""

from __future__ import annotations

import importlib.util
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

EVAL_TESTS = Path(__file__).resolve().parents[1] / "eval"
SANDBOX_TESTS = Path(__file__).resolve().parents[1] / "sandbox"
for helpers in (EVAL_TESTS, SANDBOX_TESTS):  # calc_project (the evaluation fixtures import it), ns_support
    if str(helpers) not in sys.path:
        sys.path.insert(0, str(helpers))


def _load_eval_fixtures():
    spec = importlib.util.spec_from_file_location("_swerve_eval_fixtures", EVAL_TESTS / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_eval = _load_eval_fixtures()
calc_repo = _eval.calc_repo
env_cache = _eval.env_cache
calc_task = _eval.calc_task


@pytest.fixture
def start_dir(tmp_path: Path) -> Path:
    """A directory environment's starting state: a script and a test of it."""
    base = tmp_path / "start"
    base.mkdir()
    (base / "greet.sh").write_text("echo hello\n")
    (base / "notes.txt").write_text("first line\n")
    return base


@pytest.fixture
def outside_tmp() -> Iterator[Path]:
    """A scratch folder outside /tmp (a sandbox's /tmp is its own), removed afterwards."""
    root = Path(__file__).resolve().parents[2] / ".swerve-cache" / "tests" / f"gym-{uuid.uuid4().hex[:8]}"
    root.mkdir(parents=True)
    yield root
    shutil.rmtree(root, ignore_errors=True)

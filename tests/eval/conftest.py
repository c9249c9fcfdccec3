"""A tiny real project under git, a real venv (pytest from PyPI, cached for the session), and the
sandboxes an evaluation can run in."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from calc_project import CALC, ENV, TESTS, git, make_calc_task, namespace_usable

from swerve.tasks.model import Task


@pytest.fixture(scope="session")
def calc_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``<repos>/demo__calc``: a git repository; returns (repos folder, base commit)."""
    repos = tmp_path_factory.mktemp("repos")
    repo = repos / "demo__calc"
    (repo / "tests").mkdir(parents=True)
    (repo / "calc.py").write_text(CALC)
    (repo / "tests" / "test_calc.py").write_text(TESTS)
    (repo / "pytest.ini").write_text("[pytest]\npythonpath = .\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    base = git(repo, "rev-parse", "HEAD")
    (repo / "calc.py").write_text(CALC.replace("a - b\n\n\ndef sub", "a + b\n\n\ndef sub"))
    git(repo, "commit", "-q", "-am", "a later commit the task must not see")
    return repos, base


@pytest.fixture(scope="session")
def env_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder for the session; the env layer (pytest from PyPI) is built in it once."""
    from swerve.errors import EnvUnavailable
    from swerve.tasks.envbuild import ensure_env

    # Not under /tmp: a sandbox's /tmp is its own, so layers there would be invisible to it.
    cache = Path(__file__).resolve().parents[2] / ".swerve-cache" / "tests"
    cache.mkdir(parents=True, exist_ok=True)
    try:
        asyncio.run(ensure_env(ENV, cache=cache, label="demo"))
    except EnvUnavailable as exc:
        pytest.skip(f"cannot build a venv with pytest from PyPI here: {exc.cause[:300]}")
    return cache


@pytest.fixture
def calc_task(calc_repo: tuple[Path, str]) -> Callable[..., Task]:
    _repos, base = calc_repo

    def make(**changes) -> Task:
        return make_calc_task(base, **changes)

    return make


@pytest.fixture(params=["namespace", "host"])
def sandbox_name(request: pytest.FixtureRequest) -> str:
    if request.param == "namespace":
        why = namespace_usable()
        if why:
            pytest.skip(f"namespace sandbox unavailable: {why}")
    return request.param

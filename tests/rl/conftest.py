"""Fixtures for the RL bridge: the real embedded model (found as tests/local finds it) and a local
server over it, shared by the module's tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from rl_support import gym_run

from swerve.local.process import LocalServer

LOCAL_TESTS = Path(__file__).resolve().parents[1] / "local"


def _load_local_fixtures():
    spec = importlib.util.spec_from_file_location("_swerve_local_fixtures", LOCAL_TESTS / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_local = _load_local_fixtures()
runtime_installed = _local.runtime_installed
model_path = _local.model_path


@pytest.fixture(scope="module")
def server(model_path, tmp_path_factory):
    """A local server over the 0.5B model, started for this module and stopped after it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SWERVE_CACHE", str(tmp_path_factory.mktemp("cache")))
        srv = LocalServer(model_path, alias="rl", ctx=8192, parallel=2, reuse=False, note=lambda t: None)
        srv.start()
        try:
            yield srv
        finally:
            srv.stop()


@pytest.fixture(scope="module")
def run_dir(server, tmp_path_factory) -> Path:
    """Four episodes (two tasks, two samples each) recorded with token capture."""
    return gym_run(server, tmp_path_factory.mktemp("gym"))

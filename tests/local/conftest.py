"""Fixtures for the local model server: the real smallest model, found in swerve's cache."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from swerve.paths import cache_root

MODEL_FILE = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
ASSEMBLE_HINT = "swerve model pull qwen2.5-coder-0.5b"


@pytest.fixture(scope="session")
def runtime_installed() -> None:
    if importlib.util.find_spec("llama_cpp_py_sync") is None:
        pytest.skip("llama-cpp-py-sync is not installed (pip install 'swerve[local]')")


@pytest.fixture(scope="session")
def model_path(runtime_installed: None) -> Path:
    """The Qwen2.5-Coder 0.5B GGUF under cache_root()/models (skips, saying how to get it, when absent)."""
    path = cache_root() / "models" / MODEL_FILE
    if not path.is_file():
        pytest.skip(f"the test model {path} is absent; to get it: {ASSEMBLE_HINT}")
    return path

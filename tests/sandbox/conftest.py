"""Fixtures for the sandbox tests."""

from __future__ import annotations

import asyncio

import pytest

from swerve.errors import SandboxError
from swerve.sandbox.ns import check_support


@pytest.fixture(scope="module")
def namespaces_available():
    try:
        asyncio.run(check_support())
    except SandboxError as exc:
        pytest.skip(f"namespace sandboxes are not available here: {exc}")

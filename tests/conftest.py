"""Fixtures shared across the suite: scripted loopback model servers, fast retries."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

# Retries inside tests should not wait long; tests that check delays build their own RetryPolicy.
os.environ.setdefault("SWERVE_RETRY_BASE_DELAY", "0.01")
os.environ.setdefault("SWERVE_RETRY_MAX_DELAY", "0.05")


@pytest.fixture
def openai_server() -> Iterator[Callable[[list[dict[str, Any]]], Any]]:
    """Start an OpenAIScriptServer for a script: ``srv = openai_server([{"text": "hi"}])``."""
    from swerve.testing.openai_server import OpenAIScriptServer

    servers: list[OpenAIScriptServer] = []

    def start(script: list[dict[str, Any]]) -> OpenAIScriptServer:
        server = OpenAIScriptServer(script).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def anthropic_server() -> Iterator[Callable[[list[dict[str, Any]]], Any]]:
    """Start an AnthropicScriptServer for a script."""
    from swerve.testing.anthropic_server import AnthropicScriptServer

    servers: list[AnthropicScriptServer] = []

    def start(script: list[dict[str, Any]]) -> AnthropicScriptServer:
        server = AnthropicScriptServer(script).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture(scope="module")
def namespaces_available() -> None:
    """Skip (saying why) where namespace sandboxes cannot run."""
    import asyncio

    from swerve.errors import SandboxError
    from swerve.sandbox.ns import check_support

    try:
        asyncio.run(check_support())
    except SandboxError as exc:
        pytest.skip(f"namespace sandboxes are not available here: {exc}")

"""Fixtures for tool tests: a host workspace in a temporary directory, a context, the registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from swerve.models.base import ToolCall
from swerve.sandbox.host import HostWorkspace
from swerve.tools import default_tools
from swerve.tools.base import ToolContext, ToolResult
from swerve.tools.registry import ToolRegistry


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    path.mkdir()
    return path.resolve()


@pytest.fixture
async def ctx(root: Path):
    workspace = HostWorkspace(str(root))
    yield ToolContext(workspace)
    await workspace.close()


@pytest.fixture
def registry() -> ToolRegistry:
    return ToolRegistry(default_tools())


@pytest.fixture
def call(registry: ToolRegistry, ctx: ToolContext):
    """``await call("read_file", file_path="x")`` -> ToolResult, through the registry."""

    async def _call(name: str, **args) -> ToolResult:
        return await registry.call(ToolCall("call_1", name, args), ctx)

    return _call

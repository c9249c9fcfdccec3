"""The MCP client against real MCP servers (stdio and streamable HTTP) built with the mcp package."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from swerve.agent.permissions import ApprovalRequest, Permission
from swerve.models.base import ToolCall
from swerve.tools.base import ToolContext
from swerve.tools.mcp import (
    McpConfigError,
    McpManager,
    parse_server_config,
    parse_servers,
    tool_name,
)
from swerve.tools.registry import ToolRegistry

SERVER = """
import sys
try:
    from mcp.server.mcpserver import MCPServer
except ImportError:
    from mcp.server.fastmcp import FastMCP as MCPServer

server = MCPServer("demo")


@server.tool()
def add(a: int, b: int) -> str:
    \"\"\"Add two integers.\"\"\"
    return f"the sum is {a + b}"


@server.tool()
def shout(text: str) -> str:
    \"\"\"Upper-case a text.\"\"\"
    return text.upper()


@server.tool()
def broken(reason: str) -> str:
    \"\"\"Always fails.\"\"\"
    raise ValueError(reason)


if len(sys.argv) > 1:
    port = int(sys.argv[1])
    try:
        server.run("streamable-http", host="127.0.0.1", port=port)
    except TypeError:  # mcp 1.x: host and port are settings
        server.settings.host, server.settings.port = "127.0.0.1", port
        server.run("streamable-http")
else:
    server.run("stdio")
"""


@pytest.fixture(scope="module")
def server_file(tmp_path_factory) -> Path:
    pytest.importorskip("mcp", reason="the mcp package is not installed")
    path = tmp_path_factory.mktemp("mcp") / "demo_server.py"
    path.write_text(SERVER)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def http_server(server_file):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(server_file), str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"the MCP server exited with {proc.returncode}")
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/mcp"
    proc.terminate()
    proc.wait(timeout=10)


def ctx(tmp_path: Path) -> ToolContext:
    from swerve.sandbox.host import HostWorkspace

    return ToolContext(HostWorkspace(str(tmp_path)))


async def test_stdio_server_tools_run_through_the_registry(server_file, tmp_path):
    configs, errors = parse_servers(
        {"demo": {"command": sys.executable, "args": [str(server_file)], "excludeTools": ["shout"]}}
    )
    assert errors == []
    manager = McpManager(configs, str(tmp_path), tmp_path / "logs")
    manager.start()
    try:
        await manager.wait_ready(30)
        assert manager.errors() == []
        tools = manager.tools()
        assert [t.name for t in tools] == ["mcp__demo__add", "mcp__demo__broken"]
        assert all(t.kind == "execute" for t in tools)
        assert "Add two integers" in tools[0].description
        registry = ToolRegistry(tools)
        ok = await registry.call(ToolCall("1", "mcp__demo__add", {"a": 2, "b": "40"}), ctx(tmp_path))
        assert (ok.output, ok.is_error) == ("the sum is 42", False)
        bad = await registry.call(ToolCall("2", "mcp__demo__broken", {"reason": "nope"}), ctx(tmp_path))
        assert bad.is_error
        missing = await registry.call(ToolCall("3", "mcp__demo__add", {"a": 1}), ctx(tmp_path))
        assert missing.is_error and "missing required parameter 'b'" in missing.output
        assert tools[0].summary({"a": 2, "b": 40}) == 'demo:add {"a": 2, "b": 40}'
    finally:
        await manager.close()
    assert manager.servers[0].status == "closed"


async def test_streamable_http_server(http_server, tmp_path):
    configs, _ = parse_servers({"web": {"httpUrl": http_server, "headers": {"X-Test": "1"}}})
    manager = McpManager(configs, str(tmp_path))
    manager.start()
    try:
        await manager.wait_ready(30)
        assert manager.errors() == []
        shout = next(t for t in manager.tools() if t.name == "mcp__web__shout")
        result = await shout.run({"text": "quiet"}, ctx(tmp_path))
        assert result.output == "QUIET"
    finally:
        await manager.close()


async def test_servers_that_fail_are_reported_not_raised(tmp_path):
    configs, errors = parse_servers(
        {
            "nocmd": {"command": "swerve-no-such-mcp-server"},
            "down": {"type": "http", "url": f"http://127.0.0.1:{free_port()}/mcp"},
            "bad": {"url": "ftp://example.invalid"},
            "off": {"command": "x", "disabled": True},
        }
    )
    assert errors == ["mcpServers.bad needs an http:// or https:// 'url'"]
    assert [c.name for c in configs] == ["nocmd", "down"]
    manager = McpManager(configs, str(tmp_path))
    manager.start()
    await manager.wait_ready(30)
    errors = manager.errors()
    await manager.close()
    assert len(errors) == 2
    assert "nocmd" in errors[0] and "swerve-no-such-mcp-server" in errors[0]
    assert "down" in errors[1]
    assert manager.tools() == []


def test_config_shapes():
    stdio = parse_server_config(
        "a", {"command": "npx", "args": ["-y", "srv"], "env": {"K": 1}, "timeout": 5000}
    )
    assert (stdio.transport, stdio.env, stdio.call_timeout_s) == ("stdio", {"K": "1"}, 5.0)
    assert parse_server_config("b", {"httpUrl": "http://h/mcp"}).transport == "http"
    assert parse_server_config("c", {"url": "http://h/sse"}).transport == "sse"
    assert parse_server_config("d", {"url": "http://h/mcp"}).transport == "http"
    assert parse_server_config("e", {"type": "streamable-http", "url": "https://h/x"}).transport == "http"
    assert parse_server_config("f", {"type": "sse", "url": "http://h/events"}).transport == "sse"
    assert parse_server_config("g", {"command": "x", "enabled": False}) is None
    for raw, message in [
        ("x", "must be an object"),
        ({}, "needs a 'command'"),
        ({"command": "x", "args": "a b"}, "args must be a list of strings"),
        ({"type": "websocket", "url": "ws://h"}, "not one of stdio, http, sse"),
        ({"command": "x", "timeout": -1}, "positive number of milliseconds"),
    ]:
        with pytest.raises(McpConfigError, match=message):
            parse_server_config("s", raw)
    assert parse_servers(["not", "a", "dict"]) == (
        [],
        ["mcpServers must be an object mapping server names to their settings"],
    )


def test_tool_names_fit_every_api():
    assert tool_name("git hub", "create.issue") == "mcp__git_hub__create_issue"
    long = tool_name("server" * 10, "tool" * 10)
    assert len(long) == 64 and long.startswith("mcp__server")
    assert long != tool_name("server" * 10, "tool" * 9 + "x")


async def test_approvals_apply_to_mcp_tools_and_trust_adds_a_rule():
    configs, _ = parse_servers({"a": {"command": "x"}, "b": {"command": "y", "trust": True}})
    manager = McpManager(configs, ".")
    assert manager.trusted_rules() == ["mcp__b"]
    perm = Permission("auto-edit", allow=manager.trusted_rules())
    untrusted = await perm.decide(ApprovalRequest("mcp__a__run", "execute", {}, "run"))
    trusted = await perm.decide(ApprovalRequest("mcp__b__run", "execute", {}, "run"))
    assert not untrusted.allowed and "needs approval" in untrusted.reason
    assert trusted.allowed

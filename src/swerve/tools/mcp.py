"""MCP client: tools of Model Context Protocol servers (stdio, streamable HTTP, SSE) as swerve tools.

Servers are configured under ``mcpServers`` in settings, in the shape Claude Code, Qwen Code and
Gemini CLI use::

    "mcpServers": {
      "files": {"command": "npx", "args": ["-y", "some-mcp-server"], "env": {"TOKEN": "..."}},
      "search": {"httpUrl": "http://127.0.0.1:9000/mcp", "headers": {"Authorization": "Bearer ..."}},
      "legacy": {"type": "sse", "url": "http://127.0.0.1:9001/sse"}
    }

A server's tools are named ``mcp__<server>__<tool>`` and are of kind ``execute``, so approvals apply
(``"trust": true`` on a server adds allow rules for its tools). The ``mcp`` package is imported
only when a server is started, never at import time of this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from swerve.errors import ConfigError, ToolError
from swerve.tools.base import Tool, ToolContext, ToolKind, ToolResult
from swerve.tools.truncate import truncate

DEFAULT_CONNECT_TIMEOUT_S = 30.0
DEFAULT_CALL_TIMEOUT_S = 600.0
TOOL_NAME_MAX = 64
DESCRIPTION_MAX = 2000
INSTALL_HINT = "MCP servers need the mcp package: pip install 'swerve[mcp]'"


class McpConfigError(ConfigError, ValueError):
    """An ``mcpServers`` entry that cannot be used; the message names it and says why."""


@dataclass
class McpServerConfig:
    name: str
    transport: str  # stdio | http | sse
    command: str = ""
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
    call_timeout_s: float = DEFAULT_CALL_TIMEOUT_S
    trust: bool = False
    include_tools: list[str] | None = None
    exclude_tools: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.transport == "stdio":
            return " ".join([self.command, *self.args])
        return f"{self.transport} {self.url}"


def _str_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise McpConfigError(f"{where} must be a list of strings")
    return list(value)


def _str_map(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise McpConfigError(f"{where} must be an object of strings")
    return {str(k): str(v) for k, v in value.items()}


def parse_server_config(name: str, raw: Any) -> McpServerConfig | None:
    """One ``mcpServers`` entry; ``None`` for a disabled one. Raises McpConfigError."""
    where = f"mcpServers.{name}"
    if not isinstance(raw, dict):
        raise McpConfigError(f"{where} must be an object")
    if raw.get("disabled") is True or raw.get("enabled") is False:
        return None
    kind = str(raw.get("type") or raw.get("transport") or "").lower().replace("streamable-http", "http")
    url = raw.get("httpUrl") or raw.get("url") or ""
    if not kind:
        if raw.get("command"):
            kind = "stdio"
        elif raw.get("httpUrl"):
            kind = "http"
        elif url:
            kind = "sse" if str(url).rstrip("/").endswith("/sse") else "http"
        else:
            raise McpConfigError(f"{where} needs a 'command' (stdio) or a 'url' / 'httpUrl' (HTTP)")
    if kind == "streamablehttp":
        kind = "http"
    if kind not in ("stdio", "http", "sse"):
        raise McpConfigError(f"{where}: type {kind!r} is not one of stdio, http, sse")
    timeout = raw.get("timeout")
    if timeout is not None and (not isinstance(timeout, int | float) or timeout <= 0):
        raise McpConfigError(f"{where}.timeout must be a positive number of milliseconds")
    config = McpServerConfig(
        name=name,
        transport=kind,
        trust=bool(raw.get("trust", False)),
        call_timeout_s=float(timeout) / 1000 if timeout else DEFAULT_CALL_TIMEOUT_S,
    )
    if "includeTools" in raw:
        config.include_tools = _str_list(raw["includeTools"], f"{where}.includeTools")
    if "excludeTools" in raw:
        config.exclude_tools = _str_list(raw["excludeTools"], f"{where}.excludeTools")
    if kind == "stdio":
        if not isinstance(raw.get("command"), str) or not raw["command"].strip():
            raise McpConfigError(f"{where} needs a 'command' to start the server")
        config.command = raw["command"]
        config.args = _str_list(raw.get("args", []), f"{where}.args")
        config.env = _str_map(raw.get("env", {}), f"{where}.env")
        config.cwd = str(raw["cwd"]) if raw.get("cwd") else None
    else:
        if not isinstance(url, str) or not re.match(r"https?://", url):
            raise McpConfigError(f"{where} needs an http:// or https:// 'url'")
        config.url = url
        config.headers = _str_map(raw.get("headers", {}), f"{where}.headers")
    return config


def parse_servers(raw: Any) -> tuple[list[McpServerConfig], list[str]]:
    """All usable entries of ``mcpServers``, and an error message for each unusable one."""
    if not raw:
        return [], []
    if not isinstance(raw, dict):
        return [], ["mcpServers must be an object mapping server names to their settings"]
    configs, errors = [], []
    for name, entry in raw.items():
        try:
            config = parse_server_config(str(name), entry)
        except McpConfigError as exc:
            errors.append(str(exc))
            continue
        if config is not None:
            configs.append(config)
    return configs, errors


def tool_name(server: str, tool: str) -> str:
    """``mcp__<server>__<tool>``, cut to what every API accepts (letters, digits, _ and -)."""
    clean = re.sub(r"[^A-Za-z0-9_-]", "_", f"mcp__{server}__{tool}")
    if len(clean) <= TOOL_NAME_MAX:
        return clean
    import hashlib

    digest = hashlib.sha1(clean.encode()).hexdigest()[:8]
    return clean[: TOOL_NAME_MAX - 9] + "_" + digest


def _field(obj: Any, *names: str, default: Any = None) -> Any:
    """An attribute under any of its spellings (the SDK's v1 camelCase or v2 snake_case)."""
    for name in names:
        value = getattr(obj, name, None)
        if value is not None:
            return value
    return default


def result_text(result: Any) -> tuple[str, bool]:
    """A CallToolResult as text for the model, and whether the server flagged an error."""
    parts: list[str] = []
    for block in _field(result, "content", default=[]) or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind in ("image", "audio"):
            mime = _field(block, "mime_type", "mimeType", default="?")
            parts.append(f"[{kind} {mime}, {len(getattr(block, 'data', '') or '') * 3 // 4} bytes]")
        elif kind == "resource":
            res = block.resource
            text = getattr(res, "text", None)
            parts.append(text if text is not None else f"[resource {getattr(res, 'uri', '')}]")
        elif kind == "resource_link":
            parts.append(f"[resource link {getattr(block, 'uri', '')}]")
        else:
            parts.append(str(block))
    structured = _field(result, "structured_content", "structuredContent")
    if not parts and structured is not None:
        parts.append(json.dumps(structured, ensure_ascii=False, default=str))
    is_error = bool(_field(result, "is_error", "isError", default=False))
    return "\n".join(parts) if parts else "(no output)", is_error


def _error_text(exc: BaseException) -> str:
    """The innermost useful message of an exception (task groups wrap errors in groups)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class McpServer:
    """One connected server. The connection lives in its own task (the SDK's transports are
    task-scoped context managers); calls from other tasks go over the open session."""

    def __init__(self, config: McpServerConfig, cwd: str, log_dir: Path | None = None) -> None:
        self.config = config
        self.cwd = cwd
        self.log_dir = log_dir
        self.session: Any = None
        self.tools: list[Any] = []  # the SDK's Tool objects
        self.error: str | None = None
        self.server_name = ""
        self._ready = asyncio.Event()
        self._closing = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def status(self) -> str:
        if self.error:
            return "failed"
        if self.session is not None:
            return "connected"
        return "closed" if self._closing.is_set() else "connecting"

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._serve(), name=f"mcp-{self.config.name}")

    async def wait_ready(self, timeout: float | None = None) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._ready.wait()

    async def _serve(self) -> None:
        try:
            async with contextlib.AsyncExitStack() as stack:
                try:
                    async with asyncio.timeout(self.config.connect_timeout_s):
                        session = await self._connect(stack)
                        init = await session.initialize()
                        info = _field(init, "server_info", "serverInfo")
                        self.server_name = getattr(info, "name", "") or ""
                        self.tools = await self._list_tools(session)
                except TimeoutError:
                    raise ConnectionError(
                        f"no answer within {self.config.connect_timeout_s:g} s of starting"
                    ) from None
                self.session = session
                self._ready.set()
                await self._closing.wait()
        except asyncio.CancelledError:
            if not self._closing.is_set():
                raise
        except ImportError:
            self.error = INSTALL_HINT
        except BaseException as exc:  # task groups raise groups; a server must never take us down
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            self.error = _error_text(exc)
        finally:
            self.session = None
            self._ready.set()

    async def _connect(self, stack: contextlib.AsyncExitStack) -> Any:
        from mcp import ClientSession

        c = self.config
        if c.transport == "stdio":
            from mcp import StdioServerParameters
            from mcp.client.stdio import stdio_client

            params = StdioServerParameters(
                command=c.command, args=c.args, env=c.env or None, cwd=c.cwd or self.cwd
            )
            streams = await stack.enter_async_context(stdio_client(params, errlog=self._errlog(stack)))
        elif c.transport == "http":
            from mcp.client import streamable_http as http_mod
            from mcp.shared._httpx_utils import create_mcp_http_client

            if hasattr(http_mod, "streamable_http_client"):
                client = await stack.enter_async_context(create_mcp_http_client(headers=c.headers or None))
                streams = await stack.enter_async_context(
                    http_mod.streamable_http_client(c.url, http_client=client)
                )
            else:  # mcp < 1.24
                streams = await stack.enter_async_context(
                    http_mod.streamablehttp_client(c.url, headers=c.headers or None)  # type: ignore[attr-defined]
                )
        else:
            from mcp.client.sse import sse_client

            streams = await stack.enter_async_context(sse_client(c.url, headers=c.headers or None))
        session = await stack.enter_async_context(ClientSession(streams[0], streams[1]))
        return session

    def _errlog(self, stack: contextlib.ExitStack | contextlib.AsyncExitStack) -> Any:
        """Where a stdio server's stderr goes: a log file, never our terminal."""
        if self.log_dir is not None:
            try:
                self.log_dir.mkdir(parents=True, exist_ok=True)
                return stack.enter_context(open(self.log_dir / f"{self.config.name}.log", "a"))
            except OSError:
                pass
        return stack.enter_context(open(os.devnull, "w"))

    async def _list_tools(self, session: Any) -> list[Any]:
        tools: list[Any] = []
        cursor = None
        for _ in range(100):  # pages
            page = await (session.list_tools(cursor=cursor) if cursor else session.list_tools())
            tools += list(page.tools)
            cursor = _field(page, "next_cursor", "nextCursor")
            if not cursor:
                break
        wanted = self.config.include_tools
        return [
            t
            for t in tools
            if (wanted is None or t.name in wanted) and t.name not in self.config.exclude_tools
        ]

    async def call(self, name: str, arguments: dict[str, Any]) -> tuple[str, bool]:
        session = self.session
        if session is None:
            raise ToolError(
                f"MCP server {self.config.name!r} is not connected"
                + (f": {self.error}" if self.error else "")
            )
        try:
            async with asyncio.timeout(self.config.call_timeout_s):
                result = await session.call_tool(name, arguments)
        except TimeoutError:
            raise ToolError(
                f"MCP tool {name} on {self.config.name!r} gave no result within "
                f"{self.config.call_timeout_s:g} s"
            ) from None
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise ToolError(f"MCP server {self.config.name!r} failed on {name}: {_error_text(exc)}") from None
        return result_text(result)

    async def close(self) -> None:
        self._closing.set()
        task = self._task
        if task is not None and not task.done():
            try:
                async with asyncio.timeout(5):
                    await asyncio.shield(task)
            except (TimeoutError, Exception):
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task


class McpTool(Tool):
    """One tool of an MCP server."""

    kind: ClassVar[ToolKind] = "execute"

    def __init__(self, server: McpServer, remote: Any) -> None:
        self.server = server
        self.remote_name: str = remote.name
        self.name = tool_name(server.config.name, remote.name)  # type: ignore[misc]
        description = (_field(remote, "description", default="") or "").strip()
        self.description = truncate(  # type: ignore[misc]
            f"[MCP server {server.config.name}] {description}".strip(), DESCRIPTION_MAX, 60
        )
        schema = _field(remote, "input_schema", "inputSchema", default=None)
        schema = dict(schema) if isinstance(schema, dict) else {}
        schema.setdefault("type", "object")
        schema.setdefault("properties", {})
        schema.setdefault("additionalProperties", True)
        self.parameters = schema  # type: ignore[misc]

    def summary(self, args: dict[str, Any]) -> str:
        shown = json.dumps(args, ensure_ascii=False, default=str)
        if len(shown) > 100:
            shown = shown[:97] + "..."
        return f"{self.server.config.name}:{self.remote_name} {shown}"

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        text, is_error = await self.server.call(self.remote_name, args)
        return ToolResult(text, is_error=is_error)


class McpManager:
    """All configured servers of a session: started together, closed together."""

    def __init__(self, configs: Iterable[McpServerConfig], cwd: str, log_dir: Path | None = None) -> None:
        self.servers = [McpServer(c, cwd, log_dir) for c in configs]

    def start(self) -> None:
        for server in self.servers:
            server.start()

    async def wait_ready(self, timeout: float | None = None) -> None:
        await asyncio.gather(*(s.wait_ready(timeout) for s in self.servers))

    def tools(self) -> list[McpTool]:
        out: list[McpTool] = []
        seen: set[str] = set()
        for server in self.servers:
            for remote in server.tools:
                tool = McpTool(server, remote)
                if tool.name not in seen:
                    seen.add(tool.name)
                    out.append(tool)
        return out

    def trusted_rules(self) -> list[str]:
        """Allow rules for the servers marked ``trust``."""
        return [tool_name(s.config.name, "")[:-2] for s in self.servers if s.config.trust]

    def errors(self) -> list[str]:
        return [
            f"MCP server {s.config.name!r} ({s.config.describe()}): {s.error}"
            for s in self.servers
            if s.error
        ]

    async def close(self) -> None:
        await asyncio.gather(*(s.close() for s in self.servers), return_exceptions=True)

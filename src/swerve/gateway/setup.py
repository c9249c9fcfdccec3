"""Putting a gateway together from settings and running it until it is told to stop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from swerve.config import resolve
from swerve.errors import ConfigError
from swerve.gateway.backends import backend_settings, build_backend
from swerve.gateway.log import RequestLog
from swerve.gateway.routing import Routes, parse_gateway
from swerve.gateway.server import Gateway
from swerve.settings_files import read_settings_file, user_settings_path


def gateway_settings(path: str | None) -> Any:
    """The ``gateway`` object of a settings file (``path``, else ``~/.swerve/settings.json``)."""
    if path is None:
        return read_settings_file(user_settings_path()).get("gateway")
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the settings file {path}: {exc}") from None
    if not isinstance(data, dict) or "gateway" not in data:
        raise ConfigError(f'{path} has no "gateway" object')
    return data["gateway"]


def build_routes(
    cwd: str, flags: dict[str, Any], settings_file: str | None = None, strict: bool = False
) -> Routes:
    """Routes from ``--backend``-style flags (one backend, from swerve's usual settings), else from
    the ``gateway`` settings. ``strict``: names no route names are a 404 instead of the default."""
    given = {k: v for k, v in flags.items() if v is not None}
    conf = None if given else gateway_settings(settings_file)
    if conf is None:
        backend = build_backend("default", resolve(cwd, given))
        return Routes({"default": backend}, default=None if strict else "default")
    entries, patterns, default, background = parse_gateway(conf)
    backends = {}
    try:
        for name, entry in entries.items():
            backends[name] = build_backend(name, backend_settings(name, entry))
    except BaseException:
        for built in backends.values():
            with contextlib.suppress(Exception):
                asyncio.run(built.aclose())
        raise
    return Routes(backends, patterns, None if strict else default, background)


def client_hints(url: str, token_set: bool) -> list[str]:
    """How each client is pointed here (the token by name, never its value)."""
    token = "$SWERVE_GATEWAY_TOKEN" if token_set else "swerve"
    return [
        f"  Claude Code:  ANTHROPIC_BASE_URL={url} ANTHROPIC_AUTH_TOKEN={token} ANTHROPIC_MODEL=<model> claude",
        f"  Qwen Code:    OPENAI_BASE_URL={url}/v1 OPENAI_API_KEY={token} OPENAI_MODEL=<model> qwen",
        f'  Codex:        model_providers.swerve = {{ base_url = "{url}/v1", wire_api = "responses" }}',
        f"  Cline, SDKs:  OpenAI-compatible base URL {url}/v1",
    ]


async def serve(
    routes: Routes,
    *,
    host: str,
    port: int,
    auth_token: str | None,
    log_path: str | None,
    max_body: int,
    out: TextIO = sys.stdout,
) -> int:
    """Serve until SIGINT or SIGTERM."""
    log = (
        RequestLog(log_path, [auth_token, *(b.config.api_key for b in routes.backends.values())])
        if log_path
        else None
    )
    try:
        gateway = Gateway(routes, host=host, port=port, auth_token=auth_token, log=log, max_body=max_body)
        await gateway.start()
    except BaseException:
        await routes.aclose()
        if log is not None:
            log.close()
        raise
    print(f"swerve serve: listening on {gateway.url}", file=out, flush=True)
    for backend in routes.backends.values():
        print(f"  backend {backend.describe()}", file=out)
    for line in client_hints(gateway.url, bool(auth_token)):
        print(line, file=out)
    out.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runner = asyncio.ensure_future(gateway.serve_forever())
    await stop.wait()
    runner.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await runner
    await gateway.close()
    return 0


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop when it is installed (the ``gateway`` extra) and ``$SWERVE_GATEWAY_LOOP`` is
    not ``asyncio``: it takes a third or so off what each request costs; else asyncio's own."""
    if os.environ.get("SWERVE_GATEWAY_LOOP", "") == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def token_from(flag: str | None) -> str | None:
    return flag or os.environ.get("SWERVE_GATEWAY_TOKEN") or None

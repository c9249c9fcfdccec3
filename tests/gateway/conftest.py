"""Fixtures for the gateway: ``swerve serve``'s server in front of scripted loopback backends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from swerve.config import settings_from_mapping
from swerve.gateway.backends import Backend, build_backend
from swerve.gateway.log import RequestLog
from swerve.gateway.routing import Routes
from swerve.gateway.server import Gateway
from swerve.testing.openai_server import OpenAIScriptServer

StartGateway = Callable[..., Awaitable[tuple[Gateway, OpenAIScriptServer]]]


def backend_for(name: str, base_url: str, **settings: Any) -> Backend:
    entry = {
        "model": settings.pop("model", "backend-model"),
        "provider": "openai",
        "baseUrl": base_url,
        **settings,
    }
    return build_backend(name, settings_from_mapping(entry, f"test backend {name}"))


@pytest.fixture
async def gateway() -> AsyncIterator[StartGateway]:
    """``gw, backend = await gateway(script, auth_token=..., log=..., strict=..., **backend settings)``:
    a gateway on a free loopback port before an OpenAIScriptServer playing ``script``."""
    started: list[tuple[Gateway, OpenAIScriptServer]] = []

    async def start(
        script: list[dict[str, Any]],
        *,
        auth_token: str | None = None,
        log: str | None = None,
        strict: bool = False,
        max_body: int = 1024 * 1024,
        **settings: Any,
    ) -> tuple[Gateway, OpenAIScriptServer]:
        server = OpenAIScriptServer(script).start()
        backend = backend_for("default", server.base_url, **settings)
        routes = Routes({"default": backend}, default=None if strict else "default")
        request_log = RequestLog(log, [auth_token, settings.get("apiKey")]) if log else None
        gw = Gateway(routes, auth_token=auth_token, log=request_log, max_body=max_body)
        await gw.start()
        started.append((gw, server))
        return gw, server

    yield start
    for gw, server in started:
        await gw.close()
        server.close()


@pytest.fixture
def make_backend() -> Callable[..., Backend]:
    """``make_backend(name, base_url, **settings)``: a Backend over an OpenAI-compatible URL."""
    return backend_for

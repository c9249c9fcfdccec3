"""The gateway's HTTP server: the faces' routes on ``swerve.httpd``, auth, and the request log.

    routes = Routes({"default": backend}, default="default")
    async with Gateway(routes, port=0) as gateway:
        print(gateway.url)   # ANTHROPIC_BASE_URL / OPENAI_BASE_URL={url}/v1

It listens on 127.0.0.1; another interface needs an auth token. With a token, every API request
must carry it (``Authorization: Bearer`` or ``x-api-key``), or gets a 401 in its client's shape.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from types import ModuleType
from typing import Any

from swerve.errors import ConfigError, ModelError
from swerve.gateway import anthropic_messages, chat_completions, responses
from swerve.gateway.errors import backend_failure, render_error
from swerve.gateway.history import paired
from swerve.gateway.log import RequestLog, loggable_headers
from swerve.gateway.routing import Routes
from swerve.gateway.tokens import count_tokens
from swerve.gateway.turns import ClosingStream, start, usable_calls
from swerve.httpd import HTTPError, HTTPServer, Request, Response, Router, StreamResponse, json_response
from swerve.models.urls import is_loopback

DEFAULT_PORT = 8787
DEFAULT_MAX_BODY = 32 * 1024 * 1024  # long agent sessions send megabytes of history
DEFAULT_HEARTBEAT_S = 10.0  # a stream quiet this long (a long tool call being written) gets a keep-alive
FaceHandler = Callable[[Request, dict[str, Any]], Awaitable[Response | StreamResponse]]


class Gateway:
    """Serves the Anthropic Messages, Chat Completions and Responses faces over ``routes``."""

    def __init__(
        self,
        routes: Routes,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        auth_token: str | None = None,
        log: RequestLog | None = None,
        max_body: int = DEFAULT_MAX_BODY,
        heartbeat_s: float = DEFAULT_HEARTBEAT_S,
    ) -> None:
        if not auth_token and not is_loopback(f"http://{host}"):
            raise ConfigError(
                f"listening on {host} needs an auth token (--auth-token or $SWERVE_GATEWAY_TOKEN)"
            )
        self.routes = routes
        self.auth_token = auth_token or None
        self.log = log
        self.heartbeat_s = heartbeat_s
        router = Router()
        router.add("POST", "/v1/messages", self._face(self._turn_handler(anthropic_messages)))
        router.add("POST", "/v1/messages/count_tokens", self._face(self._count_tokens))
        for path in ("/v1/chat/completions", "/chat/completions"):
            router.add("POST", path, self._face(self._turn_handler(chat_completions)))
        for path in ("/v1/responses", "/responses"):
            router.add("POST", path, self._face(self._turn_handler(responses)))
        for path in ("/v1/models", "/models"):
            router.add("GET", path, self._face(self._models))
        for path in ("/", "/health"):
            router.add("GET", path, self._health)
        self.http = HTTPServer(
            router,
            host=host,
            port=port,
            max_body=max_body,
            error_response=render_error,
            request_timeout_s=120.0,
            server_name="swerve-gateway",
        )

    @property
    def url(self) -> str:
        return self.http.url

    async def start(self) -> Gateway:
        await self.http.start()
        return self

    async def serve_forever(self) -> None:
        await self.http.serve_forever()

    async def close(self) -> None:
        await self.http.close()
        await self.routes.aclose()
        if self.log is not None:
            self.log.close()

    async def __aenter__(self) -> Gateway:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # plumbing ----------------------------------------------------------------

    def _check_auth(self, request: Request) -> None:
        if self.auth_token is None:
            return
        given = request.headers.get("x-api-key") or ""
        bearer = request.headers.get("authorization", "")
        if bearer.lower().startswith("bearer "):
            given = given or bearer[7:].strip()
        if not given or not hmac.compare_digest(given.encode(), self.auth_token.encode()):
            raise HTTPError(
                401, "a valid gateway token is required (Authorization: Bearer TOKEN or x-api-key)"
            )

    def _face(self, handler: FaceHandler) -> Callable[[Request], Awaitable[Response | StreamResponse]]:
        """``handler`` behind auth, with its outcome logged when the response is complete."""

        async def run(request: Request) -> Response | StreamResponse:
            began = time.perf_counter()
            outcome: dict[str, Any] = {"method": request.method, "path": request.path, "status": 200}
            try:
                self._check_auth(request)
                response = await handler(request, outcome)
            except HTTPError as exc:
                outcome.update(status=exc.status, error=exc.message)
                self._record(request, outcome, began)
                raise
            if isinstance(response, StreamResponse):
                outcome["first_byte_ms"] = round((time.perf_counter() - began) * 1000, 2)
                response.chunks = _Logged(
                    response.chunks, lambda: self._record(request, outcome, began), outcome
                )
            else:
                outcome["status"] = response.status
                self._record(request, outcome, began)
            return response

        return run

    def _record(self, request: Request, outcome: dict[str, Any], began: float) -> None:
        if self.log is None:
            return
        record = {**outcome, "ms": round((time.perf_counter() - began) * 1000, 2)}
        record["headers"] = loggable_headers(request.headers)
        try:
            record["request"] = request.json()
        except HTTPError:
            record["request_bytes"] = len(request.body)
        self.log.write(record)

    # handlers ----------------------------------------------------------------

    def _turn_handler(self, face: ModuleType) -> FaceHandler:
        async def handle(request: Request, outcome: dict[str, Any]) -> Response | StreamResponse:
            turn_request = face.parse(request.json_object())
            turn_request.size_bytes = len(request.body)
            backend = self.routes.pick(turn_request.model)
            turn_request.messages = paired(turn_request.messages)
            outcome.update(model=turn_request.model, backend=backend.name, stream=turn_request.stream)
            if turn_request.notes:
                outcome["notes"] = turn_request.notes
            sampling = backend.sampling(turn_request.sampling)
            model, release = backend.lease()
            if not turn_request.stream:
                try:
                    turn = usable_calls(
                        await model.complete(turn_request.messages, turn_request.tools, sampling=sampling)
                    )
                except ModelError as exc:
                    raise backend_failure(exc) from None
                finally:
                    release()
                outcome.update(
                    finish=turn.finish_reason, usage=turn.usage.dict(), tool_calls=len(turn.tool_calls)
                )
                return json_response(face.message(turn, turn_request))
            try:
                stream, first = await start(model, turn_request, sampling, self.heartbeat_s, release)
            except ModelError as exc:
                raise backend_failure(exc) from None
            chunks = ClosingStream(face.events(stream, first, turn_request, outcome), stream)
            return StreamResponse(chunks, headers=[("cache-control", "no-cache")])

        return handle

    async def _count_tokens(self, request: Request, outcome: dict[str, Any]) -> Response:
        turn_request = anthropic_messages.parse({**request.json_object(), "max_tokens": 1})
        backend = self.routes.pick(turn_request.model)
        turn_request.messages = paired(turn_request.messages)
        tokens, how = await count_tokens(turn_request, backend)
        outcome.update(model=turn_request.model, backend=backend.name, counted=how)
        return json_response({"input_tokens": tokens})

    async def _models(self, request: Request, outcome: dict[str, Any]) -> Response:
        """The served names in a shape both SDKs read (OpenAI's list, Anthropic's page)."""
        data = [
            {
                "id": name,
                "object": "model",
                "type": "model",
                "display_name": name,
                "created": 0,
                "created_at": "1970-01-01T00:00:00Z",
                "owned_by": "swerve",
            }
            for name in self.routes.served()
        ]
        page = {"object": "list", "data": data, "has_more": False}
        page.update(first_id=data[0]["id"] if data else None, last_id=data[-1]["id"] if data else None)
        return json_response(page)

    async def _health(self, request: Request) -> Response:
        """Liveness, with the open client connections and running asyncio tasks (for leak checks)."""
        return json_response(
            {
                "status": "ok",
                "backends": sorted(self.routes.backends),
                "connections": len(self.http._connections),
                "tasks": len(asyncio.all_tasks()),
            }
        )


class _Logged:
    """A stream's chunks, with its record written once when it is closed (finished, cut off, or
    never started: closing it closes what it wraps in every case)."""

    def __init__(
        self, chunks: AsyncIterator[bytes], record: Callable[[], None], outcome: dict[str, Any]
    ) -> None:
        self._chunks = chunks
        self._record = record
        self._outcome = outcome
        self._closed = False

    def __aiter__(self) -> _Logged:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self._chunks.__anext__()
        except StopAsyncIteration:
            raise
        except BaseException as exc:
            self._outcome.setdefault("error", f"stream ended: {type(exc).__name__}")
            raise

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            closer = getattr(self._chunks, "aclose", None)
            if closer is not None:
                await closer()
        finally:
            self._record()

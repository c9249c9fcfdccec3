"""A small asyncio HTTP/1.1 server on h11: routes, bounded JSON bodies, keep-alive, streaming.

Generic on purpose: the local model server, the API gateways and the report server all sit on
it, so it holds no application logic. What it does for every handler:

- bodies are read whole before the handler runs, up to ``max_body`` bytes (413 beyond, checked
  against ``Content-Length`` before anything is read); ``Expect: 100-continue`` is honoured;
- a handler returns a :class:`Response` or a :class:`StreamResponse` (chunked, e.g. SSE);
- a client that goes away while its request runs cancels the handler's task, so a generation
  behind it stops instead of running for nobody;
- malformed requests get a 400 and the connection is closed; unknown paths 404, wrong methods 405;
- :meth:`HTTPServer.close` stops accepting, lets running requests finish within a grace period,
  then cancels what is left. It binds 127.0.0.1 unless told otherwise.

    router = Router()

    @router.route("GET", "/health")
    async def health(request: Request) -> Response:
        return json_response({"status": "ok"})

    async with HTTPServer(router, port=0) as server:
        print(server.url)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import h11

from swerve.errors import SwerveError

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY = 8 * 1024 * 1024
_READ_SIZE = 256 * 1024
_REASONS = {404: "not_found_error", 503: "unavailable_error"}


class HTTPError(SwerveError):
    """Raised by a handler (or the server) to answer with an error status and message."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type or _REASONS.get(status, "server_error" if status >= 500 else "invalid_request_error")
        self.headers = headers or []
        self.path = ""  # the request path it answers, once known (a server with several faces
        # renders each face's errors in its own shape)


@dataclass
class Request:
    """One request, its body already read. Header names are lower-cased."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    client: tuple[str, int] | None = None

    def json(self) -> Any:
        """The body parsed as JSON; a 400 with the parser's reason when it is not."""
        if not self.body:
            raise HTTPError(400, "the request body is empty; a JSON body is required")
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise HTTPError(400, f"the request body is not valid JSON: {exc}") from None

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object (a 400 for arrays, strings, numbers)."""
        data = self.json()
        if not isinstance(data, dict):
            raise HTTPError(400, f"the request body must be a JSON object, not {type(data).__name__}")
        return data


@dataclass
class Response:
    """A complete response."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class StreamResponse:
    """A response whose body is produced piece by piece (sent chunked); SSE by default."""

    chunks: AsyncIterator[bytes]
    status: int = 200
    content_type: str = "text/event-stream"
    headers: list[tuple[str, str]] = field(default_factory=list)


Handler = Callable[[Request], Awaitable[Response | StreamResponse]]
ErrorRenderer = Callable[[HTTPError], Response]


def dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON, as every response here is written."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def json_response(data: Any, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, dumps(data), "application/json", headers or [])


def sse_event(data: Any, event: str | None = None) -> bytes:
    """One server-sent event; ``data`` that is not a str is written as JSON."""
    text = data if isinstance(data, str) else dumps(data).decode()
    head = f"event: {event}\n" if event else ""
    return (head + "".join(f"data: {line}\n" for line in text.split("\n")) + "\n").encode()


def sse_response(events: AsyncIterator[Any], headers: list[tuple[str, str]] | None = None) -> StreamResponse:
    """Stream each item of ``events`` (JSON-able, or ready bytes) as one SSE event."""

    async def encode() -> AsyncIterator[bytes]:
        async for item in events:
            yield item if isinstance(item, bytes) else sse_event(item)

    return StreamResponse(encode(), headers=[("cache-control", "no-cache"), *(headers or [])])


def default_error_response(error: HTTPError) -> Response:
    """Errors in OpenAI's shape, which llama.cpp's server uses as well."""
    body = {"error": {"code": error.status, "message": error.message, "type": error.type}}
    return json_response(body, error.status, error.headers)


class Router:
    """Exact-path routes: ``(method, path) -> handler``."""

    def __init__(self) -> None:
        self._routes: dict[str, dict[str, Handler]] = {}

    def add(self, method: str, path: str, handler: Handler) -> None:
        self._routes.setdefault(path, {})[method.upper()] = handler

    def route(self, method: str, *paths: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            for path in paths:
                self.add(method, path, handler)
            return handler

        return register

    def resolve(self, method: str, path: str) -> Handler:
        methods = self._routes.get(path)
        if methods is None:
            raise HTTPError(404, f"no route for {path}")
        handler = methods.get(method) or (methods.get("GET") if method == "HEAD" else None)
        if handler is None:
            allowed = ", ".join(sorted(methods))
            raise HTTPError(
                405, f"{method} is not allowed on {path} (allowed: {allowed})", headers=[("allow", allowed)]
            )
        return handler


class _CloseConnection(Exception):
    """The connection cannot go on: the peer left, or a stream broke off midway."""


class HTTPServer:
    """Serves a :class:`Router` over HTTP/1.1 on one host and port (port 0 picks a free one)."""

    def __init__(
        self,
        router: Router,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_body: int = DEFAULT_MAX_BODY,
        error_response: ErrorRenderer = default_error_response,
        keepalive_timeout_s: float = 75.0,
        request_timeout_s: float = 60.0,
        max_header_bytes: int = 64 * 1024,
        server_name: str = "swerve",
    ) -> None:
        self.router = router
        self.host = host
        self.max_body = max_body
        self.error_response = error_response
        self.keepalive_timeout_s = keepalive_timeout_s
        self.request_timeout_s = request_timeout_s
        self.max_header_bytes = max_header_bytes
        self._requested_port = port
        self._server_header = ("server", server_name)
        self._server: asyncio.Server | None = None
        self._port = 0
        self._connections: dict[asyncio.Task[None], _Connection] = {}
        self._closing = False

    async def start(self) -> HTTPServer:
        self._server = await asyncio.start_server(
            self._accept, self.host, self._requested_port, limit=_READ_SIZE
        )
        self._port = int(self._server.sockets[0].getsockname()[1])
        return self

    @property
    def port(self) -> int:
        assert self._port, "the server is not started"
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def serve_forever(self) -> None:
        assert self._server is not None, "the server is not started"
        with contextlib.suppress(asyncio.CancelledError):
            await self._server.serve_forever()

    async def close(self, grace_s: float = 5.0) -> None:
        """Stop accepting; idle connections close now, running requests get ``grace_s`` to finish."""
        self._closing = True
        if self._server is not None:
            self._server.close()
        for task, connection in list(self._connections.items()):
            if not connection.busy:
                task.cancel()
        if self._connections:
            _, pending = await asyncio.wait(list(self._connections), timeout=grace_s)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> HTTPServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        connection = _Connection(self, reader, writer)
        self._connections[task] = connection
        try:
            await connection.run()
        except asyncio.CancelledError:
            pass
        finally:
            self._connections.pop(task, None)
            connection.abort_read()
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


class _Connection:
    """One client connection: a loop of request -> handler -> response, with keep-alive."""

    def __init__(
        self, server: HTTPServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=server.max_header_bytes)
        self.busy = False
        self._read: asyncio.Task[bytes] | None = None
        peer = writer.get_extra_info("peername")
        self.client = (str(peer[0]), int(peer[1])) if isinstance(peer, tuple) and len(peer) >= 2 else None

    def abort_read(self) -> None:
        if self._read is not None and not self._read.done():
            self._read.cancel()

    def _read_task(self) -> asyncio.Task[bytes]:
        if self._read is None:
            self._read = asyncio.ensure_future(self.reader.read(_READ_SIZE))
        return self._read

    async def _receive(self, timeout: float) -> None:
        task = self._read_task()
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            raise TimeoutError
        self._read = None
        try:
            data = task.result()
        except (ConnectionError, OSError):
            data = b""
        self.h11.receive_data(data)

    async def _event(self, timeout: float) -> Any:
        while True:
            event = self.h11.next_event()
            if event is not h11.NEED_DATA:
                return event
            await self._receive(timeout)

    async def _send(self, *events: Any) -> None:
        data = b"".join(self.h11.send(event) or b"" for event in events)  # one write: one syscall
        if data:
            self.writer.write(data)
        await self.writer.drain()

    async def run(self) -> None:
        while not self.server._closing:
            try:
                request = await self._read_request()
            except TimeoutError:
                return
            except h11.RemoteProtocolError as exc:
                await self._send_error_and_close(
                    HTTPError(exc.error_status_hint, f"malformed request: {exc}")
                )
                return
            except HTTPError as exc:
                await self._send_error_and_close(exc)
                return
            if request is None:
                return
            self.busy = True
            try:
                await self._handle(request)
            except _CloseConnection:
                return
            finally:
                self.busy = False
            if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
                self.h11.start_next_cycle()
            else:
                return

    async def _read_request(self) -> Request | None:
        event = await self._event(self.server.keepalive_timeout_s)
        if isinstance(event, h11.ConnectionClosed):
            return None
        if not isinstance(event, h11.Request):
            raise h11.RemoteProtocolError("expected a request line")
        headers: dict[str, str] = {}
        for name, value in event.headers:
            key, text = name.decode("latin-1").lower(), value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        target = urlsplit(event.target.decode("latin-1"))
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.server.max_body:
            error = HTTPError(
                413, f"the request body ({length} bytes) is over the limit of {self.server.max_body} bytes"
            )
            error.path = target.path
            raise error
        if self.h11.client_is_waiting_for_100_continue:
            await self._send(h11.InformationalResponse(status_code=100, headers=[]))
        body = bytearray()
        while True:
            part = await self._event(self.server.request_timeout_s)
            if isinstance(part, h11.Data):
                body += part.data
                if len(body) > self.server.max_body:
                    error = HTTPError(
                        413, f"the request body is over the limit of {self.server.max_body} bytes"
                    )
                    error.path = target.path
                    raise error
            elif isinstance(part, h11.EndOfMessage):
                break
            elif isinstance(part, h11.ConnectionClosed):
                return None
        return Request(
            event.method.decode("ascii").upper(),
            target.path or "/",
            dict(parse_qsl(target.query)),
            headers,
            bytes(body),
            self.client,
        )

    async def _handle(self, request: Request) -> None:
        handler_task = asyncio.ensure_future(self._dispatch(request))
        watch = self._read_task()
        try:
            done, _ = await asyncio.wait({handler_task, watch}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            handler_task.cancel()
            raise
        if watch in done and handler_task not in done:
            self._read = None
            try:
                data = watch.result()
            except (ConnectionError, OSError):
                data = b""
            if not data:
                # The client is gone: stop the work done on its behalf.
                handler_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await handler_task
                raise _CloseConnection
            self.h11.receive_data(data)  # a pipelined request: kept for the next cycle
        try:
            await handler_task
        except (ConnectionError, OSError):
            raise _CloseConnection from None
        except asyncio.CancelledError:
            handler_task.cancel()
            raise

    async def _dispatch(self, request: Request) -> None:
        try:
            handler = self.server.router.resolve(request.method, request.path)
            response = await handler(request)
        except HTTPError as exc:
            exc.path = exc.path or request.path
            response = self.server.error_response(exc)
        except Exception as exc:
            log.exception("handler for %s %s failed", request.method, request.path)
            error = HTTPError(500, f"internal error: {type(exc).__name__}: {exc}")
            error.path = request.path
            response = self.server.error_response(error)
        if request.method == "HEAD":  # the GET's status and headers, never a body
            if isinstance(response, StreamResponse):
                closer = getattr(response.chunks, "aclose", None)
                if closer is not None:
                    await closer()
                response = Response(response.status, b"", response.content_type, response.headers)
            await self._respond(response, head=True)
        elif isinstance(response, StreamResponse):
            await self._stream(response)
        else:
            await self._respond(response)

    def _headers(self, status_headers: list[tuple[str, str]], content_type: str) -> list[tuple[str, str]]:
        headers = [self.server._server_header, ("content-type", content_type), *status_headers]
        if self.server._closing:
            headers.append(("connection", "close"))
        return headers

    async def _respond(self, response: Response, head: bool = False) -> None:
        headers = self._headers(response.headers, response.content_type)
        headers.append(("content-length", str(len(response.body))))
        body = [] if head else [h11.Data(data=response.body)]
        await self._send(
            h11.Response(status_code=response.status, headers=headers), *body, h11.EndOfMessage()
        )

    async def _stream(self, response: StreamResponse) -> None:
        headers = self._headers(response.headers, response.content_type)
        chunks = response.chunks
        try:  # closed whatever happens, even when the headers cannot be sent
            await self._send(h11.Response(status_code=response.status, headers=headers))
            async for chunk in chunks:
                if chunk:
                    await self._send(h11.Data(data=chunk))
        except (ConnectionError, OSError, asyncio.CancelledError):
            raise
        except Exception:
            # Headers are out: the only honest signal left is an unterminated body.
            log.exception("stream for %s broke off", response.content_type)
            raise _CloseConnection from None
        finally:
            closer = getattr(chunks, "aclose", None)
            if closer is not None:
                await closer()
        await self._send(h11.EndOfMessage())

    async def _send_error_and_close(self, error: HTTPError) -> None:
        response = self.server.error_response(error)
        headers = [
            self.server._server_header,
            ("content-type", response.content_type),
            ("content-length", str(len(response.body))),
            ("connection", "close"),
            *response.headers,
        ]
        try:
            await self._send(
                h11.Response(status_code=response.status, headers=headers),
                h11.Data(data=response.body),
                h11.EndOfMessage(),
            )
        except h11.LocalProtocolError:
            head = f"HTTP/1.1 {response.status} Error\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
            self.writer.write(head.encode("latin-1") + b"\r\n" + response.body)
            with contextlib.suppress(ConnectionError, OSError):
                await self.writer.drain()
        except (ConnectionError, OSError):
            pass

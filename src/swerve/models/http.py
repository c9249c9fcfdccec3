"""Server-sent events over HTTP, with failures sorted into retryable and final.

``iter_sse`` turns the lines of a response body into events. ``open_stream`` posts a JSON request
and yields the response once its status is known to be good; transport failures (refused or
dropped connections, timeouts, a body cut off mid-way) surface as ``RetryableError`` and HTTP
errors as ``RetryableError`` or ``ModelError`` by status. Messages never contain the API key.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from swerve.errors import ModelError
from swerve.models.base import Message, ModelTurn, Sampling, TextCallback, ToolSpec
from swerve.models.retry import (
    Retry,
    RetryableError,
    RetryPolicy,
    is_retryable_status,
    parse_retry_after,
    with_retries,
)
from swerve.models.turns import Display
from swerve.models.urls import is_loopback, public_url
from swerve.secrets import redact

ERROR_SNIPPET_CHARS = 500


@dataclass(frozen=True)
class SSEEvent:
    event: str
    data: str


async def body_lines(chunks: AsyncIterator[str]) -> AsyncIterator[str]:
    """Lines of a streamed body split on ``\n`` only. (httpx's ``aiter_lines`` also splits on
    U+2028, U+2029 and U+0085, which servers send unescaped inside JSON data.)"""
    pending = ""
    async for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split("\n")
        for line in complete:
            yield line
    if pending:
        yield pending


async def drain(lines: AsyncIterator[str], max_lines: int = 256) -> None:
    """Read what is left of a body once its last event is in (a few bytes: the end of the
    chunked encoding), so the connection goes back to the pool instead of being closed. A body
    that goes on past ``max_lines`` is left unread (the connection is then dropped)."""
    count = 0
    async for _ in lines:
        count += 1
        if count >= max_lines:
            return


async def iter_sse(lines: AsyncIterator[str]) -> AsyncIterator[SSEEvent]:
    """Events from SSE lines: ``event:`` and ``data:`` fields, blank line ends an event,
    ``:`` comments skipped. A last event without its blank line is still delivered."""
    event = ""
    data: list[str] = []
    async for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                yield SSEEvent(event or "message", "\n".join(data))
            event, data = "", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
    if data:
        yield SSEEvent(event or "message", "\n".join(data))


def parse_json_data(data: str) -> list[Any]:
    """The JSON value(s) in one event's data. Some servers forget the blank line between
    events, which glues several ``data:`` lines into one event; each line is then read alone.
    Raises RetryableError when the data is not JSON."""
    try:
        return [json.loads(data)]
    except (ValueError, RecursionError):
        pass
    if "\n" in data:
        try:
            return [json.loads(part) for part in data.split("\n") if part.strip()]
        except (ValueError, RecursionError):
            pass
    raise RetryableError(f"the server sent a malformed stream chunk: {clip(data, 200)!r}")


def clip(text: str, limit: int = ERROR_SNIPPET_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "..."


def server_message(body: bytes) -> str:
    """The error message a server put in its response body, whatever the vendor's shape."""
    text = body.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return clip(text) or "(empty body)"
    return clip(_find_message(data) or text) or "(empty body)"


def _find_message(data: Any) -> str:
    if isinstance(data, str):
        return data
    if isinstance(data, list) and data:
        return _find_message(data[0])
    if not isinstance(data, dict):
        return ""
    for key in ("error", "message", "detail", "msg"):
        if key in data:
            found = _find_message(data[key])
            if found:
                return found
    return ""


_HINTS = {
    401: "check the API key",
    403: "check the API key and that it may use this model",
    404: "check the base URL and the model name",
    413: "the request is too large",
}


def make_client(base_url: str, timeout: float, headers: dict[str, str]) -> httpx.AsyncClient:
    """An HTTP client for one endpoint. Loopback endpoints skip proxy settings from the environment."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 30.0)),
        headers=headers,
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
        trust_env=not is_loopback(base_url),
        follow_redirects=True,
    )


@asynccontextmanager
async def open_stream(
    client: httpx.AsyncClient,
    url: str,
    payload: dict[str, Any],
    *,
    headers: dict[str, str] | None = None,
    secrets: Iterable[str | None] = (),
) -> AsyncIterator[httpx.Response]:
    """POST ``payload`` as JSON and yield the streaming response when its status is 2xx.

    Transport errors anywhere inside the block (including while the caller reads the body)
    become RetryableError; HTTP errors become RetryableError or ModelError by status."""
    endpoint = public_url(url)
    secrets = list(secrets)
    try:
        async with client.stream("POST", url, json=payload, headers=headers) as response:
            if response.status_code >= 400:
                body = await response.aread()
                message = redact(server_message(body), secrets)
                status = response.status_code
                if is_retryable_status(status):
                    retry_after = parse_retry_after(response.headers.get("retry-after"))
                    raise RetryableError(f"HTTP {status}: {message}", status=status, retry_after=retry_after)
                hint = _HINTS.get(status)
                raise ModelError(
                    f"the server refused the request: {message}" + (f" ({hint})" if hint else ""),
                    endpoint=endpoint,
                    status=status,
                )
            yield response
    except httpx.UnsupportedProtocol:
        raise ModelError("the base URL must start with http:// or https://", endpoint=endpoint) from None
    except httpx.TimeoutException as exc:
        raise RetryableError(f"timed out ({type(exc).__name__})") from None
    except httpx.TransportError as exc:
        detail = redact(str(exc), secrets) or type(exc).__name__
        raise RetryableError(f"connection failed: {detail}") from None
    except httpx.InvalidURL as exc:
        raise ModelError(f"invalid URL: {exc}", endpoint=endpoint) from None


async def read_json_body(response: httpx.Response) -> Any:
    """The whole body of a non-streaming response as JSON; RetryableError when it is not JSON."""
    body = await response.aread()
    if "html" in response.headers.get("content-type", ""):
        raise ModelError(
            "the endpoint answered with a web page, not an API response (check the base URL)",
            endpoint=public_url(str(response.request.url)),
            status=response.status_code,
        )
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise RetryableError(
            f"the server sent a body that is not JSON: {clip(body.decode('utf-8', 'replace'), 200)!r}"
        ) from None


class HTTPModelBase:
    """What the HTTP providers share: one client per event loop, the retry policy, and a record
    of the retries made (``retries``, ``retry_delays``) for inspection and logs."""

    base_url: str
    endpoint: str
    timeout: float
    _headers: dict[str, str]

    def _init_http(
        self,
        retry_policy: RetryPolicy | None,
        max_retries: int | None,
        on_retry: Callable[[Retry], None] | None,
    ) -> None:
        policy = retry_policy or RetryPolicy.from_env()
        if max_retries is not None:
            policy = RetryPolicy(
                max(1, max_retries + 1), policy.base_delay, policy.max_delay, policy.max_retry_after
            )
        self.retry_policy = policy
        self.retries: list[Retry] = []
        self.on_retry = on_retry
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    @property
    def retry_delays(self) -> list[float]:
        return [r.delay for r in self.retries]

    def payload(
        self, messages: list[Message], tools: list[ToolSpec], sampling: Sampling | None
    ) -> dict[str, Any]:
        raise NotImplementedError

    async def _attempt(self, body: dict[str, Any], tools: list[ToolSpec], display: Display) -> ModelTurn:
        raise NotImplementedError

    async def complete(
        self,
        messages: list[Message],
        tools: list[ToolSpec],
        *,
        sampling: Sampling | None = None,
        on_text: TextCallback | None = None,
    ) -> ModelTurn:
        """One turn: the request is built once; each attempt streams it anew."""
        body = self.payload(messages, tools, sampling)
        display = Display(on_text)
        turn: ModelTurn = await self._with_retries(lambda _n: self._attempt(body, tools, display))
        turn.request = body
        return turn

    async def _with_retries(self, attempt: Callable[[int], Awaitable[Any]]) -> Any:
        return await with_retries(
            self.retry_policy, attempt, endpoint=self.endpoint, on_retry=self._record_retry
        )

    def _record_retry(self, retry: Retry) -> None:
        self.retries.append(retry)
        if self.on_retry is not None:
            self.on_retry(retry)

    def _http(self) -> httpx.AsyncClient:
        """The client for the running event loop (a client cannot move between loops)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop or self._client.is_closed:
            self._client = make_client(self.base_url, self.timeout, self._headers)
            self._client_loop = loop
        return self._client

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._client_loop is asyncio.get_running_loop():
            await client.aclose()

"""One turn through a backend, shared by every face: the request in swerve's own shape, and a
``TurnStream`` that runs the model as a task and hands its text out as it comes.

A stream is cancelled with :meth:`TurnStream.aclose` (the server calls it when a client goes
away), which cancels the backend request behind it."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from swerve.models.base import Message, Model, ModelTurn, Sampling, ToolSpec

_END = object()
KEEPALIVE = b": keep-alive\n\n"  # an SSE comment: clients skip it, proxies and sockets see traffic
CHARS_PER_TOKEN = 4  # the estimate count_tokens uses when the backend cannot count


@dataclass
class TurnRequest:
    """A client's request in swerve's terms: the OpenAI-shaped history of ``models.base``."""

    model: str  # as the client named it
    messages: list[Message]
    tools: list[ToolSpec]
    sampling: Sampling = field(default_factory=Sampling)
    stream: bool = False
    notes: list[str] = field(default_factory=list)  # what was adapted on the way in (logged)
    options: dict[str, Any] = field(default_factory=dict)  # the face's own (e.g. include_usage)
    size_bytes: int = 0  # of the request body: a free first estimate of its tokens


def history_arguments(raw: Any) -> dict[str, Any]:
    """Call arguments of a client's history (JSON text, mended where it can be) as a dict."""
    from swerve.models.arguments import decode_arguments

    try:
        return decode_arguments(raw)
    except (ValueError, RecursionError):
        return {}


def estimate_tokens(messages: list[Message], tools: list[ToolSpec]) -> int:
    """Tokens of a request by size (four characters a token): an estimate for count_tokens."""
    size = sum(len(json.dumps(m, ensure_ascii=False, default=str)) for m in messages)
    size += sum(len(json.dumps(t.openai(), ensure_ascii=False)) for t in tools)
    return max(1, size // CHARS_PER_TOKEN)


def tool_specs(entries: list[tuple[str, str, Any]]) -> list[ToolSpec]:
    """ToolSpecs from (name, description, schema); a schema that is not an object becomes an empty one."""
    out = []
    for name, description, schema in entries:
        if not isinstance(schema, dict):
            schema = {"type": "object", "properties": {}}
        out.append(ToolSpec(name, description or "", schema))
    return out


def usable_calls(turn: ModelTurn) -> ModelTurn:
    """``turn`` without calls that name no tool (nothing a client could run or answer)."""
    turn.tool_calls = [c for c in turn.tool_calls if c.name]
    return turn


class TurnStream:
    """``model.complete`` running as a task; :meth:`next` gives its text deltas, then ``None``
    once the turn is complete (``turn`` is set). Raises the model's ModelError."""

    def __init__(
        self,
        model: Model,
        request: TurnRequest,
        sampling: Sampling,
        heartbeat_s: float | None = None,
        release: Callable[[], None] | None = None,
    ) -> None:
        self.heartbeat_s = heartbeat_s
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._task = asyncio.ensure_future(
            model.complete(request.messages, request.tools, sampling=sampling, on_text=self._queue.put_nowait)
        )
        self._task.add_done_callback(lambda _task: self._queue.put_nowait(_END))
        if release is not None:  # the backend request is over when its task is
            self._task.add_done_callback(lambda _task: release())
        self.turn: ModelTurn | None = None
        self.streamed: list[str] = []

    async def next(self, heartbeat: bool = True) -> str | None:
        """The next text delta; ``""`` when ``heartbeat_s`` passed without one (time for a
        keep-alive); ``None`` once the turn is complete."""
        if self.turn is not None:
            return None
        if heartbeat and self.heartbeat_s:
            try:
                item = await asyncio.wait_for(self._queue.get(), self.heartbeat_s)
            except TimeoutError:
                return ""
        else:
            item = await self._queue.get()
        if item is _END:
            self.turn = usable_calls(self._task.result())
            return None
        self.streamed.append(item)
        return str(item)

    @property
    def streamed_text(self) -> str:
        return "".join(self.streamed)

    async def aclose(self) -> None:
        if not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        elif not self._task.cancelled():
            self._task.exception()  # retrieved: a failure already reported is not logged again


async def start(
    model: Model,
    request: TurnRequest,
    sampling: Sampling,
    heartbeat_s: float | None = None,
    release: Callable[[], None] | None = None,
) -> tuple[TurnStream, str | None]:
    """A stream and its first item, waited for before the client gets any headers, so a backend
    that is down or refuses the request becomes an HTTP error the client can act on."""
    stream = TurnStream(model, request, sampling, heartbeat_s, release)
    try:
        first = await stream.next(heartbeat=False)
    except BaseException:
        await stream.aclose()
        raise
    return stream, first


class ClosingStream:
    """Bytes for a StreamResponse from ``chunks``; closing it (as the server does when the client
    goes away, even before the first chunk) closes the turn behind it too."""

    def __init__(self, chunks: AsyncIterator[bytes], stream: TurnStream) -> None:
        self._chunks = chunks
        self._stream = stream

    def __aiter__(self) -> ClosingStream:
        return self

    async def __anext__(self) -> bytes:
        return await self._chunks.__anext__()

    async def aclose(self) -> None:
        closer = getattr(self._chunks, "aclose", None)
        try:
            if closer is not None:
                await closer()
        finally:
            await self._stream.aclose()

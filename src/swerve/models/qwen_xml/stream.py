"""Parsing calls while a reply streams: prose is released as soon as it cannot start a call."""

from __future__ import annotations

from swerve.models.base import (
    ToolCall,
    ToolSpec,
)
from swerve.models.qwen_xml.parse import ParseResult, parse_reply
from swerve.models.qwen_xml.scan import FenceState, scan_outside


class StreamParser:
    """Incremental view of a streamed reply: ``feed`` returns the prose that is safe to show now
    (never call markup, nothing that might still turn into a tag, no leading or trailing
    whitespace yet), ``finish`` parses the whole text exactly as ``parse_tool_calls`` does.

    Prose is shown until the first call markup; prose after it is part of the final content
    (``finish``), not of the stream. What was shown is always a prefix of the final content.
    """

    def __init__(self, tools: list[ToolSpec]) -> None:
        self._tools = list(tools)
        self._chunks: list[str] = []
        self._window = ""  # unsettled tail of the text, starting at absolute offset _base
        self._base = 0
        self._pos = 0  # absolute index the prose scan has reached
        self._emitted = 0  # absolute index up to which prose was shown (or skipped)
        self._fence = FenceState()
        self._stopped = False
        self._shown: list[str] = []
        self.result: ParseResult | None = None

    @property
    def text(self) -> str:
        """Everything fed so far."""
        return "".join(self._chunks)

    @property
    def shown(self) -> str:
        """Everything ``feed`` has returned so far."""
        return "".join(self._shown)

    def feed(self, delta: str) -> str:
        if not delta:
            return ""
        self._chunks.append(delta)
        if self._stopped:
            return ""
        self._window += delta
        decided, markup = scan_outside(self._window, self._pos - self._base, self._fence, final=False)
        decided += self._base
        self._stopped = markup is not None
        out = self._take(decided)
        self._pos = decided
        keep = min(self._emitted, max(self._pos - 1, 0))
        self._window = self._window[keep - self._base :]
        self._base = keep
        return out

    def _take(self, upto: int) -> str:
        region = self._window[self._emitted - self._base : upto - self._base]
        if not self._shown:
            stripped = region.lstrip()
            self._emitted += len(region) - len(stripped)
            region = stripped
        body = region.rstrip()
        if body:
            self._emitted += len(body)
            self._shown.append(body)
        return body

    def finish(self) -> tuple[str, list[ToolCall]]:
        """(content, calls) of the whole text."""
        self.result = parse_reply(self.text, self._tools)
        return self.result.content, self.result.calls

    def unshown(self, content: str) -> str:
        """The part of the final ``content`` that ``feed`` has not shown."""
        shown = self.shown
        return content[len(shown) :] if content.startswith(shown) else ""

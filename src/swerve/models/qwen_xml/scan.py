"""Scanning prose for the start of call markup, outside Markdown code fences and backticks
(streaming-safe: it stops before anything later text could change)."""

from __future__ import annotations

from dataclasses import dataclass

from swerve.models.qwen_xml.tags import MARKUP, MARKUP_MAX


@dataclass
class FenceState:
    """Whether the scan is inside a Markdown code fence (char is "`" or "~", run its length)."""

    char: str = ""
    run: int = 0


def scan_outside(text: str, pos: int, fence: FenceState, final: bool) -> tuple[int, int | None]:
    """Scan prose from ``pos`` for the first call markup outside code fences and backticks.

    Returns ``(decided, markup)``: ``markup`` is the index of the markup found (then ``decided``
    equals it), or None; everything before ``decided`` is settled as prose. With ``final`` False
    (streaming) the scan stops before anything more text could change: a possible fence marker at
    a line start, a closing fence line not yet ended, a possible partial tag at the end.
    """
    n = len(text)
    while pos < n:
        if pos == 0 or text[pos - 1] == "\n":
            j = pos
            while j < n and j - pos < 3 and text[j] == " ":
                j += 1
            if j == n and not final:
                return pos, None
            if j < n and text[j] in "`~":
                ch = text[j]
                k = j
                while k < n and text[k] == ch:
                    k += 1
                if k == n and not final:
                    return pos, None
                run = k - j
                if run >= 3 and not fence.char:
                    fence.char, fence.run = ch, run
                    pos = _line_end(text, k)
                    continue
                if run >= 3 and ch == fence.char and run >= fence.run:
                    e = text.find("\n", k)
                    if e == -1 and not final:
                        return pos, None
                    e = n if e == -1 else e
                    if not text[k:e].strip():
                        fence.char, fence.run = "", 0
                    pos = min(e + 1, n)
                    continue
        if fence.char:
            pos = _line_end(text, pos)
            continue
        e = text.find("\n", pos)
        line_end = n if e == -1 else e
        lt = text.find("<", pos, line_end)
        while lt != -1:
            if lt == 0 or text[lt - 1] != "`":
                for tag in MARKUP:
                    if text.startswith(tag, lt):
                        return lt, lt
                if not final and n - lt < MARKUP_MAX:
                    tail = text[lt:n]
                    if any(tag.startswith(tail) for tag in MARKUP):
                        return lt, None
            lt = text.find("<", lt + 1, line_end)
        pos = n if e == -1 else e + 1
    return n, None


def _line_end(text: str, pos: int) -> int:
    """Index just past the newline ending the line at ``pos`` (or the text's end)."""
    e = text.find("\n", pos)
    return len(text) if e == -1 else e + 1

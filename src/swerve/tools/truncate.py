"""Bounding tool output: keep the head and the tail, say what was cut from the middle."""

from __future__ import annotations

import re
from bisect import bisect_right

MAX_CHARS = 25_000
MAX_LINES = 1_000
# markers of cuts made before this one (by a command's output buffer, or an earlier truncate)
_EARLIER_CUT = re.compile(
    r"\[\.\.\. (?:(\d+) bytes of output|(\d+)\+? lines \((\d+) chars\)) omitted \.\.\.\]\n?"
)


def truncate(text: str, max_chars: int = MAX_CHARS, max_lines: int = MAX_LINES) -> str:
    """``text`` if it fits both limits, else its head and tail around the marker
    ``[... N lines (M chars) omitted ...]``. Cuts fall on line boundaries where that keeps
    at least half of a side's budget; a single huge line is cut inside."""
    max_chars = max(2, max_chars)
    max_lines = max(2, max_lines)
    starts = [0]
    pos = text.find("\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = text.find("\n", pos + 1)
    if starts[-1] == len(text) and len(starts) > 1:
        starts.pop()  # text ends with a newline: no empty last line
    n_lines = len(starts)
    if len(text) <= max_chars and n_lines <= max_lines:
        return text

    head_chars, tail_chars = max_chars // 2, max_chars - max_chars // 2
    head_lines, tail_lines = max_lines // 2, max_lines - max_lines // 2

    head_end = min(starts[head_lines] if head_lines < n_lines else len(text), head_chars)
    if head_end == head_chars:  # cut by chars: back up to a line end if that keeps enough
        nl = text.rfind("\n", 0, head_end)
        if nl + 1 >= head_chars // 2:
            head_end = nl + 1
    tail_start = max(starts[n_lines - tail_lines] if tail_lines < n_lines else 0, len(text) - tail_chars)
    if tail_start == len(text) - tail_chars:
        nl = text.find("\n", tail_start - 1)
        if nl != -1 and len(text) - (nl + 1) >= tail_chars // 2:
            tail_start = nl + 1
    tail_start = max(tail_start, head_end)

    first = bisect_right(starts, head_end) - 1
    last = bisect_right(starts, max(tail_start - 1, head_end)) - 1
    omitted_lines = last - first + 1
    omitted_chars = tail_start - head_end
    unknown_lines = False
    for m in _EARLIER_CUT.finditer(text, head_end, tail_start):  # count what was cut before, too
        omitted_chars += int(m.group(1) or m.group(3)) - len(m.group(0))
        if m.group(1):
            unknown_lines = True  # a byte count says nothing of lines
        else:
            omitted_lines += int(m.group(2)) - 1
    head = text[:head_end]
    if head and not head.endswith("\n"):
        head += "\n"
    lines = f"{omitted_lines}{'+' if unknown_lines else ''} lines"
    return f"{head}[... {lines} ({omitted_chars} chars) omitted ...]\n{text[tail_start:]}"

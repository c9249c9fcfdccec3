"""Turning things into coloured terminal text: markdown (with rich), diffs, tool lines, todos.

Everything returns a string with ANSI colour codes, ending in a newline, for the app to print
above its input box. ``NO_COLOR`` turns colours off. rich is imported on first use.
"""

from __future__ import annotations

import io
import os
import re
from typing import Any

RESET = "\x1b[0m"
STYLES = {
    "bold": "1",
    "dim": "2",
    "italic": "3",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
    "grey": "90",
    "bright_red": "91",
}
DIFF_MAX_LINES = 80
FOLD_LINES = 3


def colours_on() -> bool:
    return not os.environ.get("NO_COLOR")


def paint(text: str, *styles: str) -> str:
    if not styles or not colours_on() or not text:
        return text
    codes = ";".join(STYLES[s] for s in styles)
    return f"\x1b[{codes}m{text}{RESET}"


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def plain(text: str) -> str:
    return _ANSI.sub("", text)


def _console(width: int, buffer: io.StringIO) -> Any:
    from rich.console import Console

    return Console(
        file=buffer,
        width=max(20, width),
        force_terminal=colours_on(),
        no_color=not colours_on(),
        color_system="256" if colours_on() else None,
        highlight=False,
        emoji=False,
        soft_wrap=False,
    )


def rich_text(renderable: Any, width: int) -> str:
    buffer = io.StringIO()
    _console(width, buffer).print(renderable)
    return buffer.getvalue()


def markdown(text: str, width: int) -> str:
    """A finished markdown block, rendered."""
    from rich.markdown import Markdown

    try:
        rendered = rich_text(Markdown(text, code_theme="monokai", hyperlinks=False), width)
    except Exception:  # text the renderer chokes on is shown as it is
        return text.rstrip("\n") + "\n"
    return "\n".join(_trim_blank(rendered.split("\n"))) + "\n"


def _trim_blank(rows: list[str]) -> list[str]:
    """Rows without the blank ones at either end (blank once colour codes are removed)."""
    start, end = 0, len(rows)
    while start < end and not plain(rows[start]).strip():
        start += 1
    while end > start and not plain(rows[end - 1]).strip():
        end -= 1
    return rows[start:end]


def user_echo(text: str) -> str:
    lines = text.splitlines() or [""]
    out = [paint("> ", "bold", "magenta") + paint(lines[0], "bold")]
    out += ["  " + paint(line, "bold") for line in lines[1:]]
    return "\n".join(out) + "\n"


def tool_line(summary: str, status: str = "ok") -> str:
    colour = {"ok": "green", "error": "red", "denied": "red", "running": "yellow"}.get(status, "grey")
    return paint("● ", colour) + paint(summary, "bold") + "\n"


def fold(output: str, status: str = "ok", lines: int = FOLD_LINES) -> str:
    """A tool's result folded to its first lines, under the call's line."""
    rows = [r for r in output.rstrip("\n").splitlines()]
    shown = rows[:lines]
    colour = "red" if status in ("error", "denied") else "grey"
    out = []
    for i, row in enumerate(shown or ["(no output)"]):
        lead = "  ⎿ " if i == 0 else "    "
        out.append(paint(lead, "grey") + paint(row[:200], colour))
    if len(rows) > lines:
        out.append(paint(f"    … {len(rows) - lines} more lines (folded)", "grey"))
    return "\n".join(out) + "\n"


def diff(text: str, max_lines: int = DIFF_MAX_LINES) -> str:
    """A unified diff with added lines green, removed red, hunk headers cyan."""
    rows = text.rstrip("\n").splitlines()
    out = []
    for row in rows[:max_lines]:
        if row.startswith(("+++", "---")):
            out.append(paint(row, "bold"))
        elif row.startswith("+"):
            out.append(paint(row, "green"))
        elif row.startswith("-"):
            out.append(paint(row, "red"))
        elif row.startswith("@@"):
            out.append(paint(row, "cyan"))
        else:
            out.append(paint(row, "dim"))
    if len(rows) > max_lines:
        out.append(paint(f"… {len(rows) - max_lines} more diff lines", "grey"))
    return "\n".join("    " + r for r in out) + "\n"


def diff_counts(text: str) -> tuple[int, int]:
    rows = text.splitlines()
    added = sum(1 for r in rows if r.startswith("+") and not r.startswith("+++"))
    removed = sum(1 for r in rows if r.startswith("-") and not r.startswith("---"))
    return added, removed


TODO_MARKS = {"completed": "☒", "in_progress": "◐", "pending": "☐"}


def todos(items: list[dict[str, Any]]) -> str:
    if not items:
        return paint("  (the todo list is empty)", "grey") + "\n"
    done = sum(1 for t in items if t.get("status") == "completed")
    out = [paint(f"  Todos ({done}/{len(items)} done)", "bold")]
    for t in items:
        status = t.get("status", "pending")
        mark = TODO_MARKS.get(status, "☐")
        text = str(t.get("content", ""))
        if status == "completed":
            out.append("  " + paint(f"{mark} {text}", "grey"))
        elif status == "in_progress":
            out.append("  " + paint(f"{mark} {text}", "bold", "yellow"))
        else:
            out.append(f"  {mark} {text}")
    return "\n".join(out) + "\n"


def notice(text: str, kind: str = "info") -> str:
    colour = {"warning": "yellow", "error": "red", "compression": "cyan"}.get(kind, "grey")
    mark = {"warning": "⚠ ", "error": "✗ "}.get(kind, "※ ")
    return paint(mark + text, colour) + "\n"


def table(rows: list[list[str]], header: list[str], width: int, title: str = "") -> str:
    from rich.table import Table

    t = Table(title=title or None, show_edge=False, header_style="bold")
    for i, name in enumerate(header):
        t.add_column(name, justify="right" if i else "left")
    for row in rows:
        t.add_row(*row)
    return rich_text(t, width)


def human_tokens(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 1000:
        return f"{n / 1000:.1f}k"
    return str(n)

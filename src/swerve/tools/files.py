"""File tools: read_file, write_file, edit."""

from __future__ import annotations

import difflib
import shlex
from typing import Any, ClassVar

from swerve.errors import ToolError
from swerve.sandbox.base import FileStat
from swerve.tools import textfile
from swerve.tools.base import Tool, ToolContext, ToolResult
from swerve.tools.paths import display_path, missing_message, resolve_path
from swerve.tools.registry import validate_args
from swerve.tools.truncate import truncate

READ_DEFAULT_LINES = 2000
READ_MAX_CHARS = 24_000  # of numbered text per call; the rest is read with offset
LINE_MAX_CHARS = 2000
LARGE_FILE_BYTES = 10 * 1024 * 1024  # above this, read_file reads a range with shell tools
FUZZY_MAX_WORK = 3_000_000  # characters compared when looking for text close to old_string
DISPLAY_MAX_CHARS = 200_000


def number_lines(lines: list[str], first: int) -> str:
    """``cat -n`` style: the 1-based line number right-aligned in 6 columns, a tab, the line."""
    return "".join(f"{first + i:6}\t{line}\n" for i, line in enumerate(lines))


def unified_diff(old: str, new: str, shown: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{shown}", f"b/{shown}", n=3
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def diff_display(ctx: ToolContext, path: str, old: str, new: str) -> dict[str, Any]:
    shown = display_path(ctx, path)
    return {
        "type": "diff",
        "path": shown,
        "diff": truncate(unified_diff(old, new, shown), DISPLAY_MAX_CHARS, 5000),
    }


async def _stat_target(ctx: ToolContext, path: str) -> FileStat | None:
    """Stat ``path`` following a final symlink (already checked to stay inside)."""
    st = await ctx.workspace.stat(path)
    if st is not None and st.is_symlink:
        st = await ctx.workspace.stat(await ctx.workspace.realpath(path))
        if st is None:
            raise ToolError(f"{display_path(ctx, path)} is a symlink to a missing file")
    return st


async def _read_text(ctx: ToolContext, path: str) -> tuple[textfile.TextFile | None, FileStat | None]:
    """(decoded file, stat) or (None, None) when missing; raises ToolError for dirs and binaries."""
    st = await _stat_target(ctx, path)
    if st is None:
        return None, None
    shown = display_path(ctx, path)
    if st.is_dir:
        raise ToolError(f"{shown} is a directory, not a file")
    data = await ctx.workspace.read_bytes(path)
    tf = textfile.decode(data)
    if tf is None:
        raise ToolError(
            f"{shown} is a binary file ({textfile.describe_binary(data)}); it cannot be edited as text"
        )
    return tf, st


class ReadFile(Tool):
    name = "read_file"
    description = (
        "Read a text file. Returns lines numbered like `cat -n`. Reads the first 2000 lines unless "
        "offset/limit are given; long output says how to read on."
    )
    kind = "read"
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "file_path": {
                "type": "string",
                "description": "Path relative to the workspace root, or absolute.",
            },
            "offset": {"type": "integer", "description": "0-based line number to start at."},
            "limit": {"type": "integer", "description": "Number of lines to read."},
        },
        "required": ["file_path"],
    }

    def summary(self, args: dict[str, Any]) -> str:
        return f"read_file {args.get('file_path', '')}"

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        path = await resolve_path(ctx, args["file_path"])
        offset = args.get("offset", 0)
        limit = args.get("limit", READ_DEFAULT_LINES)
        if offset < 0:
            raise ToolError("offset must be 0 or more (the 0-based line to start at)")
        if limit < 1:
            raise ToolError("limit must be at least 1")
        shown = display_path(ctx, path)
        st = await _stat_target(ctx, path)
        if st is None:
            raise ToolError(await missing_message(ctx, path))
        if st.is_dir:
            raise ToolError(f"{shown} is a directory; use list_directory to see what it holds")
        if not st.is_file:
            raise ToolError(f"{shown} is not a regular file")
        if st.size > LARGE_FILE_BYTES:
            return await self._read_large(ctx, path, shown, st.size, offset, limit)
        data = await ctx.workspace.read_bytes(path)
        tf = textfile.decode(data)
        if tf is None:
            return ToolResult(
                f"{shown} is binary ({textfile.describe_binary(data)}); its content is not shown."
            )
        lines = textfile.split_lines(tf.text)
        note = "" if tf.encoding == "utf-8" else f" (decoded as {tf.encoding})"
        return ToolResult(render_lines(shown, lines, len(lines), offset, limit, note))

    async def _read_large(
        self, ctx: ToolContext, path: str, shown: str, size: int, offset: int, limit: int
    ) -> ToolResult:
        """A range of a huge file via shell tools, so the whole file never travels."""
        q = shlex.quote(path)
        first, last = offset + 1, offset + limit
        script = (
            f"head -c {textfile.SAMPLE} < {q} | tr -dc '\\000' | wc -c; wc -l < {q}; "
            f"sed -n '{first},{last}p;{last}q' < {q} | cut -c 1-{LINE_MAX_CHARS * 4}"
        )
        result = await ctx.workspace.exec(script, timeout=60)
        head, _, body = result.output.partition("\n")
        count, _, body = body.partition("\n")
        if result.exit_code != 0 or not head.strip().isdigit() or not count.strip().isdigit():
            raise ToolError(f"could not read {shown}: {result.output.strip()[:500]}")
        if int(head) > 0:
            return ToolResult(f"{shown} is binary (binary file, {size} bytes); its content is not shown.")
        lines = textfile.split_lines(body)
        total = max(int(count), offset + len(lines))
        return ToolResult(
            render_lines(shown, lines, total, offset, limit, f" (large file, {size} bytes)", ranged=True)
        )


def render_lines(
    shown: str, lines: list[str], total: int, offset: int, limit: int, note: str = "", *, ranged: bool = False
) -> str:
    """Numbered lines ``offset..offset+limit`` (``lines`` already starts at ``offset`` when ranged),
    within READ_MAX_CHARS, with a note on how to read on."""
    if total == 0:
        return f"{shown} is empty."
    if offset >= total:
        raise ToolError(f"offset {offset} is past the end of {shown} ({total} lines)")
    window = lines if ranged else lines[offset : offset + limit]
    out: list[str] = []
    used = 0
    cut_lines = 0
    for i, line in enumerate(window):
        line = line.removesuffix("\r")
        if len(line) > LINE_MAX_CHARS:
            line = f"{line[:LINE_MAX_CHARS]}... [line cut: {len(line)} chars]"
            cut_lines += 1
        text = f"{offset + i + 1:6}\t{line}\n"
        if out and used + len(text) > READ_MAX_CHARS:
            break
        out.append(text)
        used += len(text)
    end = offset + len(out)
    body = "".join(out)
    notes = []
    if end < total:
        notes.append(
            f"Showing lines {offset + 1}-{end} of {total}{note}. To read more, call read_file with offset={end}."
        )
    elif note:
        notes.append(f"{shown}{note}.")
    if cut_lines:
        notes.append(f"{cut_lines} long line(s) cut at {LINE_MAX_CHARS} chars.")
    return body + (f"[{' '.join(notes)}]\n" if notes else "")


class WriteFile(Tool):
    name = "write_file"
    description = (
        "Write a whole file, creating it and its parent directories if needed. Prefer edit for changes."
    )
    kind = "edit"
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "file_path": {
                "type": "string",
                "description": "Path relative to the workspace root, or absolute.",
            },
            "content": {"type": "string", "description": "The complete new content."},
        },
        "required": ["file_path", "content"],
    }

    def summary(self, args: dict[str, Any]) -> str:
        return f"write_file {args.get('file_path', '')}"

    async def _plan(self, args: dict[str, Any], ctx: ToolContext) -> tuple[str, str | None, str, bytes]:
        """(path, old text or None, new text, bytes to write)."""
        path = await resolve_path(ctx, args["file_path"])
        content = args["content"]
        st = await _stat_target(ctx, path)
        old: textfile.TextFile | None = None
        if st is not None:
            if st.is_dir:
                raise ToolError(f"{display_path(ctx, path)} is a directory")
            old = textfile.decode(await ctx.workspace.read_bytes(path))
        target = textfile.TextFile("", bom=bool(old and old.bom), crlf=bool(old and old.crlf))
        if old is not None and old.encoding != "utf-8":
            try:
                content.encode(old.encoding)
                target.encoding = old.encoding
            except UnicodeEncodeError:
                pass  # the new text needs more than the old encoding: write UTF-8
        old_text = None if st is None else (old.text if old else "")
        new_text = content.replace("\r\n", "\n") if target.crlf else content
        return path, old_text, new_text, target.encode(content)

    async def preview(self, args: dict[str, Any], ctx: ToolContext) -> dict[str, Any] | None:
        args, error = validate_args(self.name, self.parameters, args)
        if error:
            return None
        path, old, new, _ = await self._plan(args, ctx)
        return diff_display(ctx, path, old or "", new)

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        path, old, new, data = await self._plan(args, ctx)
        await ctx.workspace.write_bytes(path, data)
        shown = display_path(ctx, path)
        n = len(textfile.split_lines(new))
        if old is None:
            text = f"Created {shown} ({n} lines)."
        elif old == new:
            text = f"{shown} already had this content; nothing changed."
        else:
            text = f"Wrote {shown} ({n} lines, was {len(textfile.split_lines(old))})."
        return ToolResult(text, display=diff_display(ctx, path, old or "", new))


class Edit(Tool):
    name = "edit"
    description = (
        "Replace text in a file. old_string must match the file exactly (whitespace included) and "
        "only once, unless replace_all is true; include enough context to be unique. "
        "An empty old_string creates a new file."
    )
    kind = "edit"
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "file_path": {
                "type": "string",
                "description": "Path relative to the workspace root, or absolute.",
            },
            "old_string": {"type": "string", "description": "Exact text to replace."},
            "new_string": {"type": "string", "description": "Replacement text."},
            "replace_all": {"type": "boolean", "description": "Replace every occurrence (default false)."},
        },
        "required": ["file_path", "old_string", "new_string"],
    }

    def summary(self, args: dict[str, Any]) -> str:
        return f"edit {args.get('file_path', '')}"

    async def _plan(
        self, args: dict[str, Any], ctx: ToolContext
    ) -> tuple[str, str | None, str, bytes, int, int]:
        """(path, old text or None, new text, bytes to write, replacements, first changed index)."""
        path = await resolve_path(ctx, args["file_path"])
        old_s: str = args["old_string"]
        new_s: str = args["new_string"]
        shown = display_path(ctx, path)
        tf, _ = await _read_text(ctx, path)
        if tf is None:
            if old_s == "":
                return path, None, new_s, textfile.TextFile("").encode(new_s), 1, 0
            raise ToolError(
                await missing_message(ctx, path)
                + ". To create a file, use write_file or an empty old_string."
            )
        if tf.crlf or "\r" not in tf.text:  # line endings as the file has them (LF inside swerve)
            old_s, new_s = old_s.replace("\r\n", "\n"), new_s.replace("\r\n", "\n")
        if old_s == "":
            if tf.text.strip():
                raise ToolError(
                    f"old_string is empty but {shown} already exists and is not empty; give the exact text "
                    "to replace, or use write_file to replace the whole file"
                )
            return path, tf.text, new_s, tf.encode(new_s), 1, 0
        if old_s == new_s:
            raise ToolError("old_string and new_string are the same; there is nothing to change")
        text = tf.text
        count = text.count(old_s)
        if count == 0:
            raise ToolError(f"old_string was not found in {shown}." + closest_text(text, old_s))
        if count > 1 and not args.get("replace_all", False):
            at = _match_lines(text, old_s)
            listed = ", ".join(map(str, at[:20])) + (", ..." if len(at) > 20 else "")
            raise ToolError(
                f"old_string matches {count} times in {shown} (starting at lines {listed}). Include more "
                "surrounding lines to make it unique, or set replace_all to true to replace every one."
            )
        first = text.find(old_s)
        new_text = (
            text.replace(old_s, new_s) if args.get("replace_all", False) else text.replace(old_s, new_s, 1)
        )
        return path, text, new_text, tf.encode(new_text), count, first

    async def preview(self, args: dict[str, Any], ctx: ToolContext) -> dict[str, Any] | None:
        args, error = validate_args(self.name, self.parameters, args)
        if error:
            return None
        path, old, new, *_ = await self._plan(args, ctx)
        return diff_display(ctx, path, old or "", new)

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        path, old, new, data, count, first = await self._plan(args, ctx)
        await ctx.workspace.write_bytes(path, data)
        shown = display_path(ctx, path)
        display = diff_display(ctx, path, old or "", new)
        if old is None:
            return ToolResult(f"Created {shown} ({len(textfile.split_lines(new))} lines).", display=display)
        what = f"{count} occurrences" if count > 1 else "1 occurrence"
        return ToolResult(
            f"Edited {shown}: replaced {what}.\n{_snippet(new, first, args['new_string'])}", display=display
        )


def _snippet(text: str, start: int, inserted: str, context: int = 3, max_lines: int = 40) -> str:
    """Numbered lines around the replacement that starts at char ``start``."""
    lines = textfile.split_lines(text)
    first_line = text.count("\n", 0, start)
    last_line = first_line + inserted.replace("\r\n", "\n").count("\n")
    lo = max(0, first_line - context)
    hi = min(len(lines), last_line + context + 1, lo + max_lines)
    return number_lines(lines[lo:hi], lo + 1).rstrip("\n")


def _match_lines(text: str, needle: str) -> list[int]:
    """1-based line numbers where each (non-overlapping) occurrence starts."""
    out, pos = [], text.find(needle)
    while pos != -1:
        out.append(text.count("\n", 0, pos) + 1)
        pos = text.find(needle, pos + len(needle))
    return out


def closest_text(text: str, needle: str, shown: int = 2) -> str:
    """A note with the windows of the file most similar to ``needle`` (same line count), numbered."""
    lines = textfile.split_lines(text)
    want = textfile.split_lines(needle) or [needle]
    n = len(want)
    if not lines:
        return " The file is empty."
    n_windows = max(1, len(lines) - n + 1)
    if n_windows * len(needle) <= FUZZY_MAX_WORK:
        starts: range | list[int] = range(n_windows)
    else:  # too big to try every window: only where a line matches one of needle's, whitespace aside
        wanted = {w.strip(): j for j, w in enumerate(want) if w.strip()}
        found = {i - wanted[line.strip()] for i, line in enumerate(lines) if line.strip() in wanted}
        starts = sorted(s for s in found if 0 <= s < n_windows)[: FUZZY_MAX_WORK // max(1, len(needle))]
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(needle.rstrip("\n"))
    rough = []
    for i in starts:
        matcher.set_seq1("\n".join(lines[i : i + n]))
        rough.append((matcher.quick_ratio(), i))
    rough.sort(reverse=True)
    scored = []
    for _, i in rough[:20]:
        matcher.set_seq1("\n".join(lines[i : i + n]))
        scored.append((matcher.ratio(), i))
    scored.sort(key=lambda s: (-s[0], s[1]))
    picked: list[tuple[float, int]] = []
    for score, i in scored:
        if score < 0.5 or len(picked) == shown:
            break
        if all(abs(i - j) >= n for _, j in picked):
            picked.append((score, i))
    if not picked:
        return " No similar text was found; read the file to see its current content."
    parts = [" The closest text in the file (copy it exactly, whitespace included):"]
    for score, i in picked:
        window = lines[i : i + min(n, 30)]
        parts.append(
            f"lines {i + 1}-{i + len(window)} ({score:.0%} similar):\n{number_lines(window, i + 1).rstrip()}"
        )
    return "\n".join(parts)

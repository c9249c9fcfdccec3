"""Search tools: glob, grep_search, list_directory."""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import AsyncIterator
from typing import Any, ClassVar, Literal

from swerve.errors import ToolError
from swerve.sandbox.base import DirEntry
from swerve.tools.base import Tool, ToolContext, ToolResult
from swerve.tools.paths import display_path, is_within, missing_message, resolve_path
from swerve.tools.textfile import SAMPLE
from swerve.tools.truncate import truncate

JUNK_DIRS = frozenset(
    {
        ".git",
        "node_modules",
        "__pycache__",
        ".venv",
        "venv",
        ".tox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
    }
)
GLOB_MAX_SHOWN = 100
WALK_MAX_ENTRIES = 200_000
GREP_MAX_SHOWN = 200
GREP_LINE_CHARS = 500
GREP_MAX_FILE_BYTES = 10 * 1024 * 1024
GREP_TIMEOUT_S = 60
LIST_MAX_SHOWN = 500
_GLOB_CHARS = re.compile(r"[*?\[{]")


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A regex for a glob over '/'-separated relative paths: ``**`` spans directories, ``*`` and
    ``?`` stay within one, ``[...]`` classes (``[!...]`` negated) and ``{a,b}`` alternatives."""
    return re.compile(f"(?s:{_translate(pattern)})\\Z")


def _translate(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i):
                i += 2
                if pattern.startswith("/", i):
                    out.append("(?:.*/)?")
                    i += 1
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = pattern.find("]", i + 2 if pattern.startswith(("[!", "[^"), i) else i + 1)
            if j == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : j]
                neg = body[:1] in ("!", "^")
                body = body[1:] if neg else body
                body = body.replace("\\", "\\\\").replace("[", "\\[")
                out.append(f"[{'^' if neg else ''}{body}]")
                i = j
        elif c == "{":
            j = pattern.find("}", i)
            if j == -1:
                out.append(re.escape(c))
            else:
                alts = pattern[i + 1 : j].split(",")
                out.append("(?:" + "|".join(_translate(a) for a in alts) + ")")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def _names_junk(*texts: str) -> set[str]:
    """Junk directory names that the user named on purpose (so they are searched)."""
    named = set()
    for text in texts:
        parts = set(re.split(r"[/{},]", text))
        named |= {j for j in JUNK_DIRS if j in parts}
    return named


async def _walk(
    ctx: ToolContext, top: str, skip: set[str], budget: list[int]
) -> AsyncIterator[tuple[str, DirEntry]]:
    """(relative path, entry) for everything under ``top``, sorted by name, depth first;
    symlinked directories are not entered. ``budget[0]`` counts down the entries allowed."""
    stack: list[tuple[str, list[DirEntry]]] = []
    try:
        stack.append(("", sorted(await ctx.workspace.list_dir(top), key=lambda e: e.name, reverse=True)))
    except OSError:
        return
    while stack:
        rel, entries = stack[-1]
        if not entries:
            stack.pop()
            continue
        entry = entries.pop()
        budget[0] -= 1
        if budget[0] < 0:
            return
        path = f"{rel}{entry.name}"
        yield path, entry
        if entry.is_dir and not entry.is_symlink and entry.name not in skip:
            try:
                children = await ctx.workspace.list_dir(posixpath.join(top, path))
            except OSError:
                continue
            stack.append((path + "/", sorted(children, key=lambda e: e.name, reverse=True)))


async def _search_dir(ctx: ToolContext, args: dict[str, Any]) -> str:
    path = await resolve_path(ctx, args.get("path") or ".", name="path")
    st = await ctx.workspace.stat(await ctx.workspace.realpath(path))
    if st is None:
        raise ToolError(await missing_message(ctx, path, "Directory"))
    if not st.is_dir:
        raise ToolError(f"{display_path(ctx, path)} is not a directory")
    return path


class Glob(Tool):
    name = "glob"
    description = (
        "Find files by glob pattern (e.g. `**/*.py`, `src/**/*.{ts,tsx}`); `**` spans directories. "
        "Newest first. Skips .git, node_modules, __pycache__ and .venv unless named."
    )
    kind = "read"
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "pattern": {"type": "string", "description": "Glob relative to path."},
            "path": {"type": "string", "description": "Directory to search (default: workspace root)."},
        },
        "required": ["pattern"],
    }

    def summary(self, args: dict[str, Any]) -> str:
        return f"glob {args.get('pattern', '')}" + (f" in {args['path']}" if args.get("path") else "")

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        base = await _search_dir(ctx, args)
        pattern = args["pattern"].strip()
        if not pattern:
            raise ToolError("pattern must not be empty")
        if pattern.startswith("/"):  # an absolute pattern: make it relative to the base
            if not is_within(pattern, base):
                raise ToolError(f"pattern {pattern!r} is absolute and not inside {display_path(ctx, base)}")
            pattern = posixpath.relpath(pattern, base) if pattern != base else "*"
        pattern = pattern.removeprefix("./")
        # walk from the literal directories at the start of the pattern
        parts = pattern.split("/")
        literal = []
        while len(parts) > 1 and not _GLOB_CHARS.search(parts[0]):
            literal.append(parts.pop(0))
        top = posixpath.join(base, *literal) if literal else base
        if literal and not is_within(posixpath.normpath(top), base):
            raise ToolError("pattern must stay inside the search path")
        regex = glob_regex("/".join(parts))
        skip = set(JUNK_DIRS) - _names_junk(pattern, display_path(ctx, base))
        budget = [WALK_MAX_ENTRIES]
        found: list[str] = []
        async for rel, entry in _walk(ctx, top, skip, budget):
            if not entry.is_dir and regex.match(rel):
                found.append(posixpath.join(top, rel))
        stats = []
        for p in found:
            st = await ctx.workspace.stat(p)
            stats.append((-(st.mtime if st else 0.0), p))
        stats.sort()
        where = display_path(ctx, base)
        if not found:
            hint = ""
            if "/" not in pattern and "**" not in pattern:
                hint = f" (a pattern without '/' matches only directly in the directory; try '**/{pattern}')"
            text = f"No files match {pattern!r} in {where}{hint}."
        else:
            shown = [display_path(ctx, p) for _, p in stats[:GLOB_MAX_SHOWN]]
            text = f"{len(found)} file(s) match {pattern!r} in {where} (newest first):\n" + "\n".join(shown)
            if len(found) > GLOB_MAX_SHOWN:
                text += f"\n[... {len(found) - GLOB_MAX_SHOWN} more; narrow the pattern or path]"
        if budget[0] < 0:
            text += f"\n[Search stopped after {WALK_MAX_ENTRIES} entries; results may be incomplete.]"
        return ToolResult(truncate(text))


Match = tuple[str, int, str]  # display path, line number, line text


class GrepSearch(Tool):
    name = "grep_search"
    description = (
        "Search file contents with a regular expression; returns `path:line:text` lines. "
        "Uses ripgrep when available (respects .gitignore)."
    )
    kind = "read"
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "pattern": {"type": "string", "description": "Regular expression; (?i) for case-insensitive."},
            "path": {
                "type": "string",
                "description": "File or directory to search (default: workspace root).",
            },
            "glob": {"type": "string", "description": "Only files matching this glob, e.g. `*.py`."},
        },
        "required": ["pattern"],
    }

    def __init__(self, backend: Literal["auto", "rg", "python"] = "auto") -> None:
        self.backend = backend

    def summary(self, args: dict[str, Any]) -> str:
        return f"grep_search {args.get('pattern', '')!r}" + (
            f" in {args['path']}" if args.get("path") else ""
        )

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        pattern: str = args["pattern"]
        if not pattern:
            raise ToolError("pattern must not be empty")
        target = await resolve_path(ctx, args.get("path") or ".", name="path")
        st = await ctx.workspace.stat(await ctx.workspace.realpath(target))
        if st is None:
            raise ToolError(await missing_message(ctx, target, "Path"))
        file_glob = args.get("glob") or None
        skip = set(JUNK_DIRS) - _names_junk(display_path(ctx, target), file_glob or "")
        matches: list[Match] | None = None
        notes: list[str] = []
        use_rg = self.backend == "rg" or (self.backend == "auto" and not ctx.state.get("grep_no_rg"))
        if use_rg:
            matches = await self._rg(ctx, pattern, target, file_glob, skip, notes)
            if matches is None and self.backend == "auto":
                ctx.state["grep_no_rg"] = True
            elif matches is None:
                raise ToolError("ripgrep (rg) is not installed in this workspace")
        if matches is None:
            matches = await self._python(ctx, pattern, target, st.is_dir, file_glob, skip)
        return ToolResult(self._format(ctx, pattern, target, file_glob, matches, notes))

    @staticmethod
    def _format(
        ctx: ToolContext,
        pattern: str,
        target: str,
        file_glob: str | None,
        matches: list[Match],
        notes: list[str],
    ) -> str:
        where = display_path(ctx, target) + (f" (files matching {file_glob!r})" if file_glob else "")
        if not matches:
            text = f"No matches for {pattern!r} in {where}."
        else:
            lines = [f"{p}:{n}:{_cut(t)}" for p, n, t in matches[:GREP_MAX_SHOWN]]
            text = f"{len(matches)} match(es) for {pattern!r} in {where}:\n" + "\n".join(lines)
            if len(matches) > GREP_MAX_SHOWN:
                text += (
                    f"\n[... {len(matches) - GREP_MAX_SHOWN} more matches; narrow the pattern, path or glob]"
                )
        if notes:
            text += "\n" + "\n".join(notes)
        return truncate(text)

    async def _rg(
        self,
        ctx: ToolContext,
        pattern: str,
        target: str,
        file_glob: str | None,
        skip: set[str],
        notes: list[str],
    ) -> list[Match] | None:
        """Matches from ripgrep, or None when rg is not there."""
        root = ctx.workspace.root
        cmd = [
            "rg", "--null", "--line-number", "--no-heading", "--color", "never", "--with-filename",
            "--sort", "path", "--hidden", "--no-messages", "--max-filesize", str(GREP_MAX_FILE_BYTES),
        ]  # fmt: skip
        for name in sorted(skip):
            cmd += ["--glob", f"!{name}"]
        if file_glob:
            cmd += ["--glob", file_glob]
        cmd += ["--regexp", pattern, "--"]
        if target != root:
            cmd.append(posixpath.relpath(target, root) if is_within(target, root) else target)
        script = "command -v rg >/dev/null 2>&1 || exit 127; exec " + shlex.join(cmd)
        result = await ctx.workspace.exec(script, cwd=root, timeout=GREP_TIMEOUT_S)
        if result.exit_code == 127:
            return None
        matches: list[Match] = []
        errors: list[str] = []
        for line in result.output.split("\n"):
            path, sep, rest = line.partition("\0")
            number, colon, text = rest.partition(":")
            if sep and colon and number.isdigit():
                matches.append((path, int(number), text.removesuffix("\r")))
            elif line.strip() and not line.startswith("[... "):
                errors.append(line.strip())
        if result.timed_out:
            notes.append(f"[Search timed out after {GREP_TIMEOUT_S} s; results are incomplete.]")
        if result.truncated_bytes:
            notes.append("[Too much output: some matches in the middle were dropped; narrow the search.]")
        if result.exit_code == 2 and not matches:
            raise ToolError(
                "grep_search failed: "
                + (" ".join(errors)[:1000] or f"rg exited with code {result.exit_code}")
            )
        return matches

    async def _python(
        self, ctx: ToolContext, pattern: str, target: str, is_dir: bool, file_glob: str | None, skip: set[str]
    ) -> list[Match]:
        """The same search in Python, for workspaces without ripgrep (no .gitignore support)."""
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise ToolError(f"invalid regular expression {pattern!r}: {exc}") from None
        root = ctx.workspace.root
        prefix = (
            "" if target == root else (posixpath.relpath(target, root) if is_within(target, root) else target)
        )
        glob_re = glob_regex(file_glob) if file_glob else None
        glob_base = (
            file_glob is not None and "/" not in file_glob
        )  # like rg: a glob without '/' matches names
        files: list[tuple[str, str, int]] = []  # (display path, real path, size)
        if not is_dir:
            st = await ctx.workspace.stat(target)
            if st is not None:
                files.append((prefix, target, st.size))
        else:
            async for rel, entry in _walk(ctx, target, skip, [WALK_MAX_ENTRIES]):
                if entry.is_dir or entry.is_symlink or entry.name in skip:
                    continue
                if glob_re and not glob_re.match(entry.name if glob_base else rel):
                    continue
                files.append(
                    (posixpath.join(prefix, rel) if prefix else rel, posixpath.join(target, rel), entry.size)
                )
        # a match in a line is also a match in the whole text, read line by line ('^'/'$' at line
        # ends), unless the pattern anchors to the text or looks behind: then no shortcut
        prefilter = None if re.search(r"\\[AZz]|\(\?<[=!]", pattern) else re.compile(pattern, re.MULTILINE)
        matches: list[Match] = []
        for shown, path, size in files:
            if size > GREP_MAX_FILE_BYTES:
                continue
            try:
                data = await ctx.workspace.read_bytes(path)
            except OSError:
                continue
            if b"\0" in data[:SAMPLE] and is_dir:
                continue  # binary files are skipped, as rg does when it walks a directory
            text = data.decode("utf-8", errors="replace")
            if prefilter is not None and not prefilter.search(text):
                continue
            lines = text.split("\n")
            if text.endswith("\n"):
                lines.pop()
            for number, line in enumerate(lines, 1):
                if regex.search(line):
                    matches.append((shown, number, line.removesuffix("\r")))
        return matches


def _cut(text: str) -> str:
    return text if len(text) <= GREP_LINE_CHARS else text[:GREP_LINE_CHARS] + f"... [{len(text)} chars]"


def _size(n: int) -> str:
    """A short human size: 512B, 1.5K, 3.2M, 1.0G."""
    if n < 1024:
        return f"{n}B"
    value = float(n)
    for unit in ("K", "M", "G"):
        value /= 1024
        if value < 1024 or unit == "G":
            break
    return f"{value:.1f}{unit}"


class ListDirectory(Tool):
    name = "list_directory"
    description = "List a directory: subdirectories first (with a trailing /), then files with sizes."
    kind = "read"
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"path": {"type": "string", "description": "Directory (default: workspace root)."}},
        "required": [],
    }

    def summary(self, args: dict[str, Any]) -> str:
        return f"list_directory {args.get('path') or '.'}"

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        path = await _search_dir(ctx, args)
        entries = await ctx.workspace.list_dir(path)
        entries.sort(key=lambda e: (not e.is_dir, e.name))
        where = display_path(ctx, path)
        if not entries:
            return ToolResult(f"{where} is empty.")
        lines = []
        for e in entries[:LIST_MAX_SHOWN]:
            link = " -> (symlink)" if e.is_symlink else ""
            lines.append(f"{e.name}/{link}" if e.is_dir else f"{e.name}  {_size(e.size)}{link}")
        n_dirs = sum(e.is_dir for e in entries)
        text = f"{where}: {n_dirs} dir(s), {len(entries) - n_dirs} file(s)\n" + "\n".join(lines)
        if len(entries) > LIST_MAX_SHOWN:
            text += f"\n[... {len(entries) - LIST_MAX_SHOWN} more entries]"
        return ToolResult(truncate(text))

"""Path rules for tools: inside the workspace root, or inside a directory the user allowed.

A path is relative to the root or absolute. ``~`` is not expanded. The check is made twice:
on the normalised path, and on the path with every symlink resolved (so a link inside the
workspace that points outside is refused).
"""

from __future__ import annotations

import difflib
import posixpath

from swerve.errors import PathError
from swerve.tools.base import ToolContext


def is_within(path: str, base: str) -> bool:
    """True when ``path`` is ``base`` or below it (both absolute and normalised)."""
    if base == "/":
        return True
    return path == base or path.startswith(base.rstrip("/") + "/")


def _bases(ctx: ToolContext) -> list[str]:
    return [ctx.workspace.root, *ctx.allowed_dirs]


async def resolve_path(ctx: ToolContext, path: object, *, name: str = "file_path") -> str:
    """The absolute, normalised form of ``path``; raises PathError where tools may not go."""
    if not isinstance(path, str) or not path.strip():
        raise PathError(f"{name} must be a non-empty path")
    if "\0" in path:
        raise PathError(f"{name} contains a NUL character")
    if path.startswith("~"):
        raise PathError(
            f"{path!r}: '~' is not expanded; give a path relative to the workspace root "
            f"({ctx.workspace.root}) or an absolute path"
        )
    root = ctx.workspace.root
    full = posixpath.normpath(posixpath.join(root, path))
    if full.startswith("//"):
        full = "/" + full.lstrip("/")
    bases = [posixpath.normpath(b) for b in _bases(ctx)]
    if not any(is_within(full, b) for b in bases):
        raise PathError(_outside_message(path, ctx))
    real = await ctx.workspace.realpath(full)
    real_bases = [await ctx.workspace.realpath(b) for b in bases]
    if not any(is_within(real, b) for b in real_bases):
        raise PathError(f"{path!r} resolves through a symlink to {real}, " + _outside_message(None, ctx))
    return full


def _outside_message(path: str | None, ctx: ToolContext) -> str:
    where = f"the workspace root {ctx.workspace.root}"
    if ctx.allowed_dirs:
        where += " or the allowed directories " + ", ".join(ctx.allowed_dirs)
    head = f"{path!r} is outside " if path is not None else "which is outside "
    return head + where + "; tools may only use paths inside " + ("them" if ctx.allowed_dirs else "it")


def display_path(ctx: ToolContext, path: str) -> str:
    """``path`` as the model should see it: relative to the root when inside, else absolute."""
    root = ctx.workspace.root
    if path == root:
        return "."
    if is_within(path, root):
        return posixpath.relpath(path, root)
    return path


async def missing_message(ctx: ToolContext, path: str, what: str = "File") -> str:
    """'File not found' with similar names from the same directory, when there are any."""
    shown = display_path(ctx, path)
    parent, name = posixpath.split(path)
    try:
        names = [e.name for e in await ctx.workspace.list_dir(parent)]
    except OSError:
        return f"{what} not found: {shown} (its directory {display_path(ctx, parent)} does not exist either)"
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    if not close:
        return f"{what} not found: {shown}"
    similar = ", ".join(display_path(ctx, posixpath.join(parent, c)) for c in close)
    return f"{what} not found: {shown}. Similar names: {similar}"

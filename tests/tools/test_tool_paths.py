"""Path rules: inside the root or an allowed directory, checked before and after symlinks."""

import os
from pathlib import Path

import pytest

from swerve.errors import PathError
from swerve.sandbox.host import HostWorkspace
from swerve.tools.base import ToolContext
from swerve.tools.paths import display_path, resolve_path


async def test_relative_and_absolute_paths_inside_the_root(ctx, root: Path):
    assert await resolve_path(ctx, "a/b.txt") == f"{root}/a/b.txt"
    assert await resolve_path(ctx, f"{root}/a/../c.txt") == f"{root}/c.txt"
    assert await resolve_path(ctx, ".") == str(root)
    assert display_path(ctx, f"{root}/a/b.txt") == "a/b.txt"
    assert display_path(ctx, str(root)) == "."


@pytest.mark.parametrize("bad", ["../outside.txt", "/etc/passwd", "a/../../x", "~/notes.txt", "", "a\0b"])
async def test_paths_outside_or_malformed_are_refused(ctx, bad):
    with pytest.raises(PathError):
        await resolve_path(ctx, bad)


async def test_a_sibling_with_the_root_as_prefix_is_outside(ctx, root: Path):
    sibling = root.parent / (root.name + "-other")
    sibling.mkdir()
    with pytest.raises(PathError, match="outside"):
        await resolve_path(ctx, str(sibling / "f"))


async def test_symlink_escapes_are_refused_by_every_tool(call, root: Path, tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("hidden-content\n")
    os.symlink(outside / "secret.txt", root / "link.txt")
    os.symlink(outside, root / "linkdir")

    result = await call("read_file", file_path="link.txt")
    assert result.is_error and "symlink" in result.output and "hidden-content" not in result.output
    result = await call("write_file", file_path="linkdir/new.txt", content="x")
    assert result.is_error and not (outside / "new.txt").exists()
    result = await call("edit", file_path="link.txt", old_string="hidden-content", new_string="public")
    assert result.is_error and (outside / "secret.txt").read_text() == "hidden-content\n"
    result = await call("list_directory", path="linkdir")
    assert result.is_error
    result = await call("grep_search", pattern="hidden", path="linkdir")
    assert result.is_error


async def test_symlink_inside_the_root_is_fine(call, root: Path):
    (root / "real.txt").write_text("hello\n")
    os.symlink(root / "real.txt", root / "alias.txt")
    result = await call("read_file", file_path="alias.txt")
    assert not result.is_error and "hello" in result.output


async def test_allowed_dirs_open_more_of_the_disk(root: Path, tmp_path: Path):
    extra = tmp_path / "extra"
    extra.mkdir()
    workspace = HostWorkspace(str(root))
    closed = ToolContext(workspace)
    opened = ToolContext(workspace, allowed_dirs=(str(extra),))
    with pytest.raises(PathError, match="outside the workspace root"):
        await resolve_path(closed, str(extra / "f.txt"))
    assert await resolve_path(opened, str(extra / "f.txt")) == str(extra / "f.txt")
    assert display_path(opened, str(extra / "f.txt")) == str(extra / "f.txt")
    with pytest.raises(PathError, match="allowed directories"):
        await resolve_path(opened, "/etc/hostname")

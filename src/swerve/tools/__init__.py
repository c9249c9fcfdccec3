"""Tools the agent calls, each touching the world only through a Workspace: files, search, shell,
todos and MCP servers. ``default_tools()`` gives a fresh set for one session. Imports ``models``
(for call and spec types) and ``sandbox.base``.
"""

from __future__ import annotations

from swerve.tools.base import Tool


def default_tools() -> list[Tool]:
    """The built-in tools, in the order the model sees them."""
    from swerve.tools.files import Edit, ReadFile, WriteFile
    from swerve.tools.search import Glob, GrepSearch, ListDirectory
    from swerve.tools.shell import ReadBackgroundOutput, RunShellCommand
    from swerve.tools.todo import TodoWrite

    return [
        ReadFile(),
        WriteFile(),
        Edit(),
        Glob(),
        GrepSearch(),
        ListDirectory(),
        RunShellCommand(),
        ReadBackgroundOutput(),
        TodoWrite(),
    ]

"""Tool specs and helpers shared by the Qwen3-Coder XML tests."""

from __future__ import annotations

import re

from swerve.models.base import ToolCall, ToolSpec

READ = ToolSpec(
    "read_file",
    "Read a file.\n",
    {
        "type": "object",
        "properties": {
            "path": {"type": "string", "description": "Absolute path."},
            "offset": {"type": "integer"},
            "limit": {"type": ["integer", "null"]},
        },
        "required": ["path"],
    },
)
WRITE = ToolSpec(
    "write_file",
    "Write a file.",
    {
        "type": "object",
        "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
        "required": ["path", "content"],
        "additionalProperties": False,
    },
)
SHELL = ToolSpec(
    "run_shell_command",
    "Run a command.",
    {
        "type": "object",
        "properties": {
            "command": {"type": "string"},
            "is_background": {"type": "boolean"},
            "mode": {"type": "string", "enum": ["fg", "bg"]},
        },
        "required": ["command"],
    },
)
TODO = ToolSpec(
    "todo_write",
    "Replace the todo list.",
    {
        "type": "object",
        "properties": {
            "todos": {"type": "array", "items": {"type": "object"}},
            "options": {"type": "object"},
            "ratio": {"type": "number"},
        },
    },
)
TOOLS = [READ, WRITE, SHELL, TODO]
CALL_ID = re.compile(r"^call_[0-9a-f]{24}$")


def call_xml(name: str, **params: str) -> str:
    body = "".join(f"<parameter={k}>\n{v}\n</parameter>\n" for k, v in params.items())
    return f"<tool_call>\n<function={name}>\n{body}</function>\n</tool_call>"


def summary(calls: list[ToolCall]) -> list[tuple]:
    return [(c.name, c.arguments, c.error) for c in calls]

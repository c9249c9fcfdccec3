"""todo_write: the agent's plan for multi-step work, kept in the session state."""

from __future__ import annotations

from typing import Any, ClassVar

from swerve.errors import ToolError
from swerve.tools.base import Tool, ToolContext, ToolResult

STATUSES = ("pending", "in_progress", "completed")
TODOS_KEY = "todos"  # ctx.state[TODOS_KEY]: list of {"id", "content", "status"}
MAX_TODOS = 100
_MARKS = {"pending": "[ ]", "in_progress": "[>]", "completed": "[x]"}


def render_todos(todos: list[dict[str, str]]) -> str:
    if not todos:
        return "Todo list is empty."
    done = sum(t["status"] == "completed" for t in todos)
    lines = [f"Todo list ({done}/{len(todos)} completed):"]
    lines += [f"{_MARKS[t['status']]} {t['id']}. {t['content']}" for t in todos]
    return "\n".join(lines)


class TodoWrite(Tool):
    name = "todo_write"
    description = (
        "Replace the todo list for multi-step work. Send the whole list each time; keep one item "
        "in_progress and mark items completed as soon as they are done."
    )
    kind = "meta"
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "todos": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "content": {"type": "string"},
                        "status": {"type": "string", "enum": list(STATUSES)},
                    },
                    "required": ["id", "content", "status"],
                },
            }
        },
        "required": ["todos"],
    }

    def summary(self, args: dict[str, Any]) -> str:
        todos = args.get("todos")
        return f"todo_write ({len(todos)} items)" if isinstance(todos, list) else "todo_write"

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        todos = [
            {"id": t["id"].strip(), "content": t["content"].strip(), "status": t["status"]}
            for t in args["todos"]
        ]
        if len(todos) > MAX_TODOS:
            raise ToolError(f"at most {MAX_TODOS} todos, got {len(todos)}")
        seen: set[str] = set()
        for t in todos:
            if not t["id"] or not t["content"]:
                raise ToolError("every todo needs a non-empty id and content")
            if t["id"] in seen:
                raise ToolError(f"todo id {t['id']!r} is used twice; ids must be unique")
            seen.add(t["id"])
        ctx.state[TODOS_KEY] = todos
        text = render_todos(todos)
        if sum(t["status"] == "in_progress" for t in todos) > 1:
            text += "\nNote: more than one item is in_progress; work on one at a time."
        return ToolResult(text, display={"type": "todos", "todos": todos})

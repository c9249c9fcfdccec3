"""Inputs from a model: ask it for calls that would catch a wrong solution, one tuple a line."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from swerve.tasks.code.model import CodeTask

ASK = (
    "Here is a Python function's specification:\n\n{prompt}\n\n"
    "Write {count} different argument tuples for calling `{entry}` that test it well: edge cases, "
    "tricky cases, larger inputs. Valid inputs only (within what the specification allows). "
    "Reply with one Python tuple literal a line, like `(1, [2, 3])`, and nothing else."
)


def model_proposer(model: Any) -> Callable[[CodeTask, int], Awaitable[str]]:
    """A ``Propose`` for ``scale_tasks`` over any swerve ``Model``."""

    async def propose(task: CodeTask, count: int) -> str:
        text = ASK.format(prompt=task.prompt.strip(), count=count, entry=task.entry_point)
        turn = await model.complete([{"role": "user", "content": text}], [])
        return str(turn.text)

    return propose

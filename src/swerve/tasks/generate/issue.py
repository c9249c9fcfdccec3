"""Problem statements in the voice of an issue report, written by the configured model.

The model sees only the test side: the failing tests' code and how they failed (the fallback
statement, which ``statement`` writes from exactly that). It never sees the diff. Its text is
checked like the fallback (``leaked_lines``: no changed line of the fix may show up in it); a text
that is empty, too short or leaks is replaced by the fallback, and so is a model that fails.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from swerve.tasks.generate.statement import leaked_lines

SYSTEM = (
    "You are a developer who uses the Python library {project} {version} and hit a bug. Write the "
    "GitHub issue you would file: a one-line title, then what you did (a short code example that "
    "calls the library's public API), what you expected and what happened instead (the wrong "
    "value or the error). Write as a user: do not guess at the cause, do not propose a fix, do not "
    "mention the project's test files. Plain Markdown, at most 250 words."
)
USER = "Here is what I saw fail:\n\n{evidence}\n\nWrite the issue."
MIN_CHARS = 80
_THINK = re.compile(r"<think>.*?</think>", re.S)

Writer = Callable[[dict[str, Any]], Awaitable[str]]


def clean(text: str) -> str:
    """The reply less reasoning blocks and a fence around the whole of it."""
    text = _THINK.sub("", text).strip()
    if text.startswith("```") and text.endswith("```"):
        text = text.strip("`").removeprefix("markdown").strip()
    return text


def model_writer(model: Any, *, max_tokens: int = 400) -> Writer:
    """A statement writer over ``model`` (a ``swerve.models`` Model)."""
    from swerve.models.base import Sampling

    async def write(evidence: dict[str, Any]) -> str:
        messages = [
            {
                "role": "system",
                "content": SYSTEM.format(project=evidence["project"], version=evidence["version"]),
            },
            {"role": "user", "content": USER.format(evidence=evidence["fallback"])},
        ]
        turn = await model.complete(messages, [], sampling=Sampling(max_tokens=max_tokens, temperature=0.3))
        return clean(turn.text)

    return write


def choose(text: str, fallback: str, gold_patch: str) -> tuple[str, str]:
    """(the statement to keep, "model" or "fallback")."""
    if len(text) >= MIN_CHARS and text.strip() != fallback.strip() and not leaked_lines(text, gold_patch):
        return text, "model"
    return fallback, "fallback"

"""The conversation's context: project rules, token estimates, and compression of old turns."""

from __future__ import annotations

import json
from pathlib import Path

from swerve.models.base import Message, Model

COMPRESS_AT = 0.7  # of the model's window
KEEP_RECENT = 0.3  # of the history, by size, kept verbatim
CONTEXT_FILES = ("AGENTS.md", "QWEN.md")
CONTEXT_FILE_LIMIT = 40_000  # chars per file
SUMMARY_TAG = "conversation-summary"
TASK_KEEP_LIMIT = 4000

SUMMARY_PROMPT = """Summarise the conversation above for yourself, so you can continue the task without it.
Keep: the user's goal and every explicit instruction; what has been done and the files touched (with paths);
what was learned (errors, test results, decisions and why); what remains to do and the next step.
Drop pleasantries and raw tool output that no longer matters. Be complete but terse; plain text."""


def load_project_context(directory: str) -> str:
    """AGENTS.md / QWEN.md from the directory and its parents (outermost first), as one block."""
    found: list[tuple[Path, str]] = []
    here = Path(directory).resolve()
    for folder in [here, *here.parents]:
        for name in CONTEXT_FILES:
            path = folder / name
            if path.is_file():
                try:
                    text = path.read_text(encoding="utf-8", errors="replace")[:CONTEXT_FILE_LIMIT]
                except OSError:
                    continue
                found.append((path, text.strip()))
        if (folder / ".git").exists():
            break
    if not found:
        return ""
    parts = [f'<file path="{p}">\n{t}\n</file>' for p, t in reversed(found)]
    return "Project instructions; follow them:\n" + "\n".join(parts)


def estimate_tokens(messages: list[Message]) -> int:
    """A cheap estimate (about 4 characters a token), used when the server gives no usage."""
    chars = 0
    for m in messages:
        chars += len(m.get("content") or "") + 8
        for call in m.get("tool_calls") or ():
            chars += len(call["function"]["name"]) + len(
                json.dumps(call["function"]["arguments"], default=str)
            )
    return chars // 4 + 1


def split_for_compression(messages: list[Message], keep_fraction: float = KEEP_RECENT) -> int:
    """Index where the kept tail starts: the most recent ``keep_fraction`` of the history by size,
    moved forward past tool results so no result is parted from its call."""
    sizes = [estimate_tokens([m]) for m in messages]
    budget = sum(sizes) * keep_fraction
    cut, kept = len(messages), 0
    while cut > 0 and kept + sizes[cut - 1] <= budget:
        cut -= 1
        kept += sizes[cut]
    while cut < len(messages) and messages[cut]["role"] == "tool":
        cut += 1
    return cut


async def summarise(model: Model, messages: list[Message]) -> str:
    """Ask the model to summarise ``messages`` (no tools)."""
    turn = await model.complete([*_flatten(messages), {"role": "user", "content": SUMMARY_PROMPT}], [])
    return turn.text.strip()


def _flatten(messages: list[Message]) -> list[Message]:
    """Messages with tool calls and results written as plain text, so any endpoint takes them
    with no tools declared."""
    out: list[Message] = []
    for m in messages:
        role, content = m["role"], m.get("content") or ""
        if role == "assistant" and m.get("tool_calls"):
            calls = "\n".join(
                f"[called {c['function']['name']}({json.dumps(c['function']['arguments'], default=str)[:2000]})]"
                for c in m["tool_calls"]
            )
            content = (content + "\n" + calls).strip()
        elif role == "tool":
            role, content = "user", f"[result of {m.get('name', 'tool')}]\n{content[:4000]}"
        if out and out[-1]["role"] == role and role != "system":
            out[-1] = {"role": role, "content": out[-1]["content"] + "\n\n" + content}
        else:
            out.append({"role": role, "content": content})
    return out


def summary_message(summary: str, task: str, todos: str) -> Message:
    """The user message that stands for the compressed turns, with the rules re-injected."""
    parts = [f"<{SUMMARY_TAG}>\nEarlier turns of this conversation, summarised:\n{summary}\n</{SUMMARY_TAG}>"]
    if task:
        parts.append(f"The user's original request:\n{task[:TASK_KEEP_LIMIT]}")
    if todos:
        parts.append(f"Current todo list:\n{todos}")
    return {"role": "user", "content": "\n\n".join(parts)}

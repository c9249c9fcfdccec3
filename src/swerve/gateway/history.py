"""Histories the backends accept: every tool call answered by a result right after it, and no
result without its call (the pairing behind most 400s that clients' long sessions hit)."""

from __future__ import annotations

from swerve.models.base import Message

MISSING_RESULT = "Error: no result was sent back for this tool call"


def paired(messages: list[Message]) -> list[Message]:
    """``messages`` with each unanswered call given an error result, and each result that answers
    no call of the assistant turn before it kept as plain user text instead."""
    out: list[Message] = []
    open_calls: list[tuple[str, str]] = []  # (id, name) of the last assistant turn, unanswered
    strays: list[Message] = []  # results of no open call, kept as text after the run of results

    def close_open() -> None:
        for call_id, name in open_calls:
            out.append({"role": "tool", "tool_call_id": call_id, "name": name, "content": MISSING_RESULT})
        open_calls.clear()
        out.extend(strays)
        strays.clear()

    for msg in messages:
        role = msg.get("role")
        if role == "tool":
            call_id = str(msg.get("tool_call_id", ""))
            match = next((c for c in open_calls if c[0] == call_id), None)
            if match is not None:
                open_calls.remove(match)
                out.append({**msg, "name": msg.get("name") or match[1]})
            else:
                text = f"(result of tool call {call_id})\n{msg.get('content', '')}"
                strays.append({"role": "user", "content": text})
            continue
        close_open()
        out.append(msg)
        if role == "assistant":
            for call in msg.get("tool_calls") or []:
                fn = call.get("function") or {}
                open_calls.append((str(call.get("id", "")), str(fn.get("name", ""))))
    close_open()
    return out

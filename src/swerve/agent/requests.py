"""Requests as a trajectory keeps them: every turn's exact body, stored as what changed since the
turn before (agent histories only grow, so each body is mostly the last one again), with a hash of
the whole body so a replay can prove it rebuilt exactly what was sent.

``encode(bodies)`` gives one entry per body: ``sha256`` of its canonical JSON, ``messages_from`` (how
many messages of the previous body it starts with) and ``messages`` (the rest), and ``fields``
(the other keys whose values changed; ``tools`` and sampling are stored once). ``decode`` undoes it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

MESSAGE_KEYS = ("messages",)


def digest(body: dict[str, Any]) -> str:
    """sha256 of the body's canonical JSON (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def encode(bodies: list[dict[str, Any] | None]) -> list[dict[str, Any] | None]:
    out: list[dict[str, Any] | None] = []
    prev: dict[str, Any] = {}
    for body in bodies:
        if body is None:
            out.append(None)
            continue
        entry: dict[str, Any] = {"sha256": digest(body)}
        old, new = prev.get("messages") or [], body.get("messages") or []
        keep = len(old) if len(old) <= len(new) and new[: len(old)] == old else 0
        entry["messages_from"] = keep
        entry["messages"] = new[keep:]
        fields = {k: v for k, v in body.items() if k not in MESSAGE_KEYS and prev.get(k, _MISSING) != v}
        gone = [k for k in prev if k not in MESSAGE_KEYS and k not in body]
        if fields:
            entry["fields"] = fields
        if gone:
            entry["dropped"] = gone
        out.append(entry)
        prev = body
    return out


def decode(entries: list[dict[str, Any] | None]) -> list[dict[str, Any] | None]:
    """The bodies ``encode`` was given. Raises ValueError when a rebuilt body does not match its hash."""
    out: list[dict[str, Any] | None] = []
    prev: dict[str, Any] = {}
    for i, entry in enumerate(entries):
        if entry is None:
            out.append(None)
            continue
        body = {k: v for k, v in prev.items() if k not in MESSAGE_KEYS and k not in entry.get("dropped", ())}
        body.update(entry.get("fields") or {})
        if "messages" in prev or entry.get("messages") or entry.get("messages_from"):
            body["messages"] = list((prev.get("messages") or [])[: entry.get("messages_from", 0)]) + list(
                entry.get("messages") or []
            )
        if digest(body) != entry.get("sha256"):
            raise ValueError(f"request {i + 1} does not rebuild to what was sent (hash mismatch)")
        out.append(body)
        prev = body
    return out


class _Missing:
    pass


_MISSING = _Missing()

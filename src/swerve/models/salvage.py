"""Tool calls a model wrote as JSON text instead of calling the tool, turned into real calls.

Small open models trained on Hermes-style calls (Qwen2.5-Coder among them) often answer with
``{"name": "read_file", "arguments": {...}}`` as plain text: bare on its own lines, in a ```json
fence, or wrapped in ``<tools>`` / ``<tool_call>`` tags, and a server whose tool parser does not
know that shape passes it through as content. Without salvage the agent takes the text as its
final answer and the episode ends after one turn.

A text becomes a call only when it is unambiguous:

- the JSON names a declared tool and carries its arguments as an object (``arguments`` or
  ``parameters``, or OpenAI's ``{"function": {...}}`` shape), and nothing else;
- it stands on its own: a whole fenced block marked ``json`` (or unmarked, or ``tool_call``), a
  whole ``<tools>`` / ``<tool_call>`` block, or a JSON object that starts a line outside any fence
  and ends its line;
- never inside code fenced as another language, which is code the model is quoting.

Argument names that miss the schema by a little (``path`` for ``file_path``) are mended, and every
mend is recorded on the call (``ToolCall.repairs``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from swerve.models.arguments import coerce_arguments, decode_arguments, repair_names
from swerve.models.base import ToolCall, ToolSpec, new_call_id

CALL_FENCE_INFOS = ("", "json", "json5", "jsonc", "tool_call", "tool", "tools")
_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([\w+-]*)[^\n]*$")
_WRAPPER = re.compile(r"<(tools|tool_call)>\s*(.*?)\s*</\1>", re.S)
_CALL_KEYS = {"name", "arguments", "parameters", "id", "type"}


def salvage_json_calls(text: str, specs: dict[str, ToolSpec]) -> tuple[str, list[ToolCall]]:
    """(the text without the salvaged calls, the calls); ``[]`` and the text unchanged when none."""
    if "{" not in text or not specs:
        return text, []
    spans: list[tuple[int, int, list[ToolCall]]] = []
    quoted: list[tuple[int, int]] = []  # fenced code of other languages: never looked into
    for start, end, info, body in _fences(text):
        if info.lower() in CALL_FENCE_INFOS:
            calls = _calls_in(body, specs)
            if calls:
                spans.append((start, end, calls))
                continue
        quoted.append((start, end))
    for m in _WRAPPER.finditer(text):
        if not _inside(m.start(), quoted + [(a, b) for a, b, _ in spans]):
            calls = _calls_in(m.group(2), specs)
            if calls:
                spans.append((m.start(), m.end(), calls))
    for start, end, calls in _bare_objects(text, specs):
        if not _inside(start, quoted + [(a, b) for a, b, _ in spans]):
            spans.append((start, end, calls))
    if not spans:
        return text, []
    spans.sort()
    pieces, found, pos = [], [], 0
    for start, end, calls in spans:
        if start < pos:
            continue
        pieces.append(text[pos:start])
        found += calls
        pos = end
    pieces.append(text[pos:])
    prose = "\n".join(p.strip() for p in pieces if p.strip())
    return prose, found


def json_call(obj: Any, specs: dict[str, ToolSpec]) -> ToolCall | None:
    """The call a JSON value stands for, or None when it is not a call of a declared tool."""
    if (
        isinstance(obj, dict)
        and isinstance(obj.get("function"), dict)
        and set(obj) <= {"function", "id", "type"}
    ):
        obj = obj["function"]
    if not isinstance(obj, dict) or not isinstance(obj.get("name"), str) or not set(obj) <= _CALL_KEYS:
        return None
    spec = specs.get(obj["name"].strip())
    if spec is None:
        return None
    raw = obj.get("arguments", obj.get("parameters", {}))
    call = ToolCall(new_call_id(), spec.name)
    try:
        args = (
            coerce_arguments(raw, spec.parameters)
            if isinstance(raw, dict)
            else decode_arguments(raw, spec.parameters)
        )
    except ValueError as exc:
        call.error = f"could not read the arguments of {spec.name}: {exc}"
        return call
    call.arguments, call.repairs = repair_names(args, spec.parameters)
    return call


def _calls_in(body: str, specs: dict[str, ToolSpec]) -> list[ToolCall]:
    """The calls a whole block holds (one object, a list of them, or objects one per line)."""
    body = body.strip()
    if not body.startswith(("{", "[")):
        return []
    values: list[Any] = []
    decoder = json.JSONDecoder(strict=False)
    pos = 0
    try:
        while pos < len(body):
            value, pos = decoder.raw_decode(body, pos)
            values.extend(value if isinstance(value, list) else [value])
            while pos < len(body) and body[pos] in " \t\r\n,":
                pos += 1
    except (ValueError, RecursionError):
        return []
    calls = [json_call(v, specs) for v in values]
    return [c for c in calls if c is not None] if calls and all(calls) else []


def _fences(text: str) -> list[tuple[int, int, str, str]]:
    """Fenced code blocks: (start, end, info word, body)."""
    out = []
    lines = text.splitlines(keepends=True)
    offsets, pos = [], 0
    for line in lines:
        offsets.append(pos)
        pos += len(line)
    i = 0
    while i < len(lines):
        m = _FENCE_OPEN.match(lines[i].rstrip("\n"))
        if not m:
            i += 1
            continue
        marker, info = m.group(1), m.group(2)
        j = i + 1
        while j < len(lines) and not re.match(
            rf"^ {{0,3}}{re.escape(marker[0])}{{{len(marker)},}}\s*$", lines[j].rstrip("\n")
        ):
            j += 1
        end = offsets[j] + len(lines[j]) if j < len(lines) else len(text)
        body = "".join(lines[i + 1 : j])
        out.append((offsets[i], end, info, body))
        i = j + 1
    return out


def _bare_objects(text: str, specs: dict[str, ToolSpec]) -> list[tuple[int, int, list[ToolCall]]]:
    """JSON calls that start a line and end one, outside fences (fences are skipped by the caller)."""
    out = []
    decoder = json.JSONDecoder(strict=False)
    for m in re.finditer(r"(?m)^[ \t]*\{", text):
        start = m.end() - 1
        try:
            value, end = decoder.raw_decode(text, start)
        except (ValueError, RecursionError):
            continue
        rest = text.find("\n", end)
        if text[end : len(text) if rest == -1 else rest].strip():
            continue
        call = json_call(value, specs)
        if call is not None:
            out.append((m.start(), end, [call]))
    return out


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(a <= pos < b for a, b in spans)

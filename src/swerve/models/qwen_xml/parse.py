"""Parsing tool calls out of a reply: tolerant of a missing wrapper, a missing ``</parameter>``, an
unclosed last block and JSON inside ``<tool_call>``; tags inside a value only end it where they make
sense structurally (see ``scan_value``)."""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from typing import Any

from swerve.models.arguments import (
    coerce_arguments,
    coerce_value,
    decode_arguments,
    property_schema,
    repair_names,
    snippet,
)
from swerve.models.base import (
    ToolCall,
    ToolSpec,
    new_call_id,
)
from swerve.models.qwen_xml.scan import FenceState, scan_outside
from swerve.models.qwen_xml.tags import (
    BAD_NAME_CHARS,
    DELIMITERS,
    FORMAT_HINT,
    FUNCTION_CLOSE,
    FUNCTION_OPEN,
    MAX_NAME_CHARS,
    NEAR_PARAM_OPEN,
    PARAM_CLOSE,
    PARAM_OPEN,
    TOOL_CALL_CLOSE,
    TOOL_CALL_OPEN,
)
from swerve.models.salvage import salvage_json_calls


@dataclass
class ParseResult:
    """Content outside the calls, the calls, and whether the last call was closed (False when the
    text ended inside a call, e.g. because the model hit its token limit)."""

    content: str
    calls: list[ToolCall] = field(default_factory=list)
    complete: bool = True


def parse_tool_calls(text: str, tools: list[ToolSpec]) -> tuple[str, list[ToolCall]]:
    """Split a model reply into its prose and its tool calls (see the module docstring)."""
    result = parse_reply(text, tools)
    return result.content, result.calls


def parse_reply(text: str, tools: list[ToolSpec]) -> ParseResult:
    """``parse_tool_calls`` with the completeness of the last call."""
    reply = _Reply(text, {t.name: t for t in tools})
    fence = FenceState()
    segments: list[str] = []
    calls: list[ToolCall] = []
    complete = True
    pos = seg_start = 0
    while True:
        _, markup = scan_outside(text, pos, fence, final=True)
        if markup is None:
            segments.append(text[seg_start:])
            break
        if text.startswith((TOOL_CALL_CLOSE, FUNCTION_CLOSE, PARAM_CLOSE), markup):
            # A closing tag with no call open: markup the model left behind; drop it.
            segments.append(text[seg_start:markup])
            pos = seg_start = text.index(">", markup) + 1
            continue
        found = _parse_call(reply, markup)
        if found is None:  # a lone <tool_call> mention: prose after all
            pos = markup + len(TOOL_CALL_OPEN)
            continue
        end, new_calls, closed = found
        segments.append(text[seg_start:markup])
        calls += new_calls
        complete = closed
        pos = seg_start = end
    content = "\n\n".join(s.strip() for s in segments if s.strip())
    if not calls:  # no XML call: perhaps the model wrote its call as JSON text
        content, calls = salvage_json_calls(content, reply.specs)
    return ParseResult(content, calls, complete)


class _Reply:
    """The text being parsed, the tools by name, and lookups that keep parsing linear."""

    def __init__(self, text: str, specs: dict[str, ToolSpec]) -> None:
        self.text = text
        self.specs = specs
        # Characters the nesting-aware value scan may still read; once spent, values are
        # scanned without nesting (this bounds the work on adversarial text).
        self.nesting_budget = 4 * len(text) + 65_536
        self._wrapper_closes: list[int] | None = None
        self._line_functions: list[int] | None = None

    def next_wrapper_close(self, pos: int) -> int:
        """Index of the first ``</tool_call>`` at or after ``pos``, or -1."""
        if self._wrapper_closes is None:
            self._wrapper_closes = _all_positions(self.text, TOOL_CALL_CLOSE)
        return _first_at_or_after(self._wrapper_closes, pos)

    def next_line_function(self, pos: int) -> int:
        """Index of the first ``<function=`` at a line start at or after ``pos``, or -1."""
        if self._line_functions is None:
            found = _all_positions(self.text, "\n" + FUNCTION_OPEN)
            self._line_functions = ([0] if self.text.startswith(FUNCTION_OPEN) else []) + [
                i + 1 for i in found
            ]
        return _first_at_or_after(self._line_functions, pos)


def _all_positions(text: str, needle: str) -> list[int]:
    out = []
    i = text.find(needle)
    while i != -1:
        out.append(i)
        i = text.find(needle, i + 1)
    return out


def _first_at_or_after(positions: list[int], pos: int) -> int:
    k = bisect.bisect_left(positions, pos)
    return positions[k] if k < len(positions) else -1


_WS = re.compile(r"\s*")


def _skip_ws(text: str, pos: int) -> int:
    return _WS.match(text, pos).end()  # type: ignore[union-attr]


def _followed_by_delimiter(text: str, pos: int) -> bool:
    j = _skip_ws(text, pos)
    return j >= len(text) or text.startswith(DELIMITERS, j) or NEAR_PARAM_OPEN.match(text, j) is not None


def _valid_name(name: str) -> bool:
    return (
        0 < len(name) <= MAX_NAME_CHARS
        and not any(ch.isspace() for ch in name)
        and not (BAD_NAME_CHARS & set(name))
    )


def _tag_name(text: str, start: int) -> tuple[str, int]:
    """Read the name of ``<function=NAME>`` / ``<parameter=NAME>`` from ``start``.
    Returns (raw name, index of the char that ended it): ``>`` when well formed, a newline or ``<``
    when malformed, or ``len(text)`` when the text ended first."""
    n = len(text)
    k = n
    for stop in (">", "\n", "<"):
        found = text.find(stop, start, k)
        if found != -1:
            k = found
    return text[start:k], k


def _param_names(schema: dict[str, Any] | None) -> set[str] | None:
    """The declared parameter names, or None when the schema declares none (then every
    ``<parameter=`` at a line start counts as structure)."""
    props = schema.get("properties") if isinstance(schema, dict) else None
    if isinstance(props, dict) and props:
        return set(props)
    return None


Parsed = tuple[int, list[ToolCall], bool]


def _parse_call(reply: _Reply, start: int) -> Parsed | None:
    """Parse the call at ``start`` (``<tool_call>`` or a bare ``<function=``). Returns
    (end, calls, closed), or None when a ``<tool_call>`` turns out to be a mere mention."""
    text = reply.text
    if not text.startswith(TOOL_CALL_OPEN, start):
        end, call, closed = _parse_function(reply, start)
        j = _skip_ws(text, end)
        if closed and text.startswith(TOOL_CALL_CLOSE, j):
            end = j + len(TOOL_CALL_CLOSE)
        return end, [call], closed
    j = _skip_ws(text, start + len(TOOL_CALL_OPEN))
    if text.startswith("{", j):
        return _parse_json_call(reply, j)
    if text.startswith(FUNCTION_OPEN, j):
        return _parse_functions(reply, j)
    return _parse_stray_wrapper(reply, j)


def _parse_functions(reply: _Reply, pos: int) -> Parsed:
    """One or more ``<function=`` blocks inside a ``<tool_call>`` wrapper, and its closing tag."""
    text = reply.text
    calls: list[ToolCall] = []
    while True:
        end, call, closed = _parse_function(reply, pos)
        calls.append(call)
        if not closed:
            return end, calls, False
        j = _skip_ws(text, end)
        if text.startswith(TOOL_CALL_CLOSE, j):
            return j + len(TOOL_CALL_CLOSE), calls, True
        if not text.startswith(FUNCTION_OPEN, j):
            return end, calls, True  # wrapper never closed; what follows is prose
        pos = j


def _parse_stray_wrapper(reply: _Reply, j: int) -> Parsed | None:
    """A ``<tool_call>`` followed by something other than ``<function=`` or JSON."""
    text = reply.text
    n = len(text)
    if j >= n:
        return n, [ToolCall(new_call_id(), "", error="the reply ended right after <tool_call>")], False
    close = reply.next_wrapper_close(j)
    k = reply.next_line_function(j)
    if k != -1 and (close == -1 or k < close):  # stray words before the function: drop them
        return _parse_functions(reply, k)
    if close == -1:
        return None
    error = f"a <tool_call> block held no <function=NAME>: {snippet(text[j:close])}; {FORMAT_HINT}"
    return close + len(TOOL_CALL_CLOSE), [ToolCall(new_call_id(), "", error=error)], True


def _parse_json_call(reply: _Reply, j: int) -> Parsed:
    """A JSON call inside ``<tool_call>``: ``{"name": ..., "arguments": {...}}``."""
    text = reply.text
    n = len(text)
    closed = True
    obj: Any
    try:
        obj, end = json.JSONDecoder(strict=False).raw_decode(text, j)
    except (ValueError, RecursionError):
        close = reply.next_wrapper_close(j)
        closed = close != -1
        end = close if closed else n
        try:
            obj = decode_arguments(text[j:end])
        except ValueError as exc:
            call = ToolCall(new_call_id(), "", error=f"could not read the JSON tool call: {exc}")
            return (end + len(TOOL_CALL_CLOSE) if closed else n), [call], closed
    k = _skip_ws(text, end)
    if text.startswith(TOOL_CALL_CLOSE, k):
        end = k + len(TOOL_CALL_CLOSE)
    return end, [_json_call(obj, reply.specs)], closed


def _json_call(obj: Any, specs: dict[str, ToolSpec]) -> ToolCall:
    if isinstance(obj, dict) and isinstance(obj.get("function"), dict):
        obj = obj["function"]
    if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
        return ToolCall(new_call_id(), "", error=f'a JSON tool call needs a "name": {snippet(str(obj))}')
    name = obj["name"].strip()
    if not _valid_name(name):
        return ToolCall(
            new_call_id(), name[:MAX_NAME_CHARS], error=f"invalid function name {snippet(name)!r}"
        )
    spec = specs.get(name)
    schema = spec.parameters if spec else None
    raw = obj.get("arguments", obj.get("parameters", {}))
    try:
        if isinstance(raw, dict):
            args = coerce_arguments(raw, schema) if schema else dict(raw)
        else:
            args = decode_arguments(raw, schema)
    except ValueError as exc:
        return ToolCall(new_call_id(), name, error=str(exc))
    args, repairs = repair_names(args, schema)
    return ToolCall(new_call_id(), name, args, repairs=repairs)


def _parse_function(reply: _Reply, start: int) -> tuple[int, ToolCall, bool]:
    """One ``<function=NAME>`` block. Returns (end, call, closed); closed is False when the text
    ended inside the block."""
    text = reply.text
    n = len(text)
    raw_name, k = _tag_name(text, start + len(FUNCTION_OPEN))
    name = raw_name.strip()[:MAX_NAME_CHARS]
    if k >= n:
        error = f"the reply ended inside the tag {snippet(text[start:])}, so the call was cut off"
        return n, ToolCall(new_call_id(), name, error=error), False
    errors: list[str] = []
    if text[k] != ">":
        errors.append(f"malformed tag {snippet(text[start:k])}: expected <function=NAME> on one line")
        pos = k
    else:
        pos = k + 1
        if not _valid_name(name):
            errors.append(
                f"invalid function name {snippet(name)!r}: a name has no spaces, quotes, braces or angle brackets"
            )
    spec = reply.specs.get(name)
    schema = spec.parameters if spec else None
    names = _param_names(schema)
    args: dict[str, Any] = {}
    repairs: list[str] = []
    closed = False
    while True:
        j = _skip_ws(text, pos)
        if j >= n:
            pos = n
            break
        near = None if text.startswith(PARAM_OPEN, j) else NEAR_PARAM_OPEN.match(text, j)
        if near is not None:
            repairs.append(f"read {snippet(near.group(0))} as <parameter={near.group(1)}>")
        if near is not None or text.startswith(PARAM_OPEN, j):
            pos, finished = _parse_parameter(reply, j, schema, names, args, errors, near)
            if not finished:
                break
            continue
        if text.startswith(FUNCTION_CLOSE, j):
            pos, closed = j + len(FUNCTION_CLOSE), True
            break
        if text.startswith((TOOL_CALL_CLOSE, TOOL_CALL_OPEN, FUNCTION_OPEN), j):
            pos, closed = j, True  # </function> missing
            break
        if text[j] == "{" and not args:
            json_args = _json_object_at(text, j)
            if json_args is not None:
                value, pos = json_args
                args.update(coerce_arguments(value, schema) if schema else value)
                continue
        nxt = _next_tag_line(text, j)
        if nxt == -1 or text.startswith((TOOL_CALL_OPEN, FUNCTION_OPEN), nxt):
            pos, closed = j, True  # </function> missing and prose follows: leave it to the content
            break
        errors.append(f"unexpected text inside <function={name}>: {snippet(text[j:nxt])}")
        pos = nxt
    args, renamed = repair_names(args, schema)
    repairs += renamed
    for key, value in args.items():
        stray = _stray_markup(value) if isinstance(value, str) else None
        if stray:
            errors.append(
                f"the value of {snippet(key)!r} contains the protocol's own tag {stray} outside a nested "
                "block, so a parameter tag was probably malformed"
            )
    return pos, ToolCall(new_call_id(), name, args, _join_errors(errors), repairs), closed


def _stray_markup(value: str) -> str | None:
    """Markup inside ``value`` that only makes sense as structure: a closing tag alone on its line,
    closing nothing, followed by another tag line; or a near-miss parameter tag. The mark of a value
    that swallowed the markup after it. Balanced nested blocks and prose that mentions a tag are
    fine."""
    lines = [line.strip() for line in value.splitlines()]
    depth = {PARAM_CLOSE: 0, FUNCTION_CLOSE: 0}
    for i, line in enumerate(lines):
        near = NEAR_PARAM_OPEN.match(line)
        if near is not None:
            return snippet(near.group(0))
        if line.startswith(PARAM_OPEN) or line == "<parameter>":  # a call, or a tool declaration
            depth[PARAM_CLOSE] += 1
        elif line.startswith(FUNCTION_OPEN) or line == "<function>":
            depth[FUNCTION_CLOSE] += 1
        elif line in depth:
            if depth[line]:
                depth[line] -= 1
                continue
            following = next((rest for rest in lines[i + 1 :] if rest), "")
            if following.startswith(("<parameter", FUNCTION_CLOSE, TOOL_CALL_CLOSE)):
                return line
    return None


def _join_errors(errors: list[str], limit: int = 4) -> str | None:
    """One bounded message from a call's problems (repeats merged), with the format hint."""
    if not errors:
        return None
    unique = list(dict.fromkeys(errors))
    more = len(unique) - limit
    text = "; ".join(unique[:limit]) + (f"; and {more} more problems" if more > 0 else "")
    return f"{text}; {FORMAT_HINT}"


def _json_object_at(text: str, j: int) -> tuple[dict[str, Any], int] | None:
    try:
        value, end = json.JSONDecoder(strict=False).raw_decode(text, j)
    except (ValueError, RecursionError):
        return None
    return (value, end) if isinstance(value, dict) else None


def _next_tag_line(text: str, pos: int) -> int:
    """Index of the next line (after ``pos``) that starts with a call tag, or -1."""
    e = text.find("\n", pos)
    while e != -1:
        if text.startswith(DELIMITERS, e + 1):
            return e + 1
        e = text.find("\n", e + 1)
    return -1


def _parse_parameter(
    reply: _Reply,
    j: int,
    schema: dict[str, Any] | None,
    names: set[str] | None,
    args: dict[str, Any],
    errors: list[str],
    near: re.Match[str] | None = None,
) -> tuple[int, bool]:
    """One ``<parameter=KEY>`` at ``j`` (or the near miss ``near`` matched there); stores the
    converted value in ``args``. Returns (next position, finished) where finished is False when the
    text ended inside it."""
    text = reply.text
    n = len(text)
    if near is not None:
        raw_key, k = near.group(1), near.end() - 1
    else:
        raw_key, k = _tag_name(text, j + len(PARAM_OPEN))
    key = raw_key.strip()
    if k >= n:
        errors.append(f"the reply ended inside the tag {snippet(text[j:])}, so the call was cut off")
        return n, False
    if text[k] != ">":
        errors.append(f"malformed tag {snippet(text[j:k])}: expected <parameter=NAME> on one line")
        start = k
    else:
        start = k + 1
        if not _valid_name(key):
            errors.append(f"invalid parameter name {snippet(key)!r}")
    end, closer = _scan_value(reply, start, names)
    value = _strip_one_newline(text[start:end])
    if key in args:
        errors.append(f"parameter {snippet(key)!r} is given twice")
    args[key] = coerce_value(value, property_schema(schema, key))
    if end >= n:
        return n, False
    return end + closer, True


def _strip_one_newline(value: str) -> str:
    if value.startswith("\r\n"):
        value = value[2:]
    elif value.startswith("\n"):
        value = value[1:]
    if value.endswith("\r\n"):
        value = value[:-2]
    elif value.endswith("\n"):
        value = value[:-1]
    return value


def _scan_value(reply: _Reply, start: int, names: set[str] | None) -> tuple[int, int]:
    """Where the value starting at ``start`` ends: (end index, length of the closing tag to consume).

    - ``</parameter>`` ends the value when only whitespace separates it from the next tag
      (another parameter, ``</function>``, ``</tool_call>``, a new call) or the end of the text;
    - ``</function>`` / ``</tool_call>`` end it likewise (a missing ``</parameter>``);
    - ``<parameter=KEY>`` at a line start ends it when KEY is a declared parameter (or none are
      declared): a missing ``</parameter>``;
    - blocks opened at a line start inside the value (``<tool_call>``, ``<function=``,
      ``<parameter=`` with an undeclared name) are nested text, and their closing tags do not end
      the value. If nesting never balances, the scan runs again without it;
    - with no clean end, the last candidate closing tag wins; with none, the text's end.
    """
    found = None
    if reply.nesting_budget > 0:
        found = _scan_value_pass(reply, start, names, nesting=True)
    if found is None:
        found = _scan_value_pass(reply, start, names, nesting=False)
        assert found is not None
    return found


_CLOSERS = ((PARAM_CLOSE, "param"), (FUNCTION_CLOSE, "fn"), (TOOL_CALL_CLOSE, "tc"))


def _scan_value_pass(
    reply: _Reply, start: int, names: set[str] | None, nesting: bool
) -> tuple[int, int] | None:
    text = reply.text
    n = len(text)
    stack: list[str] = []
    fallback: tuple[int, int] | None = None
    p = text.find("<", start)
    while p != -1:
        if nesting and p - start > reply.nesting_budget:
            reply.nesting_budget = 0
            return None
        line_start = p == start or text[p - 1] == "\n"
        for tag, kind in _CLOSERS:
            if text.startswith(tag, p):
                if kind in stack:
                    while stack.pop() != kind:
                        pass
                    break
                consume = len(tag) if kind == "param" else 0
                if _followed_by_delimiter(text, p + len(tag)):
                    return _spend(reply, nesting, p - start, (p, consume))
                if kind == "param" or line_start:
                    fallback = (p, consume)
                break
        else:
            near = NEAR_PARAM_OPEN.match(text, p) if line_start and not stack else None
            if near is not None and (names is None or near.group(1) in names):
                return _spend(reply, nesting, p - start, (p, 0))
            if line_start and text.startswith(PARAM_OPEN, p):
                if not stack:
                    key, k = _tag_name(text, p + len(PARAM_OPEN))
                    if names is None or k >= n or key.strip() in names:
                        return _spend(reply, nesting, p - start, (p, 0))
                if nesting:
                    stack.append("param")
            elif nesting and line_start and text.startswith(FUNCTION_OPEN, p):
                stack.append("fn")
            elif nesting and line_start and text.startswith(TOOL_CALL_OPEN, p):
                stack.append("tc")
        p = text.find("<", p + 1)
    if stack:
        reply.nesting_budget -= n - start
        return None
    return _spend(reply, nesting, n - start, fallback or (n, 0))


def _spend(reply: _Reply, nesting: bool, scanned: int, found: tuple[int, int]) -> tuple[int, int]:
    if nesting:
        reply.nesting_budget -= scanned
    return found

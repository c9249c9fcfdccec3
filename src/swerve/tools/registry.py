"""The tool registry: specs for the model, argument validation, and calls that never raise."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from swerve.errors import ToolError
from swerve.models.base import ToolCall, ToolSpec
from swerve.tools.base import Tool, ToolContext, ToolResult
from swerve.tools.truncate import truncate

# A backstop over every result; tools bound their own output more tightly.
RESULT_MAX_CHARS = 30_000
RESULT_MAX_LINES = 2_500


class ToolRegistry:
    """The tools of a session, by name."""

    def __init__(self, tools: Iterable[Tool]) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            if tool.name in self._tools:
                raise ValueError(f"two tools are named {tool.name!r}")
            self._tools[tool.name] = tool

    def __iter__(self):
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def names(self) -> list[str]:
        return list(self._tools)

    def specs(self) -> list[ToolSpec]:
        return [t.spec() for t in self._tools.values()]

    def summary(self, call: ToolCall, *, labelled: bool = False) -> str:
        """A one-line description of a call (its tool's summary; the bare name when the call is
        broken). ``labelled`` wraps it in the tool's label, e.g. ``Shell(ls -la)``."""
        tool = self.get(call.name)
        if tool is None or call.error is not None:
            return call.name
        try:
            text = tool.summary(call.arguments)
        except Exception:
            return call.name
        return f"{tool.label}({text})" if labelled and tool.label else text

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def validate(self, tool: Tool, args: Any) -> tuple[dict[str, Any], str | None]:
        """(arguments with harmless coercions applied, None) or (args, an error for the model)."""
        return validate_args(tool.name, tool.parameters, args)

    async def call(self, call: ToolCall, ctx: ToolContext) -> ToolResult:
        """Run one call. Never raises for bad input or a failing tool: those become error results."""
        if call.error is not None:
            return ToolResult(call.error, is_error=True)
        tool = self._tools.get(call.name)
        if tool is None:
            available = ", ".join(self._tools) or "none"
            return ToolResult(f"Unknown tool {call.name!r}. Available tools: {available}.", is_error=True)
        args, error = self.validate(tool, call.arguments)
        if error is not None:
            return ToolResult(error, is_error=True)
        try:
            result = await tool.run(args, ctx)
        except ToolError as exc:
            return ToolResult(str(exc), is_error=True)
        except Exception as exc:
            return ToolResult(f"{call.name} failed: {type(exc).__name__}: {exc}", is_error=True)
        if not isinstance(result, ToolResult):
            return ToolResult(f"{call.name} returned no result (got {type(result).__name__})", is_error=True)
        result.output = truncate(str(result.output), RESULT_MAX_CHARS, RESULT_MAX_LINES)
        return result


# -- a small JSON-schema checker for what tool schemas use ------------------------------------

_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean (true or false)",
    "array": "an array",
    "object": "an object",
    "null": "null",
}


class _Invalid(Exception):
    pass


def validate_args(tool_name: str, schema: dict[str, Any], args: Any) -> tuple[dict[str, Any], str | None]:
    """Check ``args`` against an object ``schema``; coerce harmless mismatches ("5" -> 5,
    "true" -> True, a JSON string holding an array). Returns (args, error or None)."""
    if args is None:
        args = {}
    if isinstance(args, str):
        try:
            args = json.loads(args) if args.strip() else {}
        except (ValueError, RecursionError):
            pass
    if not isinstance(args, dict):
        return {}, f"Invalid arguments for {tool_name}: expected an object of parameters, got {_kind(args)}."
    errors: list[str] = []
    value = _check_object(args, schema, "", errors)
    if errors:
        return args, f"Invalid arguments for {tool_name}: " + "; ".join(errors) + ". " + _usage(schema)
    return value, None


def _usage(schema: dict[str, Any]) -> str:
    required = set(schema.get("required", ()))
    parts = []
    for name, prop in schema.get("properties", {}).items():
        kind = prop.get("type", "any")
        if kind == "array":
            kind = "array of " + str(prop.get("items", {}).get("type", "any"))
        parts.append(f"{name} ({kind}{', required' if name in required else ''})")
    return "Parameters: " + ", ".join(parts) + "." if parts else "This tool takes no parameters."


def _check_object(
    value: dict[str, Any], schema: dict[str, Any], where: str, errors: list[str]
) -> dict[str, Any]:
    props: dict[str, Any] = schema.get("properties", {})
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{where}{key}"
        if key not in props:
            if schema.get("additionalProperties", False) is False:
                errors.append(f"unknown parameter '{name}'")
            else:
                out[key] = item
            continue
        if item is None and props[key].get("type") != "null":
            continue  # null for an optional parameter means "not given"
        try:
            out[key] = _check(item, props[key], name, errors)
        except _Invalid as exc:
            errors.append(str(exc))
    for key in schema.get("required", ()):
        if key not in out and not any(e.startswith(f"parameter '{where}{key}'") for e in errors):
            errors.append(f"missing required parameter '{where}{key}'")
    return out


def _check(value: Any, schema: dict[str, Any], name: str, errors: list[str]) -> Any:
    kind = schema.get("type")
    if kind is not None:
        value = _coerce(value, kind, name)
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(json.dumps(c) for c in schema["enum"])
        raise _Invalid(f"parameter '{name}' must be one of {choices}, got {_show(value)}")
    if kind == "array" and "items" in schema:
        items = []
        for i, item in enumerate(value):
            try:
                items.append(_check(item, schema["items"], f"{name}[{i}]", errors))
            except _Invalid as exc:
                errors.append(str(exc))
        value = items
    elif kind == "object" and ("properties" in schema or "required" in schema):
        value = _check_object(value, schema, f"{name}.", errors)
    return value


def _coerce(value: Any, kind: str, name: str) -> Any:
    """``value`` as ``kind``, converting only where nothing can be lost."""
    if kind == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    elif kind == "integer":
        if isinstance(value, bool):
            pass
        elif isinstance(value, int):
            return value
        elif isinstance(value, float) and value.is_integer():
            return int(value)
        elif isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
    elif kind == "number":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                number = float(value.strip())
                return int(number) if number.is_integer() and "." not in value else number
            except ValueError:
                pass
    elif kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
    elif kind in ("array", "object"):
        expected = list if kind == "array" else dict
        if isinstance(value, expected):
            return value
        if isinstance(value, str):
            try:
                decoded = json.loads(value)
            except (ValueError, RecursionError):
                decoded = None
            if isinstance(decoded, expected):
                return decoded
    elif kind == "null":
        if value is None:
            return value
    else:
        return value  # a type this checker does not know: accept
    raise _Invalid(f"parameter '{name}' must be {_TYPE_NAMES.get(kind, kind)}, got {_show(value)}")


def _kind(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def _show(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, str | int | float | bool) or value is None else _kind(value)
    return text if len(text) <= 60 else text[:57] + "..."

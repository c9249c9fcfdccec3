"""The registry: validation with harmless coercions, and calls that never raise."""

import json
from typing import Any, ClassVar

import pytest

from swerve.errors import ToolError
from swerve.models.base import ToolCall
from swerve.tools import default_tools
from swerve.tools.base import Tool, ToolContext, ToolResult
from swerve.tools.registry import ToolRegistry, validate_args

QWEN_CODE_NAMES = {
    "read_file",
    "write_file",
    "edit",
    "glob",
    "grep_search",
    "list_directory",
    "run_shell_command",
    "todo_write",
}


class Echo(Tool):
    name = "echo"
    description = "Echo the arguments."
    kind = "read"
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "text": {"type": "string"},
            "count": {"type": "integer"},
            "ratio": {"type": "number"},
            "loud": {"type": "boolean"},
            "mode": {"type": "string", "enum": ["a", "b"]},
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"id": {"type": "string"}, "n": {"type": "integer"}},
                    "required": ["id"],
                },
            },
        },
        "required": ["text"],
    }

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        return ToolResult(json.dumps(args, sort_keys=True))


class Broken(Tool):
    name = "broken"
    description = "Always fails."
    kind = "read"
    parameters: ClassVar[dict[str, Any]] = {"type": "object", "properties": {"how": {"type": "string"}}}

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        if args.get("how") == "tool-error":
            raise ToolError("a clean message for the model")
        if args.get("how") == "none":
            return None  # type: ignore[return-value]
        if args.get("how") == "huge":
            return ToolResult("x\n" * 100_000)
        raise RuntimeError("boom")


@pytest.fixture
def reg() -> ToolRegistry:
    return ToolRegistry([Echo(), Broken()])


def test_coerces_harmless_mismatches(reg):
    args, error = reg.validate(
        Echo(), {"text": 12, "count": "5", "ratio": "0.5", "loud": "TRUE", "items": '[{"id": "1", "n": "2"}]'}
    )
    assert error is None
    assert args == {"text": "12", "count": 5, "ratio": 0.5, "loud": True, "items": [{"id": "1", "n": 2}]}
    args, error = reg.validate(Echo(), {"text": "t", "count": 3.0, "mode": None})
    assert error is None and args == {"text": "t", "count": 3}  # null for an optional parameter: absent


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"text": "t", "count": "five"}, "parameter 'count' must be an integer, got \"five\""),
        ({"text": "t", "count": 2.5}, "parameter 'count' must be an integer"),
        ({"text": "t", "loud": "yes"}, "parameter 'loud' must be a boolean"),
        ({"text": "t", "count": True}, "parameter 'count' must be an integer, got true"),
        ({"text": "t", "mode": "c"}, 'parameter \'mode\' must be one of "a", "b"'),
        ({"text": "t", "colour": "red"}, "unknown parameter 'colour'"),
        ({}, "missing required parameter 'text'"),
        ({"text": None}, "missing required parameter 'text'"),
        ({"text": "t", "items": "not json"}, "parameter 'items' must be an array"),
        ({"text": "t", "items": [{"n": 1}]}, "missing required parameter 'items[0].id'"),
        ({"text": "t", "items": [{"id": "1", "n": "x"}]}, "parameter 'items[0].n' must be an integer"),
        ({"text": ["a"]}, "parameter 'text' must be a string, got an array"),
    ],
)
def test_bad_arguments_get_a_clear_error(reg, args, needle):
    _, error = reg.validate(Echo(), args)
    assert error is not None
    assert needle in error
    assert error.startswith("Invalid arguments for echo:")
    assert "Parameters: text (string, required)" in error


def test_arguments_that_are_not_an_object():
    _, error = validate_args("echo", Echo.parameters, [1, 2])
    assert error == "Invalid arguments for echo: expected an object of parameters, got an array."
    args, error = validate_args("echo", Echo.parameters, '{"text": "from a string"}')
    assert error is None and args == {"text": "from a string"}


async def test_call_never_raises(reg, ctx):
    async def run(name: str, args: Any = None, error: str | None = None) -> ToolResult:
        return await reg.call(ToolCall("c1", name, args if args is not None else {}, error), ctx)

    result = await run("echo", {"text": "hi", "count": "2"})
    assert not result.is_error and json.loads(result.output) == {"text": "hi", "count": 2}

    result = await run("echo", error="could not decode the arguments: unexpected end")
    assert result.is_error and result.output == "could not decode the arguments: unexpected end"

    result = await run("nope", {})
    assert result.is_error and result.output == "Unknown tool 'nope'. Available tools: echo, broken."

    result = await run("echo", {"count": "x"})
    assert result.is_error and "missing required parameter 'text'" in result.output

    result = await run("broken", {})
    assert result.is_error and result.output == "broken failed: RuntimeError: boom"
    assert "Traceback" not in result.output

    result = await run("broken", {"how": "tool-error"})
    assert result.is_error and result.output == "a clean message for the model"

    result = await run("broken", {"how": "none"})
    assert result.is_error and "returned no result" in result.output

    result = await run("broken", {"how": "huge"})
    assert len(result.output) <= 31_000 and "omitted" in result.output


def test_duplicate_names_are_refused():
    with pytest.raises(ValueError, match="two tools are named 'echo'"):
        ToolRegistry([Echo(), Echo()])


def test_default_tools_follow_qwen_code_and_stay_small():
    reg = ToolRegistry(default_tools())
    assert set(reg.names()) >= QWEN_CODE_NAMES
    specs = [s.openai() for s in reg.specs()]
    assert len(json.dumps(specs)) < 5_000
    for tool in reg:
        assert tool.kind in ("read", "edit", "execute", "meta")
        assert tool.parameters["type"] == "object"
        assert set(tool.parameters.get("required", ())) <= set(tool.parameters["properties"])

"""A seeded generator of malformed tool calls, for testing that bad calls never crash anything.

Each case is ``{"kind": str, "xml": str | None, "openai": {"name": str, "arguments": str} | None}``:
``xml`` is a whole model reply in Qwen3-Coder's XML protocol (to feed a text-protocol parser or a
scripted server's text), ``openai`` is one native function call with its raw arguments string.
Feeding any of them through the stack must give tool calls (possibly with ``error`` set) or plain
content, and for ``openai`` cases either a decoded dict or a clear ``ValueError``; never a crash.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

from swerve.models.base import ToolSpec

DEFAULT_TOOLS: list[ToolSpec] = [
    ToolSpec(
        "read_file",
        "Read a text file.",
        {
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "Absolute path."},
                "offset": {"type": "integer"},
                "limit": {"type": "integer"},
            },
            "required": ["path"],
        },
    ),
    ToolSpec(
        "write_file",
        "Write a whole file.",
        {
            "type": "object",
            "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
            "required": ["path", "content"],
        },
    ),
    ToolSpec(
        "run_shell_command",
        "Run a shell command.",
        {
            "type": "object",
            "properties": {
                "command": {"type": "string"},
                "timeout": {"type": ["integer", "null"]},
                "is_background": {"type": "boolean"},
            },
            "required": ["command"],
        },
    ),
    ToolSpec(
        "edit",
        "Replace text in a file.",
        {
            "type": "object",
            "properties": {
                "path": {"type": "string"},
                "old_string": {"type": "string"},
                "new_string": {"type": "string"},
                "replace_all": {"type": "boolean"},
            },
            "required": ["path", "old_string", "new_string"],
        },
    ),
    ToolSpec(
        "todo_write",
        "Replace the todo list.",
        {
            "type": "object",
            "properties": {
                "todos": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"id": {"type": "string"}, "content": {"type": "string"}},
                    },
                }
            },
            "required": ["todos"],
        },
    ),
]

_UNICODE = [
    "héllo wörld",
    "日本語のテキスト",
    "emoji 🚀🔥✨",
    "עברית RTL",
    "zero\u200bwidth",
    "nul\x00byte",
    "tab\tand\rreturn",
    "combining e\u0301",
    "\u2028line sep",
    "ℵ₀ ∑ ∫",
]
_BAD_NAMES = ["read file", 'read_file"', "{read_file}", "<read_file>", "'x'", "a\tb", "", "   "]
_UNKNOWN_NAMES = [
    "delete_everything",
    "ReadFile",
    "read-file",
    "browser.open",
    "python",
    "bash",
    "str_replace",
]
_GARBAGE_TAGS = [
    '<parameter name="path">',
    "<function>",
    "</tool_call>",
    "</function>",
    "</parameter>",
    "<tool_call>",
    "<parameter=>",
    "<function=>",
    "<|im_end|>",
    "<tool_response>",
    "<<<>>>",
    "<parameter=path",
    "<function=read_file",
]


def _value_for(rng: random.Random, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = kind[0]
    if kind == "integer":
        return rng.randint(0, 500)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "array":
        return [{"id": str(i), "content": f"step {i}"} for i in range(rng.randint(0, 3))]
    return rng.choice(["/tmp/a.py", "ls -la", "x = 1\nprint(x)\n", "hello", "src/main.rs"])


def _good_args(rng: random.Random, tool: ToolSpec) -> dict[str, Any]:
    props = tool.parameters.get("properties", {})
    required = set(tool.parameters.get("required", []))
    return {k: _value_for(rng, s) for k, s in props.items() if k in required or rng.random() < 0.5}


def _xml(name: str, args: dict[str, Any], *, wrapper: bool = True, close_params: bool = True) -> str:
    lines = ["<tool_call>"] if wrapper else []
    lines.append(f"<function={name}>")
    for key, val in args.items():
        text = val if isinstance(val, str) else json.dumps(val, ensure_ascii=False)
        lines += [f"<parameter={key}>", text]
        if close_params:
            lines.append("</parameter>")
    lines.append("</function>")
    if wrapper:
        lines.append("</tool_call>")
    return "\n".join(lines)


def _prose(rng: random.Random) -> str:
    return rng.choice(
        ["", "Let me look at that.\n\n", "I'll fix it now.\n", "Ok.", "Checking the file first:\n"]
    )


Case = dict[str, Any]
_Maker = Callable[[random.Random, ToolSpec], Case]


def _case(kind: str, xml: str | None = None, name: str | None = None, arguments: str | None = None) -> Case:
    openai = {"name": name, "arguments": arguments} if name is not None and arguments is not None else None
    return {"kind": kind, "xml": xml, "openai": openai}


def _bad_json(rng: random.Random, tool: ToolSpec) -> Case:
    good = json.dumps(_good_args(rng, tool))
    broken = rng.choice(
        [
            good[: rng.randint(1, max(1, len(good) - 1))],
            good.replace('"', "", 2),
            good + "}",
            "{" + good,
            good.replace(":", "=", 1),
            "{path: /tmp/a}",
            "not json at all",
            "{'unterminated: 1",
            '{"a": 1 "b": 2}',
            '{"a": [1, 2}',
            "\x00\x01\x02",
        ]
    )
    xml = f'{_prose(rng)}<tool_call>\n{{"name": "{tool.name}", "arguments": {broken}\n</tool_call>'
    return _case("bad_json", xml, tool.name, broken)


def _python_repr(rng: random.Random, tool: ToolSpec) -> Case:
    args = _good_args(rng, tool)
    args["flag"] = rng.choice([True, False, None])
    raw = repr(args)
    xml = _xml(tool.name, args).replace(json.dumps(args.get("todos", [])), repr(args.get("todos", [])))
    return _case("python_repr", xml, tool.name, raw)


def _trailing_comma(rng: random.Random, tool: ToolSpec) -> Case:
    raw = json.dumps(_good_args(rng, tool))
    raw = raw[:-1] + ",}" if len(raw) > 2 else "{,}"
    return _case("trailing_comma", None, tool.name, raw)


def _double_encoded(rng: random.Random, tool: ToolSpec) -> Case:
    args = _good_args(rng, tool)
    if rng.random() < 0.5:
        raw = json.dumps(json.dumps(args))
    else:
        raw = json.dumps({k: (repr(v) if isinstance(v, list) else v) for k, v in args.items()})
    return _case("double_encoded", None, tool.name, raw)


def _non_object(rng: random.Random, tool: ToolSpec) -> Case:
    raw = rng.choice(["[1, 2, 3]", '"just a string"', "42", "null", "true", "[]", '[{"path": "a"}]'])
    return _case("non_object_json", None, tool.name, raw)


def _unknown_tool(rng: random.Random, tool: ToolSpec) -> Case:
    name = rng.choice(_UNKNOWN_NAMES)
    args = _good_args(rng, tool)
    return _case("unknown_tool", _prose(rng) + _xml(name, args), name, json.dumps(args))


def _wrong_type(rng: random.Random, tool: ToolSpec) -> Case:
    args: dict[str, Any] = {
        "path": rng.choice([123, ["a"], {"p": 1}]),
        "offset": rng.choice(["abc", "1.5", "-", "1e400", "NaN"]),
        "is_background": rng.choice(["maybe", "2", "yes please"]),
        "todos": rng.choice(["not a list", "{'id': 1}", "[1, 2", "{}"]),
    }
    return _case("wrong_type", _xml(tool.name, args), tool.name, json.dumps(args))


def _missing_required(rng: random.Random, tool: ToolSpec) -> Case:
    args = _good_args(rng, tool)
    for key in tool.parameters.get("required", []):
        args.pop(key, None)
    return _case("missing_required", _xml(tool.name, args), tool.name, json.dumps(args))


def _truncated(rng: random.Random, tool: ToolSpec) -> Case:
    full = _prose(rng) + _xml(tool.name, _good_args(rng, tool))
    cut = rng.randint(0, len(full))
    raw = json.dumps(_good_args(rng, tool))
    return _case("truncated_xml", full[:cut], tool.name, raw[: rng.randint(0, len(raw))])


def _garbage_tags(rng: random.Random, tool: ToolSpec) -> Case:
    lines = _xml(tool.name, _good_args(rng, tool)).split("\n")
    for _ in range(rng.randint(1, 4)):
        lines.insert(rng.randint(0, len(lines)), rng.choice(_GARBAGE_TAGS))
    if rng.random() < 0.3:
        rng.shuffle(lines)
    text = "\n".join(lines)
    return _case("garbage_tags", text, tool.name, rng.choice(_GARBAGE_TAGS))


def _huge_value(rng: random.Random, tool: ToolSpec) -> Case:
    size = rng.randint(20_000, 120_000)
    big = "".join(rng.choice("abcdefghij <>/=\n{}\"'") for _ in range(size // 10)) * 10
    args = {"path": "/tmp/big.txt", "content": big}
    return _case("huge_value", _xml("write_file", args), "write_file", json.dumps(args))


def _unicode(rng: random.Random, tool: ToolSpec) -> Case:
    text = rng.choice(_UNICODE)
    args = {"path": f"/tmp/{text}", "content": text * rng.randint(1, 5)}
    name = rng.choice(["write_file", "写文件", "write_file🚀"])
    return _case("unicode", _prose(rng) + _xml(name, args), name, json.dumps(args, ensure_ascii=False))


def _invalid_name(rng: random.Random, tool: ToolSpec) -> Case:
    name = rng.choice(_BAD_NAMES)
    args = _good_args(rng, tool)
    return _case("invalid_name", _xml(name, args), name, json.dumps(args))


def _fenced_example(rng: random.Random, tool: ToolSpec) -> Case:
    fence = rng.choice(["```", "```xml", "~~~", "````"])
    close = fence[:4] if fence.startswith("````") else fence[:3]
    call = _xml(tool.name, _good_args(rng, tool))
    text = f"Here is how a call looks:\n\n{fence}\n{call}\n{close}\n\nThat is all."
    return _case("fenced_example", text, None, None)


def _missing_wrapper(rng: random.Random, tool: ToolSpec) -> Case:
    args = _good_args(rng, tool)
    xml = _prose(rng) + _xml(tool.name, args, wrapper=False)
    return _case("missing_wrapper", xml, tool.name, json.dumps(args))


def _missing_param_close(rng: random.Random, tool: ToolSpec) -> Case:
    args = _good_args(rng, tool)
    return _case(
        "missing_param_close", _xml(tool.name, args, close_params=False), tool.name, json.dumps(args)
    )


def _tags_in_value(rng: random.Random, tool: ToolSpec) -> Case:
    inner = _xml("read_file", {"path": "/x"})
    content = rng.choice(
        [
            f"example = '''\n{inner}\n'''\n",
            'PARAM_CLOSE = "</parameter>"\nFN = "<function="\n',
            f"{inner}\n",
            "a </parameter> b\n</function> is a tag\n",
        ]
    )
    args = {"path": "/tmp/doc.md", "content": content}
    return _case("tags_in_value", _xml("write_file", args), "write_file", json.dumps(args))


def _empty(rng: random.Random, tool: ToolSpec) -> Case:
    xml = rng.choice(
        ["<tool_call>\n</tool_call>", "<tool_call>", f"<function={tool.name}>", "", "<tool_call></tool_call>"]
    )
    return _case("empty", xml, tool.name, rng.choice(["", "   ", "{}"]))


def _duplicate_param(rng: random.Random, tool: ToolSpec) -> Case:
    xml = "<tool_call>\n<function=read_file>\n<parameter=path>\na\n</parameter>\n<parameter=path>\nb\n</parameter>\n</function>\n</tool_call>"
    return _case("duplicate_param", xml, "read_file", '{"path": "a", "path": "b"}')


def _deep_nesting(rng: random.Random, tool: ToolSpec) -> Case:
    depth = rng.randint(100, 5000)
    raw = '{"todos": ' + "[" * depth + "]" * depth + "}"
    xml = _xml("todo_write", {}).replace(
        "</function>", f"<parameter=todos>\n{'[' * depth}\n</parameter>\n</function>"
    )
    return _case("deep_nesting", xml, "todo_write", raw)


def _random_bytes(rng: random.Random, tool: ToolSpec) -> Case:
    alphabet = "<>/=\n\"'{}[]tool_call function parameter `~#\\"
    text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400)))
    return _case("random_text", text, tool.name, text)


_MAKERS: list[_Maker] = [
    _bad_json,
    _python_repr,
    _trailing_comma,
    _double_encoded,
    _non_object,
    _unknown_tool,
    _wrong_type,
    _missing_required,
    _truncated,
    _garbage_tags,
    _huge_value,
    _unicode,
    _invalid_name,
    _fenced_example,
    _missing_wrapper,
    _missing_param_close,
    _tags_in_value,
    _empty,
    _duplicate_param,
    _deep_nesting,
    _random_bytes,
]


def generate_malformed_calls(n: int, seed: int, tools: list[ToolSpec] | None = None) -> list[Case]:
    """``n`` malformed-call cases, the same for the same ``seed``. Kinds rotate, so every kind
    appears once ``n`` reaches their number (21). ``tools`` default to ``DEFAULT_TOOLS``."""
    rng = random.Random(seed)
    pool = tools or DEFAULT_TOOLS
    cases = []
    for i in range(n):
        maker = _MAKERS[i % len(_MAKERS)]
        cases.append(maker(rng, rng.choice(pool)))
    return cases

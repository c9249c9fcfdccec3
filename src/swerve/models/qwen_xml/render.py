"""Rendering tool specs and a conversation into Qwen3-Coder's XML text shape (system prompt, calls,
tool results), as its chat template does."""

from __future__ import annotations

import json
from typing import Any

from swerve.models.arguments import (
    decode_arguments,
)
from swerve.models.base import (
    Message,
    ToolSpec,
)
from swerve.models.qwen_xml.tags import (
    FUNCTION_CLOSE,
    FUNCTION_OPEN,
    PARAM_CLOSE,
    PARAM_OPEN,
    TOOL_CALL_CLOSE,
    TOOL_CALL_OPEN,
)


def render_tools_prompt(tools: list[ToolSpec]) -> str:
    """The tools block for the system message, in the shape of Qwen3-Coder's chat template,
    followed by instructions on how to write a call."""
    lines = ["# Tools", "", "You have access to the following functions:", "", "<tools>"]
    for tool in tools:
        lines += ["<function>", f"<name>{tool.name}</name>"]
        if tool.description:
            lines.append(f"<description>{tool.description.strip()}</description>")
        lines.append("<parameters>")
        params = tool.parameters if isinstance(tool.parameters, dict) else {}
        props = params.get("properties")
        if isinstance(props, dict):
            for pname, pschema in props.items():
                lines += ["<parameter>", f"<name>{pname}</name>"]
                if isinstance(pschema, dict):
                    if "type" in pschema:
                        lines.append(f"<type>{_schema_text(pschema['type'])}</type>")
                    if "description" in pschema:
                        lines.append(f"<description>{str(pschema['description']).strip()}</description>")
                    lines += _extra_keys(pschema, ("name", "type", "description"))
                lines.append("</parameter>")
        lines += _extra_keys(params, ("type", "properties"))
        lines += ["</parameters>", "</function>"]
    lines.append("</tools>")
    return "\n".join(lines) + "\n\n" + _CALLING_INSTRUCTIONS


_CALLING_INSTRUCTIONS = """\
To call a function, reply with the call in exactly the format below and write nothing after it:

<tool_call>
<function=example_function_name>
<parameter=example_parameter_1>
value_1
</parameter>
<parameter=example_parameter_2>
A value may run over
several lines
</parameter>
</function>
</tool_call>

<IMPORTANT>
Reminder:
- Each <function=...></function> block goes inside its own <tool_call></tool_call> tags, as shown
- Every required parameter must be given
- Write string values as they are, without quotes or escaping; write object and array values as JSON
- Any explanation of a call goes BEFORE it, in plain language; nothing comes after the call
- When no function fits, answer normally from what you know and do not mention function calls
</IMPORTANT>"""


def _schema_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _extra_keys(schema: dict[str, Any], handled: tuple[str, ...]) -> list[str]:
    return [f"<{key}>{_schema_text(val)}</{key}>" for key, val in schema.items() if key not in handled]


def render_value(value: Any) -> str:
    """A parameter value as call text: strings raw, objects and arrays as JSON, scalars as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list | bool) or value is None:
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def render_call(name: str, arguments: dict[str, Any]) -> str:
    """One call in the XML shape the model is trained to write."""
    parts = [TOOL_CALL_OPEN, f"{FUNCTION_OPEN}{name}>"]
    for key, val in arguments.items():
        parts += [f"{PARAM_OPEN}{key}>", render_value(val), PARAM_CLOSE]
    parts += [FUNCTION_CLOSE, TOOL_CALL_CLOSE]
    return "\n".join(parts)


def render_history(
    messages: list[Message], tools: list[ToolSpec], system_suffix: str | None = None
) -> list[Message]:
    """Turn our OpenAI-shaped history into text-only chat messages.

    The tools block (and ``system_suffix``, when given) is appended to the first system message,
    or forms one when there is none. Assistant tool calls become XML call text after the content;
    each run of consecutive tool results becomes one user message of ``<tool_response>`` blocks,
    in order. The input list is not changed.
    """
    extra = "\n\n".join(
        part for part in (render_tools_prompt(tools) if tools else "", (system_suffix or "").strip()) if part
    )
    out: list[Message] = []
    system_done = False
    i = 0
    while i < len(messages):
        msg = messages[i]
        role = msg.get("role")
        if role == "tool":
            blocks = []
            while i < len(messages) and messages[i].get("role") == "tool":
                blocks.append(f"<tool_response>\n{_text_of(messages[i].get('content'))}\n</tool_response>")
                i += 1
            out.append({"role": "user", "content": "\n".join(blocks)})
            continue
        if role == "system" and not system_done:
            text = _text_of(msg.get("content")).strip()
            out.append({"role": "system", "content": "\n\n".join(p for p in (text, extra) if p)})
            system_done = True
        elif role == "assistant":
            out.append({"role": "assistant", "content": _render_assistant(msg)})
        else:
            out.append(dict(msg))
        i += 1
    if not system_done and extra:
        out.insert(0, {"role": "system", "content": extra})
    return out


def _render_assistant(msg: Message) -> str:
    """What the model wrote: its raw text when the history kept it, else a rendering of the turn."""
    if isinstance(msg.get("raw"), str) and msg["raw"]:
        return msg["raw"]
    parts = []
    text = _text_of(msg.get("content")).strip()
    if text:
        parts.append(text)
    for call in msg.get("tool_calls") or []:
        fn = call.get("function", call) if isinstance(call, dict) else {}
        args = fn.get("arguments")
        if not isinstance(args, dict):
            try:
                args = decode_arguments(args if isinstance(args, str) else "")
            except ValueError:
                args = {}
        parts.append(render_call(str(fn.get("name", "")), args))
    return "\n".join(parts)


def _text_of(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        pieces = []
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                pieces.append(part["text"])
            elif isinstance(part, str):
                pieces.append(part)
            else:
                pieces.append(json.dumps(part, ensure_ascii=False, default=str))
        return "\n".join(pieces)
    return json.dumps(content, ensure_ascii=False, default=str)

"""Chat templates: the GGUF's own ``tokenizer.chat_template``, rendered as Hugging Face does.

Same environment as ``transformers``' ``apply_chat_template`` (and llama.cpp's ``--jinja``): a
sandboxed, immutable Jinja environment with ``trim_blocks`` and ``lstrip_blocks``, the
``loopcontrols`` extension, a ``tojson`` that keeps non-ASCII text, and the ``raise_exception``
and ``strftime_now`` helpers. Messages arrive in OpenAI's shape and are normalised first: parts
content becomes text, and tool-call arguments sent as JSON text become objects, which templates
iterate or serialise themselves. A model without a template gets ChatML.
"""

from __future__ import annotations

import datetime
import functools
import json
from typing import Any

from swerve.errors import LocalModelError

CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


class TemplateError(LocalModelError, ValueError):
    """The messages cannot be rendered (bad shape, or the template itself refused them)."""


def _tojson(
    value: Any,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
    ensure_ascii: bool = False,
) -> str:
    return json.dumps(
        value, indent=indent, separators=separators, sort_keys=sort_keys, ensure_ascii=ensure_ascii
    )


def _raise(message: str) -> None:
    raise TemplateError(message)


def _now(fmt: str) -> str:
    return datetime.datetime.now().strftime(fmt)


@functools.lru_cache(maxsize=8)
def compile_template(source: str) -> Any:
    """A compiled template (cached by its source)."""
    import jinja2
    import jinja2.ext
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise
    env.globals["strftime_now"] = _now
    try:
        return env.from_string(source)
    except jinja2.TemplateError as exc:
        raise TemplateError(f"the model's chat template does not compile: {exc}") from None


def _text(content: Any, where: str) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict) and part.get("type") in ("text", "input_text"):
                texts.append(str(part.get("text", "")))
            elif isinstance(part, dict):
                raise TemplateError(
                    f"{where}: content parts of type {part.get('type')!r} are not supported "
                    f"by this server (text only)"
                )
            else:
                raise TemplateError(f"{where}: a content part must be an object")
        return "".join(texts)
    raise TemplateError(f"{where}: content must be a string or a list of parts")


def _call(call: Any, where: str) -> dict[str, Any]:
    if not isinstance(call, dict) or not isinstance(call.get("function"), dict):
        raise TemplateError(f"{where}: each tool call needs a 'function' object")
    function = dict(call["function"])
    arguments = function.get("arguments")
    if isinstance(arguments, str):
        try:
            parsed = json.loads(arguments) if arguments.strip() else {}
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            function["arguments"] = parsed
    return {**call, "type": call.get("type", "function"), "function": function}


def normalise_messages(messages: Any) -> list[dict[str, Any]]:
    """OpenAI messages -> the shape templates read; raises TemplateError on bad input."""
    if not isinstance(messages, list) or not messages:
        raise TemplateError("'messages' must be a non-empty list")
    out = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise TemplateError(f"{where} must be an object")
        role = message.get("role")
        if not isinstance(role, str) or not role:
            raise TemplateError(f"{where} needs a 'role'")
        item = {k: v for k, v in message.items() if v is not None}
        item["content"] = _text(message.get("content"), where)
        if message.get("tool_calls"):
            if not isinstance(message["tool_calls"], list):
                raise TemplateError(f"{where}.tool_calls must be a list")
            item["tool_calls"] = [
                _call(c, f"{where}.tool_calls[{j}]") for j, c in enumerate(message["tool_calls"])
            ]
        out.append(item)
    return out


def normalise_tools(tools: Any) -> list[dict[str, Any]] | None:
    if tools is None:
        return None
    if not isinstance(tools, list):
        raise TemplateError("'tools' must be a list")
    out = []
    for i, tool in enumerate(tools):
        if (
            not isinstance(tool, dict)
            or not isinstance(tool.get("function"), dict)
            or not tool["function"].get("name")
        ):
            raise TemplateError(
                f"tools[{i}] must be {{'type': 'function', 'function': {{'name': ..., ...}}}}"
            )
        out.append({"type": tool.get("type", "function"), "function": tool["function"]})
    return out or None


def prefill_of(messages: Any) -> str:
    """The text of a final assistant message to continue ('' when there is none to continue)."""
    if not isinstance(messages, list) or not messages or not isinstance(messages[-1], dict):
        return ""
    last = messages[-1]
    if last.get("role") != "assistant" or last.get("tool_calls"):
        return ""
    return _text(last.get("content"), f"messages[{len(messages) - 1}]")


def render_chat(
    source: str | None,
    messages: Any,
    *,
    tools: Any = None,
    add_generation_prompt: bool = True,
    bos_token: str = "",
    eos_token: str = "",
    extra: dict[str, Any] | None = None,
    continue_final: bool = False,
) -> str:
    """The prompt text for ``messages`` (and ``tools``) under the template ``source``.

    With ``continue_final`` the last (assistant) message is left open so the model goes on from
    its text, as llama.cpp's assistant prefill and vLLM's ``continue_final_message`` do: the
    conversation is rendered whole and cut right after that message's text.
    """
    if continue_final:
        text = prefill_of(messages)
        if not text:
            raise TemplateError("only a final assistant message with text can be continued")
        rendered = render_chat(
            source,
            messages,
            tools=tools,
            add_generation_prompt=False,
            bos_token=bos_token,
            eos_token=eos_token,
            extra=extra,
        )
        at = rendered.rfind(text)
        if at < 0:
            raise TemplateError(
                "the chat template rewrites the final assistant message, so it cannot be continued"
            )
        return rendered[: at + len(text)]
    import jinja2

    template = compile_template(source or CHATML)
    context = dict(extra or {})
    context.update(
        messages=normalise_messages(messages),
        tools=normalise_tools(tools),
        add_generation_prompt=add_generation_prompt,
        bos_token=bos_token,
        eos_token=eos_token,
    )
    try:
        return str(template.render(**context))
    except TemplateError:
        raise
    except (jinja2.TemplateError, TypeError, KeyError, ValueError, AttributeError, IndexError) as exc:
        raise TemplateError(
            f"the chat template could not render these messages: {type(exc).__name__}: {exc}"
        ) from None

"""Tool-call arguments: decoding the JSON a model wrote, and converting XML parameter text by schema.

Models do not always write clean JSON. ``decode_arguments`` accepts the common near-misses
(Python-repr objects with single quotes and ``True``/``None``, trailing commas, a Markdown code
fence around the object, raw newlines inside strings) and raises ``ValueError`` with a short message
the model can act on when nothing fits. ``coerce_value`` turns the raw text of one XML parameter
into a Python value following the parameter's JSON schema, the way Qwen3-Coder's reference
parsers do, with a saner boolean rule (see its docstring).
"""

from __future__ import annotations

import ast
import difflib
import json
import math
import re
from typing import Any

SNIPPET_CHARS = 160

_FENCE = re.compile(r"^\s*(```|~~~)[\w.+-]*[ \t]*\n(?P<body>.*?)\n?[ \t]*(```|~~~)\s*$", re.DOTALL)
_LITERAL_NAMES = {"True": True, "False": False, "None": None, "true": True, "false": False, "null": None}

_STRING_TYPES = ("string", "str", "text", "varchar", "char", "enum")
_INT_PREFIXES = ("int", "uint", "long", "short", "unsigned")
_FLOAT_PREFIXES = ("num", "float", "double", "decimal")
_BOOL_TYPES = ("boolean", "bool", "binary")
_CONTAINER_PREFIXES = ("object", "array", "arr", "dict", "list")
_TRUE_WORDS = ("true", "1", "yes")
_FALSE_WORDS = ("false", "0", "no")
_NULL_WORDS = ("null", "none")


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """A bounded, single-line preview of ``text`` for error messages."""
    flat = text.replace("\n", "\\n")
    if len(flat) <= limit:
        return flat
    half = limit // 2
    return f"{flat[:half]} ... {flat[-half:]} ({len(text)} chars)"


# ---------------------------------------------------------------- decoding


def decode_arguments(raw: Any, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """Decode a model's tool-call arguments into a dict, repairing common near-misses.

    Tries strict JSON first, then: a code fence around the object, trailing commas, and
    Python-literal syntax (single quotes, ``True``/``False``/``None``). With ``schema``, string
    values of object- or array-typed properties that hold JSON or Python-literal text are decoded
    too. Raises ``ValueError`` (with a bounded snippet of the input) when no reading gives an object.
    """
    if isinstance(raw, dict):
        value: Any = dict(raw)
    elif raw is None:
        value = {}
    elif not isinstance(raw, str):
        raise ValueError(f"tool arguments must be a JSON object, got {type(raw).__name__}")
    else:
        value = _decode_text(raw)
    if isinstance(value, str):  # a JSON string holding the object: decode once more
        try:
            value = _decode_text(value)
        except ValueError:
            pass
    if not isinstance(value, dict):
        raise ValueError(
            f'tool arguments must be a JSON object like {{"name": value}}, got {_kind(value)}: {snippet(str(raw))}'
        )
    if schema:
        value = coerce_arguments(value, schema)
    return value


def _decode_text(raw: str) -> Any:
    text = raw.strip()
    if not text:
        return {}
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group("body").strip()
        if not text:
            return {}
    try:
        return json.loads(text, strict=False)
    except (ValueError, RecursionError) as exc:
        error = str(exc)
    cleaned = _drop_trailing_commas(text)
    if cleaned != text:
        try:
            return json.loads(cleaned, strict=False)
        except (ValueError, RecursionError):
            pass
    try:
        return _python_literal(text)
    except ValueError:
        pass
    hint = " (it looks cut off)" if _looks_truncated(text) else ""
    raise ValueError(f"tool arguments are not valid JSON{hint}: {error}; got: {snippet(raw)}")


def _drop_trailing_commas(text: str) -> str:
    """Remove commas directly before ``}`` or ``]``, leaving string contents alone."""
    out: list[str] = []
    quote = ""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if quote:
            out.append(ch)
            if ch == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
            out.append(ch)
        elif ch == ",":
            j = i + 1
            while j < n and text[j] in " \t\r\n":
                j += 1
            if j >= n or text[j] not in "}]":
                out.append(ch)
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _looks_truncated(text: str) -> bool:
    depth = 0
    quote = ""
    escaped = False
    for ch in text:
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
    return depth > 0 or bool(quote)


def _python_literal(text: str) -> Any:
    """Evaluate a literal made only of dicts, lists, tuples, strings, numbers and the names
    True/False/None/true/false/null. Raises ValueError for anything else."""
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        raise ValueError(f"not a literal: {exc}") from None
    try:
        return _literal_node(tree.body)
    except RecursionError:
        raise ValueError("literal nested too deeply") from None


def _literal_node(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float | bool | type(None)):
        return node.value
    if isinstance(node, ast.Name) and node.id in _LITERAL_NAMES:
        return _LITERAL_NAMES[node.id]
    if isinstance(node, ast.Dict):
        out = {}
        for key, val in zip(node.keys, node.values, strict=True):
            if key is None:
                raise ValueError("dict unpacking is not a literal")
            k = _literal_node(key)
            if not isinstance(k, str | int | float | bool) and k is not None:
                raise ValueError("unsupported key")
            out[k if isinstance(k, str) else json.dumps(k)] = _literal_node(val)
        return out
    if isinstance(node, ast.List | ast.Tuple):
        return [_literal_node(e) for e in node.elts]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _literal_node(node.operand)
        if isinstance(operand, int | float) and not isinstance(operand, bool):
            return -operand if isinstance(node.op, ast.USub) else operand
    raise ValueError(f"unsupported syntax: {type(node).__name__}")


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return "a number"
    return type(value).__name__


# ---------------------------------------------------------------- schema helpers


def property_schema(schema: dict[str, Any] | None, name: str) -> dict[str, Any] | None:
    """The schema of one property of an object schema, or None when it is not declared."""
    if not isinstance(schema, dict):
        return None
    props = schema.get("properties")
    if not isinstance(props, dict):
        return None
    prop = props.get(name)
    return prop if isinstance(prop, dict) else None


def schema_type(schema: dict[str, Any] | None) -> tuple[str | None, bool]:
    """(first non-null type name, nullable) of a schema, looking through type lists,
    ``anyOf``/``oneOf`` and ``nullable``. The type is None when the schema names none."""
    if not isinstance(schema, dict):
        return None, False
    nullable = bool(schema.get("nullable"))
    declared = schema.get("type")
    if isinstance(declared, str):
        if declared == "null":
            return None, True
        return declared.lower(), nullable
    if isinstance(declared, list):
        names = [t for t in declared if isinstance(t, str)]
        nullable = nullable or "null" in names
        rest = [t for t in names if t != "null"]
        return (rest[0].lower() if rest else None), nullable
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list):
            found: str | None = None
            for option in options:
                name, opt_null = schema_type(option if isinstance(option, dict) else None)
                nullable = nullable or opt_null
                if name and found is None:
                    found = name
            if found or nullable:
                return found, nullable
    enum = schema.get("enum")
    if isinstance(enum, list) and enum and all(isinstance(v, str) for v in enum if v is not None):
        return "string", None in enum or nullable
    return None, nullable


# ---------------------------------------------------------------- coercion


def coerce_arguments(args: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Decode string values of object/array properties that hold JSON or Python-literal text
    (double-encoded arguments such as ``"todos": "[{'id': 1}]"``). Other values are left alone."""
    out = dict(args)
    for key, val in args.items():
        if not isinstance(val, str):
            continue
        kind, _ = schema_type(property_schema(schema, key))
        if kind is None or not kind.startswith(_CONTAINER_PREFIXES):
            continue
        decoded = _decode_container(val)
        wants_list = kind.startswith(("array", "arr", "list"))
        if (wants_list and isinstance(decoded, list)) or (not wants_list and isinstance(decoded, dict)):
            out[key] = decoded
    return out


def _decode_container(text: str) -> Any:
    stripped = text.strip()
    if not stripped:
        return None
    try:
        return json.loads(stripped, strict=False)
    except (ValueError, RecursionError):
        pass
    try:
        return _python_literal(stripped)
    except ValueError:
        pass
    cleaned = _drop_trailing_commas(stripped)
    if cleaned != stripped:
        try:
            return json.loads(cleaned, strict=False)
        except (ValueError, RecursionError):
            pass
    return None


def coerce_value(text: str, schema: dict[str, Any] | None) -> Any:
    """Convert the raw text of one XML parameter by its JSON schema.

    - no schema or no type: the text unchanged;
    - ``null``/``None`` (any case): None when the type is not a string type, or is nullable;
    - string types (string, str, text, varchar, char, enum): the text unchanged;
    - integer types (int*, uint*, long, short, unsigned): ``int``; a float with an integral
      value is accepted; otherwise the text (schema validation then reports it);
    - number types (num*, float, double, decimal): ``float``, as ``int`` when integral; NaN and
      infinities stay text;
    - boolean types: ``true``/``1``/``yes`` -> True, ``false``/``0``/``no`` -> False (any case);
      anything else stays text, so validation reports it instead of silently reading False;
    - object/array types: JSON, then a Python literal (single quotes), else the text;
    - any other type: JSON, then a Python literal, else the text.
    """
    kind, nullable = schema_type(schema)
    word = text.strip()
    if kind is None:
        if nullable and word.lower() in _NULL_WORDS:
            return None
        return text
    is_string = kind in _STRING_TYPES
    if word.lower() in _NULL_WORDS and (nullable or not is_string):
        return None
    if is_string:
        return text
    if kind.startswith(_INT_PREFIXES):
        return _to_int(word, text)
    if kind.startswith(_FLOAT_PREFIXES):
        return _to_number(word, text)
    if kind in _BOOL_TYPES:
        low = word.lower()
        if low in _TRUE_WORDS:
            return True
        if low in _FALSE_WORDS:
            return False
        return text
    decoded = _decode_container(word)
    if kind.startswith(_CONTAINER_PREFIXES):
        return text if decoded is None else decoded
    return text if decoded is None else decoded


def _to_int(word: str, text: str) -> Any:
    try:
        return int(word)
    except ValueError:
        pass
    try:
        number = float(word)
    except ValueError:
        return text
    if math.isfinite(number) and number.is_integer():
        return int(number)
    return text


def _to_number(word: str, text: str) -> Any:
    try:
        return int(word)
    except ValueError:
        pass
    try:
        number = float(word)
    except ValueError:
        return text
    if not math.isfinite(number):
        return text
    return int(number) if number.is_integer() else number


# ---------------------------------------------------------------- argument names


def repair_names(args: dict[str, Any], schema: dict[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
    """``args`` with argument names that miss the schema by a little renamed to the declared ones
    (``path`` -> ``file_path``, ``cmd`` -> ``command``), and a note per rename. A name is mended only
    when exactly one declared, not yet given property is close to it; anything else is left for
    validation to report to the model."""
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict) or not props or schema.get("additionalProperties") is True:  # type: ignore[union-attr]
        return args, []
    unknown = [k for k in args if k not in props]
    if not unknown:
        return args, []
    out, notes = dict(args), []
    for key in unknown:
        free = [p for p in props if p not in out]
        match = _close_name(key, free)
        if match is not None:
            out[match] = out.pop(key)
            notes.append(f"argument {key!r} read as {match!r}")
    return out, notes


# names models use for the same thing (seen from small models driving Qwen Code-style tools)
NAME_ALIASES = {
    "cmd": "command",
    "file": "file_path",
    "filename": "file_path",
    "filepath": "file_path",
    "absolute_path": "file_path",
    "text": "content",
    "contents": "content",
    "old": "old_string",
    "new": "new_string",
    "query": "pattern",
    "regex": "pattern",
    "dir": "path",
    "directory": "path",
}


def _close_name(key: str, names: list[str]) -> str | None:
    norm = key.lower().replace("-", "_")
    exact = [n for n in names if n.lower() in (norm, NAME_ALIASES.get(norm))]
    if len(exact) == 1:
        return exact[0]
    parts = [n for n in names if norm in n.lower().split("_") or n.lower() in norm.split("_")]
    if len(parts) == 1:
        return parts[0]
    close = difflib.get_close_matches(norm, names, n=2, cutoff=0.75)
    return close[0] if len(close) == 1 else None

"""decode_arguments (repairing near-JSON) and coerce_value (XML parameter text by schema)."""

from __future__ import annotations

import json

import pytest

from swerve.models.arguments import coerce_arguments, coerce_value, decode_arguments, schema_type, snippet

TODO_SCHEMA = {
    "type": "object",
    "properties": {
        "todos": {"type": "array", "items": {"type": "object"}},
        "meta": {"type": "object"},
        "title": {"type": "string"},
        "count": {"type": "integer"},
    },
}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"path": "a.py", "limit": 10}', {"path": "a.py", "limit": 10}),
        ("", {}),
        ("   \n ", {}),
        ("{}", {}),
        ("{'k': 'v', 'b': True, 'n': None}", {"k": "v", "b": True, "n": None}),
        ("{'k': true, 'n': null, 'f': false}", {"k": True, "n": None, "f": False}),
        ('{"a": 1,}', {"a": 1}),
        ('{"a": [1, 2,], "b": {"c": 3,},}', {"a": [1, 2], "b": {"c": 3}}),
        ('{"s": "keep, } this",}', {"s": "keep, } this"}),
        ("{'a': 1,}", {"a": 1}),
        ('```json\n{"a": 1}\n```', {"a": 1}),
        ('```\n{"a": 1}\n```', {"a": 1}),
        ("```json\n```", {}),
        ('{"text": "line one\nline two"}', {"text": "line one\nline two"}),
        ('"{\\"a\\": 1}"', {"a": 1}),
        ("{'n': -5, 't': (1, 2)}", {"n": -5, "t": [1, 2]}),
        ('{"emoji": "🚀", "cjk": "日本"}', {"emoji": "🚀", "cjk": "日本"}),
    ],
)
def test_decode_arguments_accepts(raw: str, expected: dict) -> None:
    assert decode_arguments(raw) == expected


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ("[1, 2]", "an array"),
        ('"just text"', "a string"),
        ("42", "a number"),
        ("null", "null"),
        ("true", "a boolean"),
        ('{"a": 1', "cut off"),
        ("{path: /tmp}", "not valid JSON"),
        ("not json at all", "not valid JSON"),
        ("__import__('os').system('true')", "not valid JSON"),
        ("{'a': open('x')}", "not valid JSON"),
        ("{**x}", "not valid JSON"),
    ],
)
def test_decode_arguments_rejects_with_clear_message(raw: str, needle: str) -> None:
    with pytest.raises(ValueError) as info:
        decode_arguments(raw)
    message = str(info.value)
    assert needle in message
    assert "JSON object" in message or "JSON" in message


def test_decode_error_message_is_bounded() -> None:
    raw = '{"content": "' + "x" * 100_000
    with pytest.raises(ValueError) as info:
        decode_arguments(raw)
    assert len(str(info.value)) < 600
    assert "100013 chars" in str(info.value)


def test_deeply_nested_input_is_an_error_not_a_crash() -> None:
    with pytest.raises(ValueError):
        decode_arguments("[" * 100_000)
    with pytest.raises(ValueError):
        decode_arguments("{'a': " + "[" * 5000 + "]" * 5000 + "}")


def test_decode_arguments_with_schema_decodes_double_encoded_containers() -> None:
    raw = json.dumps({"todos": "[{'id': '1', 'done': False}]", "meta": '{"k": 1}', "title": "[not decoded]"})
    assert decode_arguments(raw, TODO_SCHEMA) == {
        "todos": [{"id": "1", "done": False}],
        "meta": {"k": 1},
        "title": "[not decoded]",
    }


def test_coerce_arguments_leaves_mismatched_or_undecodable_strings() -> None:
    args = {"todos": '{"not": "a list"}', "meta": "[1]", "count": "5", "other": "[1]", "title": "x"}
    assert coerce_arguments(args, TODO_SCHEMA) == args


def test_decode_arguments_accepts_a_dict() -> None:
    assert decode_arguments({"a": 1}) == {"a": 1}  # type: ignore[arg-type]


STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
INT = {"type": "integer"}
NUM = {"type": "number"}
BOOL = {"type": "boolean"}
OBJ = {"type": "object"}
ARR = {"type": "array"}


@pytest.mark.parametrize(
    ("text", "schema", "expected"),
    [
        # no schema / no type: raw text
        (" raw text ", None, " raw text "),
        ("42", {}, "42"),
        ("42", {"description": "no type"}, "42"),
        # strings stay raw, whatever they look like
        ("  spaced  ", STRING, "  spaced  "),
        ("42", STRING, "42"),
        ("null", STRING, "null"),
        ("{'a': 1}", {"type": "str"}, "{'a': 1}"),
        ("x", {"type": "text"}, "x"),
        ("x", {"type": "varchar"}, "x"),
        ("true", {"type": "enum"}, "true"),
        # nullable strings read null as None
        ("null", NULLABLE_STRING, None),
        ("None", NULLABLE_STRING, None),
        ("nullify", NULLABLE_STRING, "nullify"),
        ("null", {"type": "string", "nullable": True}, None),
        # integers
        ("42", INT, 42),
        (" -7 \n", INT, -7),
        ("3.0", INT, 3),
        ("3.5", INT, "3.5"),
        ("abc", INT, "abc"),
        ("1e400", INT, "1e400"),
        ("12", {"type": "int64"}, 12),
        ("12", {"type": "uint"}, 12),
        ("12", {"type": "long"}, 12),
        ("12", {"type": "short"}, 12),
        ("12", {"type": "unsigned"}, 12),
        ("null", INT, None),
        ("None", INT, None),
        # numbers: integral -> int
        ("2.5", NUM, 2.5),
        ("2.0", NUM, 2),
        ("1e3", NUM, 1000),
        ("-0.25", {"type": "float"}, -0.25),
        ("nan", NUM, "nan"),
        ("inf", NUM, "inf"),
        ("many", NUM, "many"),
        # booleans: only clear words convert; anything else stays text for validation to report
        ("true", BOOL, True),
        ("True", BOOL, True),
        (" yes\n", BOOL, True),
        ("1", BOOL, True),
        ("false", BOOL, False),
        ("FALSE", BOOL, False),
        ("no", BOOL, False),
        ("0", BOOL, False),
        ("maybe", BOOL, "maybe"),
        ("true", {"type": "bool"}, True),
        ("null", BOOL, None),
        # objects and arrays: JSON, then Python literal, then text
        ('{"a": [1, 2]}', OBJ, {"a": [1, 2]}),
        ("{'a': True, 'b': None}", OBJ, {"a": True, "b": None}),
        ("[1, 2, 3]", ARR, [1, 2, 3]),
        ("[{'id': 'x'}]", ARR, [{"id": "x"}]),
        ("[1, 2,]", ARR, [1, 2]),
        ("not json", ARR, "not json"),
        ("{'a': open('f')}", OBJ, "{'a': open('f')}"),
        ('{"k": 1}', {"type": "dict"}, {"k": 1}),
        ("[1]", {"type": "list"}, [1]),
        ("null", OBJ, None),
        # type lists, anyOf / oneOf: the first non-null type
        ("5", {"type": ["null", "integer"]}, 5),
        ("null", {"type": ["null", "integer"]}, None),
        ("5", {"anyOf": [{"type": "null"}, {"type": "integer"}]}, 5),
        ("5", {"anyOf": [{"type": "string"}, {"type": "integer"}]}, "5"),
        ("[1]", {"oneOf": [{"type": "array"}, {"type": "string"}]}, [1]),
        ("null", {"anyOf": [{"type": "string"}, {"type": "null"}]}, None),
        # enum of strings without a type reads as a string
        ("fast", {"enum": ["fast", "slow"]}, "fast"),
        # unknown type: JSON / literal, else text
        ("7", {"type": "any"}, 7),
        ("words", {"type": "any"}, "words"),
    ],
)
def test_coerce_value_table(text: str, schema: dict | None, expected: object) -> None:
    assert coerce_value(text, schema) == expected
    assert type(coerce_value(text, schema)) is type(expected)


def test_schema_type_reports_nullable() -> None:
    assert schema_type({"type": ["integer", "null"]}) == ("integer", True)
    assert schema_type({"anyOf": [{"type": "object"}, {"type": "null"}]}) == ("object", True)
    assert schema_type({"type": "null"}) == (None, True)
    assert schema_type(None) == (None, False)


def test_snippet_bounds_and_flattens() -> None:
    assert snippet("a\nb") == "a\\nb"
    long = snippet("y" * 10_000, limit=40)
    assert len(long) < 80
    assert "10000 chars" in long

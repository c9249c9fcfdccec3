"""New test inputs for a function task, in four kinds, each input tagged with how it was made.

The *shape* of the arguments comes from the task's examples (the calls its own tests make) and,
where an argument has no example, from the signature's annotations. A shape records the types
seen and the range of their values (sign of numbers, the characters of strings, sizes), so new
inputs stay in the domain the examples show:

- ``hypothesis``: property-based strategies built from the shape (``hypothesis``, derandomised);
- ``boundary``: edge values of each argument's type (0, -1, "", [], one element, the extremes);
- ``mutated``: each example with one argument nudged (±1, a character or element dropped,
  doubled, reversed);
- ``model``: inputs a model proposes (``proposed``), parsed as Python literals.
"""

from __future__ import annotations

import ast
import math
import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

Made = tuple[list[Any], str, str]  # arguments, origin, note


@dataclass
class Shape:
    """What the examples show of one argument."""

    types: set[str] = field(default_factory=set)  # int, float, bool, str, list, tuple, dict, none
    low: float = 0.0
    high: float = 0.0
    chars: set[str] = field(default_factory=set)
    max_len: int = 0
    items: Shape | None = None  # of list/tuple elements, and dict values
    keys: Shape | None = None  # of dict keys
    tuple_items: list[Shape] | None = None  # fixed-length tuples, element by element

    def add(self, value: Any) -> None:
        kind = _kind(value)
        self.types.add(kind)
        if kind in ("int", "float"):
            if len(self.types & {"int", "float"}) == 1 and self.low == self.high == 0:
                self.low = self.high = float(value)
            self.low, self.high = min(self.low, value), max(self.high, value)
        elif kind == "str":
            self.chars.update(value)
            self.max_len = max(self.max_len, len(value))
        elif kind in ("list", "tuple", "set"):
            self.max_len = max(self.max_len, len(value))
            self.items = self.items or Shape()
            for v in value:
                self.items.add(v)
            if kind == "tuple":
                if self.tuple_items is None:
                    self.tuple_items = [Shape() for _ in value]
                if len(self.tuple_items) == len(value):
                    for s, v in zip(self.tuple_items, value, strict=True):
                        s.add(v)
        elif kind == "dict":
            self.max_len = max(self.max_len, len(value))
            self.keys, self.items = self.keys or Shape(), self.items or Shape()
            for k, v in value.items():
                self.keys.add(k)
                self.items.add(v)


def _kind(value: Any) -> str:
    if value is None:
        return "none"
    return type(value).__name__ if type(value).__name__ in _KINDS else "other"


_KINDS = {"int", "float", "bool", "str", "list", "tuple", "dict", "set"}
CLOSED_ALPHABET = 5  # examples that use fewer distinct characters define the alphabet ("01", "()")
_ANNOTATIONS = {"int": "int", "float": "float", "str": "str", "bool": "bool", "List": "list", "list": "list"}


def shapes_of(examples: Sequence[list[Any]], reference: str, entry_point: str) -> list[Shape] | None:
    """One shape per argument, or None when the examples disagree on how many there are."""
    arity = {len(e) for e in examples}
    if len(arity) > 1:
        return None
    n = arity.pop() if arity else _arity(reference, entry_point)
    if n is None:
        return None
    shapes = [Shape() for _ in range(n)]
    for example in examples:
        for s, v in zip(shapes, example, strict=True):
            s.add(v)
    for s, annotation in zip(shapes, _annotations(reference, entry_point), strict=False):
        if not s.types and annotation:
            s.types.add(annotation)
            if annotation == "list":
                s.items = Shape(types={"int"}, low=-10, high=10)
            s.high, s.max_len = 10, 5
            s.chars = set("abc xyzAB1")
    return shapes


def _function(reference: str, entry_point: str) -> ast.FunctionDef | None:
    try:
        tree = ast.parse(reference)
    except SyntaxError:
        return None
    return next((n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == entry_point), None)


def _arity(reference: str, entry_point: str) -> int | None:
    fn = _function(reference, entry_point)
    return None if fn is None else len(fn.args.args)


def _annotations(reference: str, entry_point: str) -> list[str]:
    fn = _function(reference, entry_point)
    if fn is None:
        return []
    out = []
    for arg in fn.args.args:
        text = ast.unparse(arg.annotation) if arg.annotation else ""
        out.append(_ANNOTATIONS.get(text.split("[")[0], ""))
    return out


# -- hypothesis ---------------------------------------------------------------------------------


def _strategy(shape: Shape, depth: int = 0) -> Any:
    from hypothesis import strategies as st

    options = []
    span = max(10.0, shape.high - shape.low)
    low = shape.low if shape.low >= 0 else shape.low - span
    high = shape.high + span
    size = max(3, shape.max_len * 2)
    for kind in sorted(shape.types):
        if kind == "bool":
            options.append(st.booleans())
        elif kind == "int":
            options.append(st.integers(math.floor(low), math.ceil(high)))
        elif kind == "float":
            options.append(st.floats(low, high, allow_nan=False, allow_infinity=False))
        elif kind == "str":  # the examples' characters, and common ones beyond an open alphabet
            alphabet = "".join(sorted(shape.chars)) or "abc"
            options.append(st.text(alphabet, max_size=size))
            if len(shape.chars) >= CLOSED_ALPHABET:
                wider = "".join(sorted(set(alphabet) | set(string.ascii_letters + string.digits + " .,-")))
                options.append(st.text(wider, max_size=size))
        elif kind in ("list", "set") and depth < 3:
            inner = (
                _strategy(shape.items, depth + 1) if shape.items and shape.items.types else st.integers(-5, 5)
            )
            options.append(
                st.lists(inner, max_size=size) if kind == "list" else st.sets(inner, max_size=size)
            )
        elif kind == "tuple" and depth < 3 and shape.tuple_items is not None:
            options.append(st.tuples(*(_strategy(s, depth + 1) for s in shape.tuple_items)))
        elif kind == "dict" and depth < 3 and shape.keys and shape.items:
            options.append(
                st.dictionaries(
                    _strategy(shape.keys, depth + 1), _strategy(shape.items, depth + 1), max_size=size
                )
            )
        elif kind == "none":
            options.append(st.none())
    return st.one_of(*options) if options else st.nothing()


class _OutOfTime(Exception):
    pass


def hypothesis_inputs(shapes: list[Shape], count: int, deadline: float = math.inf) -> list[Made]:
    """``count`` argument lists drawn (derandomised) from strategies of the shapes, or as many as
    were drawn by ``deadline`` (``time.monotonic()``)."""
    import time

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    drawn: list[list[Any]] = []

    @settings(
        max_examples=count, database=None, derandomize=True, deadline=None,
        suppress_health_check=list(HealthCheck), phases=("generate",),
    )  # fmt: skip
    @given(st.tuples(*(_strategy(s) for s in shapes)))
    def collect(args: tuple[Any, ...]) -> None:
        if time.monotonic() > deadline:
            raise _OutOfTime
        drawn.append(list(args))

    try:
        collect()
    except _OutOfTime:
        pass
    except Exception:  # a shape hypothesis cannot draw from: no inputs of this kind
        return []
    note = "strategies from " + ", ".join("|".join(sorted(s.types)) or "?" for s in shapes)
    return [(args, "hypothesis", note) for args in drawn]


# -- boundary values and mutations -------------------------------------------------------------


def _edges(shape: Shape) -> Iterator[Any]:
    for kind in sorted(shape.types):
        if kind == "int":
            lo, hi = int(shape.low), int(shape.high)
            yield from (0, 1, 2, lo, hi, hi + 1, 10**6)
            if lo < 0:
                yield from (-1, lo - 1, -(10**6))
        elif kind == "float":
            yield from (0.0, 1.0, 0.5, shape.low, shape.high, 1e-9)
            if shape.low < 0:
                yield from (-1.0, -0.5)
        elif kind == "bool":
            yield from (True, False)
        elif kind == "str":
            chars = sorted(shape.chars) or ["a"]
            yield from ("", chars[0], chars[-1] * 2, "".join(chars), chars[0] * (shape.max_len + 5))
            if " " in shape.chars:
                yield from (" ", "  ")
        elif kind in ("list", "tuple", "set"):
            elements = list(_edges(shape.items)) if shape.items and shape.items.types else [0]
            make = {"list": list, "tuple": tuple, "set": set}[kind]
            if kind != "tuple" or shape.tuple_items is None:
                yield make([])
                for e in elements[:4]:
                    yield make([e])
                if elements:
                    yield make([elements[0]] * 3)
                    yield make(elements[:6])
                    yield make(list(reversed(elements[:6])))
        elif kind == "dict":
            yield {}


def boundary_inputs(shapes: list[Shape], examples: Sequence[list[Any]]) -> list[Made]:
    """Each argument at each of its edge values, the others as in the first example."""
    base = list(examples[0]) if examples else [next(iter(_edges(s)), None) for s in shapes]
    out: list[Made] = []
    for i, shape in enumerate(shapes):
        for value in _edges(shape):
            args = list(base)
            args[i] = value
            out.append((args, "boundary", f"argument {i + 1} at an edge: {_short(value)}"))
    return out


def _nudges(value: Any) -> Iterator[Any]:
    if type(value) is int:
        yield from (value + 1, value - 1, value * 2, -value)
    elif type(value) is float:
        yield from (value + 1.0, value - 1.0, value * 2, -value, value + 1e-6)
    elif type(value) is str and value:
        yield from (value[1:], value[:-1], value + value[-1], value[::-1], value.swapcase(), value + " ")
    elif type(value) is str:
        yield "a"
    elif type(value) in (list, tuple) and value:
        make = type(value)
        items = list(value)
        yield from (make(items[1:]), make(items[:-1]), make([*items, items[-1]]), make(items[::-1]))
        yield make(sorted(items, key=repr))
        if len(items) > 2:
            yield make(items[1:] + items[:1])


def mutated_inputs(examples: Sequence[list[Any]]) -> list[Made]:
    """Each example with one argument nudged."""
    out: list[Made] = []
    for n, example in enumerate(examples):
        for i, value in enumerate(example):
            for new in _nudges(value):
                args = list(example)
                args[i] = new
                out.append(
                    (args, "mutated", f"example {n + 1}, argument {i + 1}: {_short(value)} -> {_short(new)}")
                )
    return out


def in_domain(args: list[Any], shapes: list[Shape], examples: Sequence[list[Any]]) -> bool:
    """Whether ``args`` keeps what every example keeps: a sign (no negative number where the
    examples have none), a closed alphabet, equal lengths of the sized arguments."""
    for value, shape in zip(args, shapes, strict=False):
        if type(value) in (int, float) and shape.types & {"int", "float"} and shape.low >= 0 and value < 0:
            return False
        if type(value) is str and 0 < len(shape.chars) < CLOSED_ALPHABET and not set(value) <= shape.chars:
            return False
    sized = [i for i, v in enumerate(examples[0]) if isinstance(v, str | list)] if examples else []
    equal = len(sized) >= 2 and all(len({len(e[i]) for i in sized}) == 1 for e in examples)
    return not (equal and len({len(args[i]) for i in sized if isinstance(args[i], str | list)}) > 1)


def proposed_inputs(text: str, arity: int, model: str) -> list[Made]:
    """Inputs a model wrote, one Python tuple of arguments a line; anything else is skipped."""
    out: list[Made] = []
    for line in text.splitlines():
        line = line.strip().strip("`").rstrip(",")
        if not line.startswith("("):
            continue
        try:
            value = ast.literal_eval(line)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
        args = list(value) if isinstance(value, tuple) else [value]
        if len(args) == arity:
            out.append((args, "model", f"proposed by {model}"))
    return out


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."

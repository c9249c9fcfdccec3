"""Values as tagged JSON, between the verifier's server and the host (standard library only).

Tuples, sets, dicts with any keys, bytes, big ints, complex and non-finite floats keep their type;
only exact built-in types encode, so an object whose ``__eq__`` always says yes cannot cross at all.
"""

from __future__ import annotations

import math
from typing import Any

MAX_DEPTH = 100


class Unencodable(Exception):
    """A value that is not plain data."""


def encode(value: Any, depth: int = 0) -> Any:
    """``value`` as tagged JSON; raises ``Unencodable`` for anything but exact built-in types."""
    if depth > MAX_DEPTH:
        raise Unencodable("nested too deep")
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        return value if abs(value) < 1 << 53 else {"$int": str(value)}
    if kind is float:
        return value if math.isfinite(value) else {"$float": repr(value)}
    if kind is list:
        return [encode(v, depth + 1) for v in value]
    if kind is tuple:
        return {"$tuple": [encode(v, depth + 1) for v in value]}
    if kind is dict:
        return {"$dict": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    if kind is set or kind is frozenset:
        return {"$" + kind.__name__: [encode(v, depth + 1) for v in value]}
    if kind is bytes:
        return {"$bytes": value.hex()}
    if kind is complex:
        return {"$complex": [encode(value.real), encode(value.imag)]}
    raise Unencodable(f"a {kind.__name__} is not plain data")


def decode(data: Any) -> Any:
    """The value ``encode`` made ``data`` from."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if len(data) != 1:
        raise ValueError(f"not an encoded value: {str(data)[:80]}")
    ((tag, body),) = data.items()
    if tag == "$int":
        return int(body)
    if tag == "$float":
        return float(body)
    if tag == "$tuple":
        return tuple(decode(v) for v in body)
    if tag == "$dict":
        return {decode(k): decode(v) for k, v in body}
    if tag == "$set":
        return {decode(v) for v in body}
    if tag == "$frozenset":
        return frozenset(decode(v) for v in body)
    if tag == "$bytes":
        return bytes.fromhex(body)
    if tag == "$complex":
        return complex(decode(body[0]), decode(body[1]))
    raise ValueError(f"unknown tag {tag!r}")

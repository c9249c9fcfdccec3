"""New standard-input texts for program (stdin/stdout) tasks, made from the examples' layout.

An example input is lines of whitespace-separated tokens: integers, decimals and words. A new
input keeps an example's layout (the same lines, the same number of tokens on each) and changes
values only where that cannot break the format: an integer that counts something (the tokens on
the next line, the lines that follow, the length of the next line's word) stays as it is. New
values stay within what the examples show: the sign of numbers, the range of values, the
characters of words. Each input says how it was made (``mutated``, ``boundary``, ``random``).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

Made = tuple[str, str, str]  # (stdin text, origin, note)
INT = re.compile(r"[+-]?\d+")
DECIMAL = re.compile(r"[+-]?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?")


@dataclass
class Domain:
    """What the examples' free values look like."""

    ints: list[int] = field(default_factory=list)
    decimals: list[float] = field(default_factory=list)
    chars: set[str] = field(default_factory=set)

    def int_range(self) -> tuple[int, int]:
        return (min(self.ints), max(self.ints)) if self.ints else (0, 10)

    def decimal_range(self) -> tuple[float, float]:
        return (min(self.decimals), max(self.decimals)) if self.decimals else (0.0, 1.0)


def _lines(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines()]


def _kind(token: str) -> str:
    if INT.fullmatch(token):
        return "int"
    if DECIMAL.fullmatch(token):
        return "decimal"
    return "word"


def counters(lines: list[list[str]]) -> set[tuple[int, int]]:
    """(line, token) of the integers that count what follows them."""
    out = set()
    for i, line in enumerate(lines):
        following = len(lines) - i - 1
        nxt = lines[i + 1] if i + 1 < len(lines) else []
        for j, token in enumerate(line):
            if _kind(token) != "int":
                continue
            n = int(token)
            counts = {following, len(nxt), len(line) - j - 1}
            if len(nxt) == 1:
                counts.add(len(nxt[0]))
            if n in counts:
                out.add((i, j))
    return out


def domain_of(examples: Sequence[str]) -> Domain:
    domain = Domain()
    for text in examples:
        lines = _lines(text)
        fixed = counters(lines)
        for i, line in enumerate(lines):
            for j, token in enumerate(line):
                kind = _kind(token)
                if (i, j) in fixed:
                    continue
                if kind == "int":
                    domain.ints.append(int(token))
                elif kind == "decimal":
                    domain.decimals.append(float(token))
                else:
                    domain.chars |= set(token)
    return domain


def _render(lines: list[list[str]], trailing_newline: bool) -> str:
    text = "\n".join(" ".join(line) for line in lines)
    return text + "\n" if trailing_newline else text


def _free(lines: list[list[str]]) -> list[tuple[int, int, str]]:
    fixed = counters(lines)
    return [(i, j, _kind(t)) for i, line in enumerate(lines) for j, t in enumerate(line) if (i, j) not in fixed]


def _nudges(token: str, kind: str, domain: Domain) -> Iterator[tuple[str, str]]:
    if kind == "int":
        n, (low, high) = int(token), domain.int_range()
        for value, how in ((n + 1, "+1"), (n - 1, "-1"), (0, "zero"), (low, "the smallest seen"),
                           (high, "the largest seen"), (-n, "negated"), (n * 2, "doubled")):  # fmt: skip
            if value != n and (low < 0 or value >= 0):
                yield str(value), how
    elif kind == "decimal":
        x = float(token)
        for value, how in ((x + 0.5, "+0.5"), (x / 2, "halved"), (0.0, "zero"), (-x, "negated")):
            if value != x and (domain.decimal_range()[0] < 0 or value >= 0):
                yield repr(value), how
    elif len(token) > 1:
        yield token[::-1], "reversed"
        yield token[1:] + token[0], "rotated"


def mutated_inputs(examples: Sequence[str], domain: Domain) -> list[Made]:
    """Each example with one free value changed."""
    out: list[Made] = []
    for n, text in enumerate(examples):
        lines = _lines(text)
        for i, j, kind in _free(lines):
            for value, how in _nudges(lines[i][j], kind, domain):
                changed = [list(line) for line in lines]
                changed[i][j] = value
                out.append((_render(changed, text.endswith("\n")), "mutated", f"example {n + 1}, line {i + 1} token {j + 1} {how}"))  # fmt: skip
    return out


def boundary_inputs(examples: Sequence[str], domain: Domain) -> list[Made]:
    """Each example with every free number at the smallest, then the largest, value seen."""
    out: list[Made] = []
    (lo, hi), (flo, fhi) = domain.int_range(), domain.decimal_range()
    for n, text in enumerate(examples):
        lines = _lines(text)
        for name, iv, fv in (("smallest", lo, flo), ("largest", hi, fhi)):
            changed = [list(line) for line in lines]
            for i, j, kind in _free(lines):
                if kind == "int":
                    changed[i][j] = str(iv)
                elif kind == "decimal":
                    changed[i][j] = repr(fv)
            out.append((_render(changed, text.endswith("\n")), "boundary", f"example {n + 1}, every number the {name} seen"))  # fmt: skip
    return out


def random_inputs(examples: Sequence[str], domain: Domain, count: int, seed: int = 0) -> list[Made]:
    """``count`` texts, each an example's layout with every free value drawn anew."""
    rng = random.Random(seed)
    (lo, hi), (flo, fhi) = domain.int_range(), domain.decimal_range()
    chars = sorted(domain.chars) or list("abc")
    out: list[Made] = []
    for k in range(count):
        n = k % len(examples)
        lines = _lines(examples[n])
        changed = [list(line) for line in lines]
        for i, j, kind in _free(lines):
            if kind == "int":
                changed[i][j] = str(rng.randint(lo, hi))
            elif kind == "decimal":
                changed[i][j] = repr(round(rng.uniform(flo, fhi), 6))
            else:
                changed[i][j] = "".join(rng.choice(chars) for _ in lines[i][j])
        out.append((_render(changed, examples[n].endswith("\n")), "random", f"example {n + 1}'s layout, values drawn"))  # fmt: skip
    return out


def stdin_inputs(examples: Sequence[str], count: int, seed: int = 0) -> list[Made]:
    """New inputs of every kind, for examples (stdin texts) of one task."""
    if not examples:
        return []
    domain = domain_of(examples)
    return [
        *boundary_inputs(examples, domain),
        *mutated_inputs(examples, domain),
        *random_inputs(examples, domain, count, seed),
    ]

"""The model strategy: the configured model rewrites one function with a bug in it.

Functions are picked in a seeded order (3 to 60 lines, outside tests). The model gets the function
alone and returns it rewritten; the reply is kept only when it parses, defines the same function
and really changes its code. The edit is a byte-range replacement like a procedural mutation, so
it is judged the same way.
"""

from __future__ import annotations

import ast
import hashlib
import random
import re
from pathlib import Path
from typing import Any

from swerve.tasks.generate.candidates import Candidate
from swerve.tasks.generate.mutate import Mutation

SYSTEM = (
    "You help build a benchmark of realistic bugs. Rewrite the given Python function so that it has "
    "one subtle logic bug a developer could plausibly write (an off-by-one, a wrong condition, a "
    "missed case, a wrong variable). Keep its name, signature and style, add no comments about the "
    "bug. Reply with the complete function only, in one ```python block."
)
_BLOCK = re.compile(r"```(?:python|py)?\n(.*?)```", re.S)


def functions(
    tree: Path, source_files: tuple[str, ...]
) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    out: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []
    for rel in source_files:
        try:
            module = ast.parse((tree / rel).read_bytes())
        except (SyntaxError, ValueError, OSError):
            continue
        for node in ast.walk(module):
            if (
                isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and node.end_lineno
                and 3 <= node.end_lineno - node.lineno + 1 <= 60
                and not node.decorator_list
            ):
                out.append((rel, node))
    return out


def _span(data: bytes, node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[int, int, str]:
    """(start, end, indent) of the function's whole lines."""
    starts = [0] + [i + 1 for i, b in enumerate(data) if b == 0x0A]
    start = starts[node.lineno - 1]
    end = starts[node.end_lineno] if node.end_lineno and node.end_lineno < len(starts) else len(data)
    line = data[start:end].decode(errors="replace")
    return start, end, line[: len(line) - len(line.lstrip())]


def parse_reply(reply: str, original: str, name: str, indent: str) -> str | None:
    """The rewritten function re-indented to ``indent``, or None when the reply is unusable."""
    m = _BLOCK.search(reply)
    code = (m.group(1) if m else reply).strip("\n")
    lines = code.splitlines()
    if not lines:
        return None
    base = len(lines[0]) - len(lines[0].lstrip())
    body = "\n".join((indent + ln[base:]) if ln.strip() else "" for ln in lines) + "\n"
    try:
        new = ast.parse(body.replace("\n" + indent, "\n").removeprefix(indent))
        old = ast.parse(original.replace("\n" + indent, "\n").removeprefix(indent))
    except SyntaxError:
        return None
    defs = [n for n in new.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    if len(new.body) != 1 or not defs or defs[0].name != name:
        return None
    if ast.dump(new) == ast.dump(old):
        return None
    return body


async def model_candidates(
    model: Any, tree: Path, source_files: tuple[str, ...], seed: int, limit: int
) -> tuple[list[Candidate], int]:
    """(up to ``limit`` candidates, how many replies were unusable), asking once per function."""
    from swerve.models.base import Sampling

    picked = functions(tree, source_files)
    random.Random(seed + 13).shuffle(picked)
    out: list[Candidate] = []
    unusable = 0
    for rel, node in picked[: limit * 2]:
        if len(out) >= limit:
            break
        data = (tree / rel).read_bytes()
        start, end, indent = _span(data, node)
        original = data[start:end].decode(errors="replace")
        messages = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"```python\n{original}```"},
        ]
        turn = await model.complete(messages, [], sampling=Sampling(max_tokens=1200, temperature=0.7))
        body = parse_reply(turn.text, original, node.name, indent)
        if body is None:
            unusable += 1
            continue
        edit = Mutation(
            rel,
            start,
            end,
            body.encode(),
            "model_rewrite",
            node.lineno,
            node.name,
            f"{node.name} rewritten by the model",
        )
        key = "m-" + hashlib.sha256(f"{rel}:{start}".encode() + edit.replacement).hexdigest()[:10]
        out.append(Candidate("model", key, f"{rel}:{node.name}", edit.description, (edit,)))
    return out, unusable

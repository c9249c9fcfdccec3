"""Bug injection: small, AST-guided edits to a library's source.

Each operator walks a module's AST and proposes ``Mutation``s: a byte range of the file and the
text to put there. Edits are made on the source text (not by re-printing the AST), so the diff is
the one line or expression that changed and the file keeps its formatting. A mutation is kept only
when the result still parses and its AST really differs from the original.

Operators:

- ``negate_comparison``: ``<`` / ``>=``, ``==`` / ``!=``, ``in`` / ``not in``, ``is`` / ``is not``
- ``comparison_boundary``: ``<`` / ``<=`` and ``>`` / ``>=`` (the off-by-one in a bound)
- ``swap_boolean``: ``and`` / ``or``
- ``drop_not``: ``not x`` becomes ``x``
- ``off_by_one``: an integer in an index, a slice, ``range(...)`` or ``x +/- n`` moves by one
- ``change_constant``: ``True`` / ``False`` swap; other integers move by one
- ``swap_arithmetic``: ``+`` / ``-``, ``*`` / ``//``... on non-constant operands
- ``swap_arguments``: the first two positional arguments of a call change places
- ``remove_statement``: an expression, assignment or augmented assignment statement is deleted
- ``remove_guard``: an ``if`` without ``else`` that ends in ``return`` / ``raise`` / ``continue``
  / ``break`` is deleted
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

OPERATORS: tuple[str, ...] = (
    "negate_comparison",
    "comparison_boundary",
    "swap_boolean",
    "drop_not",
    "off_by_one",
    "change_constant",
    "swap_arithmetic",
    "swap_arguments",
    "remove_statement",
    "remove_guard",
)


@dataclass(frozen=True)
class Mutation:
    """Replace bytes ``start:end`` of ``path`` with ``replacement``."""

    path: str  # relative to the tree root
    start: int
    end: int
    replacement: bytes
    operator: str
    line: int  # 1-based line of the edit
    function: str  # qualified name of the enclosing function or class ("" at module level)
    description: str

    @property
    def key(self) -> str:
        """A short stable id for the edit."""
        blob = f"{self.path}:{self.start}:{self.end}:".encode() + self.replacement
        return hashlib.sha256(blob).hexdigest()[:10]

    def apply(self, source: bytes) -> bytes:
        return source[: self.start] + self.replacement + source[self.end :]


class _Source:
    """A module's bytes with AST positions turned into byte offsets."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.line_starts = [0]
        for i, b in enumerate(data):
            if b == 0x0A:
                self.line_starts.append(i + 1)

    def offset(self, line: int, col: int) -> int:
        return self.line_starts[line - 1] + col

    def span(self, node: ast.AST) -> tuple[int, int]:
        return (
            self.offset(node.lineno, node.col_offset),  # type: ignore[attr-defined]
            self.offset(node.end_lineno, node.end_col_offset),  # type: ignore[attr-defined]
        )

    def text(self, start: int, end: int) -> bytes:
        return self.data[start:end]

    def full_lines(self, node: ast.stmt) -> tuple[int, int] | None:
        """The byte range of the whole lines ``node`` occupies, when nothing else shares them."""
        start, end = self.span(node)
        line_start = self.line_starts[node.lineno - 1]
        if self.data[line_start:start].strip():
            return None
        nl = self.data.find(b"\n", end)
        line_end = len(self.data) if nl < 0 else nl + 1
        rest = self.data[end:line_end].strip()
        if rest and not rest.startswith(b"#"):
            return None
        return line_start, line_end


_NEGATE = {
    ast.Lt: ">=",
    ast.GtE: "<",
    ast.Gt: "<=",
    ast.LtE: ">",
    ast.Eq: "!=",
    ast.NotEq: "==",
    ast.In: "not in",
    ast.NotIn: "in",
    ast.Is: "is not",
    ast.IsNot: "is",
}
_BOUNDARY = {ast.Lt: "<=", ast.LtE: "<", ast.Gt: ">=", ast.GtE: ">"}
_OP_PATTERN = {
    ast.Lt: rb"<(?![<=])",
    ast.LtE: rb"<=",
    ast.Gt: rb"(?<![->])>(?![>=])",
    ast.GtE: rb">=",
    ast.Eq: rb"==",
    ast.NotEq: rb"!=",
    ast.In: rb"\bin\b",
    ast.NotIn: rb"\bnot\s+in\b",
    ast.Is: rb"\bis\b",
    ast.IsNot: rb"\bis\s+not\b",
}
_ARITH = {
    ast.Add: (rb"\+(?!=)", "-"),
    ast.Sub: (rb"-(?!=)", "+"),
    ast.Mult: (rb"(?<!\*)\*(?![*=])", "//"),
    ast.FloorDiv: (rb"//(?!=)", "*"),
    ast.Div: (rb"(?<!/)/(?![/=])", "//"),
    ast.Mod: (rb"%(?!=)", "//"),
}
_GUARD_ENDS = (ast.Return, ast.Raise, ast.Continue, ast.Break)


def _single(pattern: bytes, text: bytes) -> re.Match[bytes] | None:
    hits = list(re.finditer(pattern, text))
    return hits[0] if len(hits) == 1 else None


def _is_docstring(node: ast.AST, parent: ast.AST | None) -> bool:
    body = getattr(parent, "body", None)
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        and isinstance(body, list)
        and bool(body)
        and body[0] is node
    )


def _skip_subtree(node: ast.AST) -> bool:
    """Code that tests do not exercise the usual way: ``if __name__ == "__main__"``, type checking."""
    if isinstance(node, ast.If):
        test = ast.unparse(node.test)
        return "__name__" in test or "TYPE_CHECKING" in test
    return False


class _Walker:
    """Collects mutations for one module."""

    def __init__(self, path: str, data: bytes) -> None:
        self.path = path
        self.src = _Source(data)
        self.found: list[Mutation] = []
        self.scope: list[str] = []
        self.parents: dict[int, ast.AST] = {}

    def add(self, start: int, end: int, new: str | bytes, operator: str, line: int, what: str) -> None:
        replacement = new.encode() if isinstance(new, str) else new
        if self.src.text(start, end) == replacement:
            return
        self.found.append(
            Mutation(self.path, start, end, replacement, operator, line, ".".join(self.scope), what)
        )

    def walk(self, node: ast.AST, parent: ast.AST | None = None) -> None:
        if _skip_subtree(node):
            return
        self.parents[id(node)] = parent  # type: ignore[assignment]
        scoped = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        if scoped:
            self.scope.append(node.name)  # type: ignore[attr-defined]
        for visit in self.visitors:
            visit(node, parent)
        for child in ast.iter_child_nodes(node):
            if _is_docstring(child, node):
                continue
            self.walk(child, node)
        if scoped:
            self.scope.pop()

    @property
    def visitors(self) -> list[Callable[[ast.AST, ast.AST | None], None]]:
        return [
            self.comparison,
            self.boolean,
            self.unary_not,
            self.integers,
            self.arithmetic,
            self.arguments,
            self.statements,
        ]

    # -- operators ----------------------------------------------------------------------------

    def comparison(self, node: ast.AST, parent: ast.AST | None) -> None:
        if not isinstance(node, ast.Compare) or len(node.ops) != 1:
            return
        op = type(node.ops[0])
        left_end = self.src.span(node.left)[1]
        right_start = self.src.span(node.comparators[0])[0]
        between = self.src.text(left_end, right_start)
        m = _single(_OP_PATTERN[op], between)
        if m is None:
            return
        start, end = left_end + m.start(), left_end + m.end()
        old = m.group().decode()
        for table, operator in ((_NEGATE, "negate_comparison"), (_BOUNDARY, "comparison_boundary")):
            new = table.get(op)
            if new:
                self.add(start, end, new, operator, node.lineno, f"`{old}` became `{new}`")

    def boolean(self, node: ast.AST, parent: ast.AST | None) -> None:
        if not isinstance(node, ast.BoolOp) or len(node.values) != 2:
            return
        a_end = self.src.span(node.values[0])[1]
        b_start = self.src.span(node.values[1])[0]
        old, new = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
        m = _single(rb"\b" + old.encode() + rb"\b", self.src.text(a_end, b_start))
        if m:
            self.add(
                a_end + m.start(),
                a_end + m.end(),
                new,
                "swap_boolean",
                node.lineno,
                f"`{old}` became `{new}`",
            )

    def unary_not(self, node: ast.AST, parent: ast.AST | None) -> None:
        if not isinstance(node, ast.UnaryOp) or not isinstance(node.op, ast.Not):
            return
        start, end = self.src.span(node)
        text = self.src.text(start, end)
        if not text.startswith(b"not"):
            return
        operand = text[3:].lstrip()
        if isinstance(
            node.operand, ast.BoolOp | ast.Compare | ast.IfExp | ast.Lambda
        ) and not operand.startswith(b"("):
            operand = b"(" + operand + b")"
        self.add(start, end, operand, "drop_not", node.lineno, "a `not` was dropped")

    def _int_nodes_in_index_context(self, node: ast.AST) -> Iterator[ast.Constant]:
        """Integer constants used as indices, slice bounds, range() arguments or +/- offsets."""
        if isinstance(node, ast.Subscript):
            targets = [node.slice]
            if isinstance(node.slice, ast.Slice):
                targets = [node.slice.lower, node.slice.upper, node.slice.step]
            for t in targets:
                if isinstance(t, ast.UnaryOp) and isinstance(t.op, ast.USub):
                    t = t.operand
                if isinstance(t, ast.Constant) and type(t.value) is int:
                    yield t
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
            for a in node.args:
                if isinstance(a, ast.Constant) and type(a.value) is int:
                    yield a
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
            for side in (node.left, node.right):
                if isinstance(side, ast.Constant) and type(side.value) is int:
                    yield side

    def integers(self, node: ast.AST, parent: ast.AST | None) -> None:
        for const in self._int_nodes_in_index_context(node):
            const._swerve_offset = True  # type: ignore[attr-defined]  # not also a plain constant
            start, end = self.src.span(const)
            value = const.value
            for new in (value + 1, value - 1):
                if new >= 0:
                    self.add(start, end, str(new), "off_by_one", const.lineno, f"`{value}` became `{new}`")
        if not isinstance(node, ast.Constant) or getattr(node, "_swerve_offset", False):
            return
        start, end = self.src.span(node)
        if node.value is True or node.value is False:
            new = "False" if node.value else "True"
            self.add(start, end, new, "change_constant", node.lineno, f"`{node.value}` became `{new}`")
        elif type(node.value) is int and self.src.text(start, end).isdigit():
            new = str(node.value + 1)
            self.add(start, end, new, "change_constant", node.lineno, f"`{node.value}` became `{new}`")

    def arithmetic(self, node: ast.AST, parent: ast.AST | None) -> None:
        if not isinstance(node, ast.BinOp) or type(node.op) not in _ARITH:
            return
        if isinstance(node.left, ast.Constant) and isinstance(node.right, ast.Constant):
            return
        if isinstance(node.left, ast.JoinedStr | ast.Constant) and isinstance(
            getattr(node.left, "value", None), str
        ):
            return  # string formatting with %, or concatenation
        pattern, new = _ARITH[type(node.op)]
        left_end = self.src.span(node.left)[1]
        right_start = self.src.span(node.right)[0]
        m = _single(pattern, self.src.text(left_end, right_start))
        if m:
            old = m.group().decode()
            self.add(
                left_end + m.start(),
                left_end + m.end(),
                new,
                "swap_arithmetic",
                node.lineno,
                f"`{old}` became `{new}`",
            )

    def arguments(self, node: ast.AST, parent: ast.AST | None) -> None:
        if not isinstance(node, ast.Call) or len(node.args) < 2:
            return
        a, b = node.args[0], node.args[1]
        if isinstance(a, ast.Starred) or isinstance(b, ast.Starred):
            return
        a_start, a_end = self.src.span(a)
        b_start, b_end = self.src.span(b)
        a_text, b_text = self.src.text(a_start, a_end), self.src.text(b_start, b_end)
        if a_text == b_text or b"\n" in a_text + b_text:
            return
        between = self.src.text(a_end, b_start)
        self.add(
            a_start, b_end, b_text + between + a_text, "swap_arguments", node.lineno, "two arguments swapped"
        )

    def statements(self, node: ast.AST, parent: ast.AST | None) -> None:
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            return
        for field_name in ("body", "orelse", "finalbody"):
            stmts = getattr(node, field_name, None)
            if not isinstance(stmts, list) or len(stmts) < 2:
                continue  # deleting the only statement would leave an empty block
            for stmt in stmts:
                if _is_docstring(stmt, node):
                    continue
                self._remove(stmt)

    def _remove(self, stmt: ast.stmt) -> None:
        call = isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
        assignment = isinstance(stmt, ast.Assign | ast.AugAssign | ast.AnnAssign) and isinstance(
            getattr(stmt, "value", None), ast.AST
        )
        if call or assignment:
            operator = "remove_statement"
        elif isinstance(stmt, ast.If) and not stmt.orelse and isinstance(stmt.body[-1], _GUARD_ENDS):
            operator = "remove_guard"
        else:
            return
        span = self.src.full_lines(stmt)
        if span is None:
            return
        first = self.src.text(*span).decode(errors="replace").strip().splitlines()[0]
        self.add(span[0], span[1], b"", operator, stmt.lineno, f"removed `{first[:60]}`")


def _chunks(tree: ast.Module, src: _Source) -> list[tuple[int, int, int]]:
    """(start, end, indent) of whole lines holding each top-level statement and each function,
    decorators included; innermost last among those that nest."""
    out: list[tuple[int, int, int]] = []
    nodes = [
        *tree.body,
        *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)),
    ]
    for stmt in nodes:
        decorators = getattr(stmt, "decorator_list", [])
        first = min([stmt.lineno, *(d.lineno for d in decorators)])
        start = src.line_starts[first - 1]
        end_line = stmt.end_lineno or stmt.lineno
        end = src.line_starts[end_line] if end_line < len(src.line_starts) else len(src.data)
        out.append((start, end, stmt.col_offset))
    return sorted(set(out), key=lambda c: c[1] - c[0])


def _dedent(chunk: bytes, indent: int) -> bytes | None:
    """``chunk`` with ``indent`` leading spaces taken off every line, or None if a line has fewer."""
    if not indent:
        return chunk
    prefix = b" " * indent
    lines = chunk.split(b"\n")
    out = []
    for line in lines:
        if line.startswith(prefix):
            out.append(line[indent:])
        elif not line.strip():
            out.append(b"")
        else:
            return None
    return b"\n".join(out)


def _check_in_chunk(data: bytes, chunk: tuple[int, int, int], m: Mutation, path: str) -> bool | None:
    """Whether the edit compiles and changes the AST, judged on one chunk; None if the chunk cannot
    be parsed on its own (a string that runs into the indentation)."""
    start, end, indent = chunk
    before = _dedent(data[start:end], indent)
    after = _dedent(data[start : m.start] + m.replacement + data[m.end : end], indent)
    if before is None or after is None:
        return None
    try:
        original = ast.parse(before)
    except SyntaxError:
        return None
    try:
        mutated = ast.parse(after)
        compile(mutated, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return ast.dump(mutated) != ast.dump(original)


def mutations_for(path: str, data: bytes, operators: tuple[str, ...] = OPERATORS) -> list[Mutation]:
    """Every valid mutation of one module's source, in source order."""
    try:
        tree = ast.parse(data)
    except SyntaxError:
        return []
    walker = _Walker(path, data)
    walker.walk(tree)
    # Each edit is checked on the innermost function (or top-level statement) that holds it:
    # parsing and compiling the whole module once per candidate is far slower and says no more.
    chunks = _chunks(tree, walker.src)
    out: list[Mutation] = []
    seen: set[tuple[int, int, bytes]] = set()
    for m in walker.found:
        if m.operator not in operators or (m.start, m.end, m.replacement) in seen:
            continue
        seen.add((m.start, m.end, m.replacement))
        verdict = None
        for chunk in chunks:
            if chunk[0] <= m.start and m.end <= chunk[1]:
                verdict = _check_in_chunk(data, chunk, m, path)
                if verdict is not None:
                    break
        if verdict is None:
            verdict = _check_in_chunk(data, (0, len(data), 0), m, path)
        if verdict:
            out.append(m)
    return out

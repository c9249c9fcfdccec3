"""Problem statements written from the failing behaviour, the way a user would report it.

The text comes only from the test side: the failing test's own code, its parameters, and the
exception it ended with. Nothing is read from the library's changed code or from the patch, and
``leaked_lines`` checks that no changed line of the fix shows up in the text anyway.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_SNIPPET_LINES = 30
MAX_MESSAGE_LINES = 25
MAX_ALSO_FAILING = 5
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")
_NOT_API = {
    "len", "list", "dict", "set", "tuple", "str", "int", "float", "bool", "sorted", "isinstance", "range",
    "iter", "next", "repr", "type", "raises", "map", "filter", "zip", "enumerate", "print", "getattr",
    "setattr", "hasattr", "object", "super", "min", "max", "sum", "any", "all", "frozenset", "callable",
    "approx", "warns", "assertEqual", "assertTrue", "assertFalse", "assertRaises", "assertIn",
    "assertIs", "assertIsNone", "assertNotEqual", "__init__", "__call__", "get", "keys", "values", "items",
}  # fmt: skip


@dataclass(frozen=True)
class Failure:
    """One failing test, as the outcomes plugin recorded it."""

    nodeid: str
    record: dict[str, Any]

    @property
    def message(self) -> str:
        return str(self.record.get("message") or "").strip()

    @property
    def exception(self) -> str:
        return str(self.record.get("exception") or "")


def library_api(tree: Path, source_files: tuple[str, ...]) -> dict[str, str]:
    """Public function and class names defined in the library: bare name -> how to show it."""
    names: dict[str, str] = {}
    seen_twice: set[str] = set()
    for rel in source_files:
        try:
            module = ast.parse((tree / rel).read_bytes())
        except (OSError, SyntaxError):
            continue
        for node in ast.walk(module):
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and not item.name.startswith("_"):
                        if item.name in names:
                            seen_twice.add(item.name)
                        names.setdefault(item.name, f"{node.name}.{item.name}")
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_"):
                names[node.name] = node.name  # a top-level name wins over a method's
    for name in seen_twice:
        if names[name] != name:
            names[name] = name
    return {k: v for k, v in names.items() if k not in _NOT_API}


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _called_names(code: str, *, local: set[str], modules: set[str]) -> list[str]:
    """Functions ``code`` calls by name, or through a module it imported; locals are skipped."""
    try:
        tree = ast.parse(textwrap.dedent(code))
    except SyntaxError:
        return []
    names: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id not in local:
            names.append(func.id)
        elif isinstance(func, ast.Attribute) and _root_name(func) in modules:
            names.append(func.attr)
    return names


def _module_names(module: ast.Module) -> set[str]:
    """Names the test module binds to imported modules (``import a.b`` binds ``a``)."""
    out: set[str] = set()
    for node in ast.walk(module):
        if isinstance(node, ast.Import):
            out |= {(a.asname or a.name.split(".")[0]) for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            out |= {(a.asname or a.name) for a in node.names}
    return out


def _local_names(func: ast.AST) -> set[str]:
    """Parameters and names assigned inside a test function (a local ``cached = ...`` is not the API)."""
    out: set[str] = set()
    for node in ast.walk(func):
        if isinstance(node, ast.arg):
            out.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node is not func:
            out.add(node.name)
    return out


def _find_function(source: str, name: str, line: int) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    try:
        module = ast.parse(source)
    except SyntaxError:
        return None
    best = None
    for node in ast.walk(module):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            if best is None or abs(first - line) < abs(best[0] - line):
                best = (first, node)
    return best[1] if best else None


def test_snippet(test_source: str, failure: Failure) -> str:
    """The failing test's code: the whole function when short, else its head and the failing lines."""
    rec = failure.record
    lines = test_source.splitlines()
    func = _find_function(test_source, str(rec.get("function") or ""), int(rec.get("line") or 0))
    if func is None:
        stmt = str(rec.get("statement") or "")
        return textwrap.dedent(stmt)
    start = min([func.lineno, *(d.lineno for d in func.decorator_list)])
    end = func.end_lineno or func.lineno
    if end - start + 1 <= MAX_SNIPPET_LINES:
        return textwrap.dedent("\n".join(lines[start - 1 : end]))
    fail_line = int(rec.get("fail_line") or 0)
    call_line = int(rec.get("call_line") or fail_line)
    body_start = func.body[0].lineno
    head = lines[start - 1 : body_start - 1] or [lines[func.lineno - 1]]
    wanted: set[int] = set()
    for line, before, after in ((call_line, 4, 2), (fail_line, 2, 1)):
        if start <= line <= end:
            wanted |= set(range(max(body_start, line - before), min(end, line + after) + 1))
    if not wanted:
        wanted = set(range(body_start, min(end, body_start + 8) + 1))
    out = list(head)
    previous = body_start - 1
    for number in sorted(wanted):
        if number != previous + 1:
            indent = re.match(r"\s*", lines[number - 1]).group()  # type: ignore[union-attr]
            out.append(f"{indent}...")
        out.append(lines[number - 1])
        previous = number
    return textwrap.dedent("\n".join(out))


def clean_message(message: str, tree: Path | None) -> str:
    """The exception text, without machine paths or memory addresses, and not too long."""
    text = message
    if tree is not None:
        text = text.replace(str(tree.resolve()) + "/", "").replace(str(tree) + "/", "")
    text = _ADDRESS.sub("0x...", text)
    lines = text.strip().splitlines()
    if len(lines) > MAX_MESSAGE_LINES:
        lines = [*lines[:MAX_MESSAGE_LINES], "..."]
    return "\n".join(line.rstrip() for line in lines)


def _humanize_test_name(name: str) -> str:
    words = re.sub(r"^test_?", "", name).replace("_", " ").strip()
    return words or name


def _title(api: str, failure: Failure, test_name: str) -> str:
    exc = failure.exception
    first = failure.message.splitlines()[0] if failure.message else ""
    subject = f"`{api}`" if api else f'"{_humanize_test_name(test_name)}"'
    if exc == "Failed" and "DID NOT RAISE" in first:
        raised = first.split("DID NOT RAISE", 1)[1].strip().strip("<>").replace("class ", "").strip("'")
        return f"{subject} no longer raises {raised}"
    if exc in ("AssertionError", "", "Failed"):
        return f"{subject} gives a wrong result" if api else f"Wrong result in the {subject} case"
    return f"{subject} raises {exc}" if api else f"{exc} in the {subject} case"


def _format_params(rec: dict[str, Any]) -> str:
    params = rec.get("params") or {}
    if not params:
        return ""
    return ", ".join(f"{k}={v}" for k, v in params.items())


def write_statement(
    *,
    library: str,
    version: str,
    failures: list[Failure],
    test_sources: dict[str, str],
    api: dict[str, str],
    tree: Path | None = None,
) -> str:
    """An issue-style report of ``failures`` (the first one is described in full)."""
    if not failures:
        raise ValueError("a problem statement needs at least one failing test")
    main = next((f for f in failures if f.record.get("statement")), failures[0])
    rec = main.record
    test_file = main.nodeid.split("::", 1)[0]
    source = test_sources.get(test_file, "")
    snippet = test_snippet(source, main) if source else str(rec.get("statement") or "")
    test_name = str(rec.get("function") or main.nodeid.rsplit("::", 1)[-1])
    local: set[str] = set()
    modules: set[str] = set()
    try:
        module = ast.parse(source)
        modules = _module_names(module)
        func = _find_function(source, test_name, int(rec.get("line") or 0))
        local = _local_names(func) if func is not None else set()
    except SyntaxError:
        pass
    called = [
        *_called_names(str(rec.get("statement") or ""), local=local, modules=modules),
        *_called_names(snippet, local=local, modules=modules),
    ]
    shown = next((api[n] for n in called if n in api), "")
    title = _title(shown, main, test_name)
    parts = [title, ""]
    where = f"in `{shown}`" if shown else "here"
    parts.append(
        f"With {library} {version}, the behaviour {where} is not what the project's own test "
        f"`{main.nodeid}` expects. To reproduce:"
    )
    parts += ["", "```python", snippet.rstrip(), "```", ""]
    params = _format_params(rec)
    if params:
        parts += [f"(parametrized with {params})", ""]
    message = clean_message(main.message, tree) or "the test fails"
    parts += ["This fails with:", "", "```", message, "```", ""]
    values = rec.get("values") or {}
    if values:
        parts.append("The values at the failing line:")
        parts.append("")
        for name, value in values.items():
            text = _ADDRESS.sub("0x...", str(value))
            if tree is not None:
                text = text.replace(str(tree.resolve()) + "/", "")
            parts += [f"`{name}`:", "", "```", text.rstrip("\n"), "```", ""]
    others = [f for f in failures if f is not main]
    if others:
        if len(others) == 1:
            parts.append("One more test fails too:")
        else:
            some = "" if len(others) <= MAX_ALSO_FAILING else f" (the first {MAX_ALSO_FAILING})"
            parts.append(f"{len(others)} more tests fail too{some}:")
        for other in others[:MAX_ALSO_FAILING]:
            first = clean_message(other.message, tree).splitlines()
            brief = f": {first[0][:160]}" if first else ""
            parts.append(f"- `{other.nodeid}`{brief}")
        parts.append("")
    parts.append("Expected: the check passes, with the rest of the test suite still passing.")
    return "\n".join(parts).strip() + "\n"


def changed_lines(patch: str, min_length: int = 8) -> list[str]:
    """The added and removed lines of a unified diff, stripped, long enough to be telling."""
    out: list[str] = []
    for line in patch.splitlines():
        if line.startswith(("+++", "---")) or not line.startswith(("+", "-")):
            continue
        text = line[1:].strip()
        if len(text) >= min_length and not text.startswith("#"):
            out.append(text)
    return out


def leaked_lines(statement: str, patch: str) -> list[str]:
    """Changed lines of ``patch`` that appear in ``statement`` (should be none)."""
    return [line for line in changed_lines(patch) if line in statement]

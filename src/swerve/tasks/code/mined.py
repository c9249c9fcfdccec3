"""Code tasks mined from real libraries: the built-in suite's six pinned sdists.

A task is a top-level function of a library module with a docstring that shows it at work
(``>>> name(literal, ...)`` followed by the literal it returns). The prompt is the function's
signature and docstring, after the module's own imports of the standard library; the reference is
those imports and the function as the library wrote it; its doctest examples become its original
tests. Only self-contained functions qualify: every name the body reads is a parameter, a local,
a builtin or one of those imports (no helper of the module the solver would not see).

``load_mined("mined")`` gives every library's tasks, ``mined:NAME`` one library's; ids are
``<library>/<module>.<function>``. The sdists come from the cache (downloaded once, checked).
"""

from __future__ import annotations

import ast
import builtins
import sys
from pathlib import Path

from swerve.tasks.code.codec import Unencodable, encode
from swerve.tasks.code.model import CodeTask, IOTest

_BUILTINS = set(dir(builtins))


def _stdlib_imports(tree: ast.Module) -> tuple[list[str], set[str]]:
    """Top-level ``import``/``from`` lines of standard-library modules, and the names they bind."""
    lines, names = [], set()
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if node.__dict__.get("level") or not all(
                m.split(".")[0] in sys.stdlib_module_names for m in mods
            ):
                continue
            lines.append(ast.unparse(node))
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return lines, names


def _free_names(fn: ast.FunctionDef) -> set[str]:
    bound = {a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)}
    bound |= {a.arg for a in (fn.args.vararg, fn.args.kwarg) if a is not None}
    loads = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Name):
            (loads if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node is not fn:
            bound.add(node.name)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return loads - bound - _BUILTINS


def _examples(doc: str, name: str) -> list[IOTest]:
    lines = doc.splitlines()
    out = []
    for i, line in enumerate(lines[:-1]):
        text = line.strip()
        if not text.startswith(f">>> {name}("):
            continue
        want = lines[i + 1].strip()
        if not want or want.startswith(">>>"):
            continue
        try:
            call = ast.parse(text[4:], mode="eval").body
            if not isinstance(call, ast.Call) or call.keywords:
                continue
            args = [ast.literal_eval(a) for a in call.args]
            expected = ast.literal_eval(want)
            out.append(IOTest(encode(args), encode(expected), "original", f"doctest: {text[4:][:60]}"))
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError, Unencodable):
            continue
    return out


def mine_module(path: Path, library: str, module: str) -> list[CodeTask]:
    """The tasks one module's source gives."""
    try:
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
    except (OSError, UnicodeDecodeError, SyntaxError):
        return []
    imports, imported = _stdlib_imports(tree)
    header = "".join(line + "\n" for line in imports) + ("\n\n" if imports else "")
    tasks = []
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef) or fn.name.startswith("_") or fn.decorator_list:
            continue
        doc = ast.get_docstring(fn, clean=False) or ""
        tests = _examples(doc, fn.name)
        if not tests or not _free_names(fn) <= imported:
            continue
        body_start = fn.body[0].end_lineno or fn.body[0].lineno  # the docstring's last line
        lines = source.splitlines(keepends=True)
        signature_and_doc = "".join(lines[fn.lineno - 1 : body_start])
        function = "".join(lines[fn.lineno - 1 : fn.end_lineno])
        tasks.append(
            CodeTask(
                id=f"{library}/{module}.{fn.name}",
                prompt=header + signature_and_doc,
                entry_point=fn.name,
                reference=header + function,
                tests=tests,
                source="mined",
                metadata={"library": library, "module": module, "line": fn.lineno},
            )
        )
    return tasks


def load_mined(spec: str = "mined") -> list[CodeTask]:
    """``mined`` (every library) or ``mined:NAME``."""
    from swerve.errors import TaskError
    from swerve.tasks.builtin.libraries import LIBRARIES, get_library
    from swerve.tasks.builtin.sources import pristine_tree

    name = spec.partition(":")[2]
    libraries = [get_library(name)] if name else list(LIBRARIES.values())
    tasks: list[CodeTask] = []
    for lib in libraries:
        tree = pristine_tree(lib)
        for rel in lib.source_files:
            module = rel.removesuffix(".py").replace("/__init__", "").replace("/", ".")
            module = module.removeprefix("src.")
            tasks += mine_module(tree / rel, lib.name, module)
    if not tasks:
        raise TaskError(f"{spec}: no function with doctest examples qualified")
    return tasks

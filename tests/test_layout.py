"""The shape of the tree: files small enough to read, every package saying what it is, and the
import contracts of pyproject.toml (the same check ``./scripts/test`` runs as ``lint-imports``)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "swerve"
MAX_LINES = 600


def source_files() -> list[Path]:
    return sorted(
        p for p in SRC.rglob("*") if p.suffix in (".py", ".c", ".h") and "__pycache__" not in p.parts
    )


def test_no_source_file_passes_600_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in source_files()
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these along their seams: {long}"


def test_every_package_says_what_it_is():
    missing = []
    for init in sorted(SRC.rglob("__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text()))
        if not doc or len(doc.split()) < 8:
            missing.append(str(init.relative_to(ROOT)))
    assert missing == [], f"these packages need a docstring saying what they are and may import: {missing}"


def test_every_module_has_a_docstring():
    missing = [
        str(p.relative_to(ROOT))
        for p in source_files()
        if p.suffix == ".py" and p.read_text().strip() and not ast.get_docstring(ast.parse(p.read_text()))
    ]
    assert missing == []


def test_the_import_contracts_hold():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint is None:
        pytest.skip("import-linter is not installed here (pip install -e '.[dev]')")
    done = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout

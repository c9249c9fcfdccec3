"""A Python project as the generator sees it: where its code and tests are, what its tests need.

``discover(tree)`` reads an unpacked sdist or a checkout: the import root (``src`` when the code
lives there, else the top), the source files bugs may go into (every parseable module outside
the tests), the test paths (``tests/``, ``test/``, ``src/*/tests``, ``<package>/tests``,
top-level ``test_*.py`` / ``*_test.py``) and the requirements of the tests (the project's own
dependencies, its test extras and dependency groups, test requirement files). Anything it cannot
use is a ``GenerationError`` with the reason, or a note in ``skipped``.
"""

from __future__ import annotations

import ast
import configparser
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from swerve.tasks.generate.core import GenerationError

# -rA prints one line per test, which the graders read; the project's addopts often ask for
# plugins (coverage, xdist) that judging a bug does not need, so they are switched off; a test
# file that does not collect is left out, not the whole run.
TEST_COMMAND = (
    "python -m pytest -rA --tb=short -p no:cacheprovider -o addopts= --continue-on-collection-errors"
)
# The test runner, pinned with its dependencies (Python >= 3.11 needs neither exceptiongroup nor tomli).
PYTEST_PINS: tuple[str, ...] = ("pytest==8.3.5", "pluggy==1.5.0", "iniconfig==2.0.0", "packaging==24.2")
TEST_EXTRAS = ("test", "tests", "testing")
SKIP_DIRS = {
    ".git",
    ".tox",
    ".nox",
    ".venv",
    "venv",
    "build",
    "dist",
    "docs",
    "doc",
    "examples",
    "benchmarks",
}
SKIP_DIRS |= {"__pycache__", ".eggs", "node_modules", "site-packages"}
NOT_SOURCE = {"setup.py", "conftest.py", "noxfile.py", "fabfile.py", "tasks.py", "__main__.py"}
TEST_REQUIREMENT_FILES = (
    "requirements-test.txt",
    "requirements-tests.txt",
    "requirements_test.txt",
    "test-requirements.txt",
    "requirements/test.txt",
    "requirements/tests.txt",
    "requirements/testing.txt",
)
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True)
class Project:
    """One project at one version, unpacked at ``tree`` (which the generator never writes)."""

    name: str
    version: str
    tree: Path
    import_root: str
    source_files: tuple[str, ...]
    test_paths: tuple[str, ...]
    requirements: tuple[str, ...]
    origin: str  # "pypi" or "local"
    test_command: str = TEST_COMMAND
    skipped: tuple[str, ...] = field(default=(), compare=False)  # "path: why" for files left out

    @property
    def key(self) -> str:
        return f"{self.name}-{self.version}"

    @property
    def repo(self) -> str:
        """The label the tasks carry as ``repo``."""
        return f"{self.origin}/{self.name}"

    def is_test_file(self, path: str) -> bool:
        return is_test_path(path, self.test_paths)


def is_test_path(path: str, test_paths: tuple[str, ...]) -> bool:
    """Whether ``path`` is a test file or lies under one of ``test_paths``."""
    name = path.rsplit("/", 1)[-1]
    if name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py":
        return True
    parts = path.split("/")
    if any(p in ("tests", "test", "testing") for p in parts[:-1]):
        return True
    return any(path == t or path.startswith(t.rstrip("/") + "/") for t in test_paths)


def requirement_name(req: str) -> str:
    m = _NAME.match(req)
    return re.sub(r"[-_.]+", "-", m.group(1)).lower() if m else ""


def _walk_py(root: Path, top: Path) -> list[str]:
    out: list[str] = []
    for path in sorted(top.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if any(part in SKIP_DIRS or part.startswith(".") for part in rel.split("/")[:-1]):
            continue
        out.append(rel)
    return out


def find_import_root(tree: Path) -> str:
    src = tree / "src"
    if src.is_dir() and any((p / "__init__.py").is_file() or p.suffix == ".py" for p in src.iterdir()):
        return "src"
    return "."


def find_tests(tree: Path, import_root: str) -> tuple[str, ...]:
    """The test paths of ``tree``, most specific first; empty when it has none."""
    found: list[str] = []
    for name in ("tests", "test", "testing"):
        if (tree / name).is_dir() and _walk_py(tree, tree / name):
            found.append(name)
    base = tree / import_root
    for pkg in sorted(p for p in base.iterdir() if p.is_dir() and (p / "__init__.py").is_file()):
        for name in ("tests", "test"):
            sub = pkg / name
            if sub.is_dir() and _walk_py(tree, sub):
                found.append(sub.relative_to(tree).as_posix())
    for path in sorted(tree.glob("*.py")):
        if path.name.startswith("test_") or path.name.endswith("_test.py"):
            found.append(path.name)
    return tuple(found)


def find_sources(tree: Path, import_root: str, test_paths: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(source files that parse, "path: why" for those left out)."""
    base = tree / import_root
    candidates: list[str] = []
    for entry in sorted(base.iterdir()):
        if entry.is_dir() and (entry / "__init__.py").is_file() and entry.name not in SKIP_DIRS:
            candidates += _walk_py(tree, entry)
        elif entry.suffix == ".py" and entry.name not in NOT_SOURCE:
            candidates.append(entry.relative_to(tree).as_posix())
    sources: list[str] = []
    skipped: list[str] = []
    for rel in candidates:
        if is_test_path(rel, test_paths) or rel.rsplit("/", 1)[-1] in NOT_SOURCE:
            continue
        try:
            ast.parse((tree / rel).read_bytes(), filename=rel)
        except (SyntaxError, ValueError) as exc:
            skipped.append(f"{rel}: does not parse ({exc.__class__.__name__}: {exc})")
            continue
        sources.append(rel)
    return sources, skipped


def _pyproject(tree: Path) -> dict[str, object]:
    path = tree / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise GenerationError(f"pyproject.toml does not parse: {exc}") from None


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def find_requirements(tree: Path) -> tuple[list[str], str, str]:
    """(requirement strings for the tests, the project's name, its version), from its metadata."""
    reqs: list[str] = []
    data = _pyproject(tree)
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    assert isinstance(project, dict)
    name, version = str(project.get("name") or ""), str(project.get("version") or "")
    reqs += _strings(project.get("dependencies"))
    extras = project.get("optional-dependencies")
    groups = data.get("dependency-groups")
    for table in (extras, groups):
        if isinstance(table, dict):
            for extra in TEST_EXTRAS:
                reqs += _strings(table.get(extra))
    cfg = tree / "setup.cfg"
    if cfg.is_file():
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(cfg, encoding="utf-8")
        except configparser.Error:
            parser = configparser.ConfigParser()
        name = name or parser.get("metadata", "name", fallback="")
        reqs += parser.get("options", "install_requires", fallback="").split("\n")
        for extra in TEST_EXTRAS:
            reqs += parser.get("options.extras_require", extra, fallback="").split("\n")
    for rel in TEST_REQUIREMENT_FILES:
        path = tree / rel
        if path.is_file():
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                line = line.split(" #", 1)[0].strip()
                if line and not line.startswith(("#", "-")):
                    reqs.append(line)
    clean = list(dict.fromkeys(r.strip() for r in reqs if r.strip() and requirement_name(r)))
    return clean, name, version


def test_requirements(requirements: list[str], own_name: str) -> tuple[str, ...]:
    """The project's requirements less itself, plus pytest (pinned unless the project names one)."""
    own = requirement_name(own_name)
    reqs = [r for r in requirements if requirement_name(r) != own]
    named = {requirement_name(r) for r in reqs}
    runner = [] if "pytest" in named else list(PYTEST_PINS)
    return tuple(runner + reqs)


def discover(
    tree: Path, *, name: str = "", version: str = "", origin: str = "local", default_name: str = ""
) -> Project:
    """The project unpacked at ``tree``. Raises GenerationError when it has no tests or no code."""
    if not tree.is_dir():
        raise GenerationError(f"{tree}: not a folder")
    requirements, meta_name, meta_version = find_requirements(tree)
    name = name or meta_name or default_name or tree.name
    import_root = find_import_root(tree)
    tests = find_tests(tree, import_root)
    if not tests:
        raise GenerationError(
            f"{name}: no tests found (looked for tests/, test/, src/*/tests, <package>/tests, test_*.py)"
        )
    sources, skipped = find_sources(tree, import_root, tests)
    if not sources:
        raise GenerationError(f"{name}: no Python source files outside the tests under {import_root}/")
    return Project(
        name=name,
        version=version or meta_version or "0",
        tree=tree,
        import_root=import_root,
        source_files=tuple(sources),
        test_paths=tests,
        requirements=test_requirements(requirements, name),
        origin=origin,
        skipped=tuple(skipped),
    )

"""``/init``: an AGENTS.md written from a scan of the project (no model needed)."""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections import Counter
from pathlib import Path

LANGUAGES = {
    ".py": "Python",
    ".ts": "TypeScript",
    ".tsx": "TypeScript",
    ".js": "JavaScript",
    ".jsx": "JavaScript",
    ".go": "Go",
    ".rs": "Rust",
    ".java": "Java",
    ".kt": "Kotlin",
    ".c": "C",
    ".h": "C",
    ".cc": "C++",
    ".cpp": "C++",
    ".hpp": "C++",
    ".rb": "Ruby",
    ".php": "PHP",
    ".cs": "C#",
    ".swift": "Swift",
    ".scala": "Scala",
    ".sh": "Shell",
    ".lua": "Lua",
}


def _read(path: Path, limit: int = 200_000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[:limit]
    except OSError:
        return ""


def _commands(root: Path, files: list[str]) -> list[str]:
    out: list[str] = []
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(_read(pyproject))
        except tomllib.TOMLDecodeError:
            data = {}
        out.append(
            "Install for development: `pip install -e .`"
            + (
                " (extras: "
                + ", ".join(sorted(data.get("project", {}).get("optional-dependencies", {})))
                + ")"
                if data.get("project", {}).get("optional-dependencies")
                else ""
            )
        )
        if "pytest" in json.dumps(data) or any(f.startswith("tests/") for f in files):
            out.append("Run the tests: `pytest -q`")
        if "ruff" in json.dumps(data):
            out.append("Lint and format: `ruff check . && ruff format --check .`")
    elif (root / "setup.py").is_file() or (root / "requirements.txt").is_file():
        out.append(
            "Install: `pip install -r requirements.txt`"
            if (root / "requirements.txt").is_file()
            else "Install: `pip install -e .`"
        )
        if any(f.startswith("tests/") or "/test_" in f or f.startswith("test_") for f in files):
            out.append("Run the tests: `pytest -q`")
    package = root / "package.json"
    if package.is_file():
        try:
            scripts = json.loads(_read(package)).get("scripts", {}) or {}
        except (ValueError, AttributeError):
            scripts = {}
        runner = (
            "pnpm"
            if (root / "pnpm-lock.yaml").is_file()
            else "yarn"
            if (root / "yarn.lock").is_file()
            else "npm"
        )
        out.append(f"Install: `{runner} install`")
        for name in ("build", "test", "lint", "typecheck", "dev", "start"):
            if name in scripts:
                out.append(f"{name.capitalize()}: `{runner} run {name}` ({scripts[name]})")
    if (root / "Cargo.toml").is_file():
        out += ["Build: `cargo build`", "Test: `cargo test`", "Lint: `cargo clippy`"]
    if (root / "go.mod").is_file():
        out += ["Build: `go build ./...`", "Test: `go test ./...`", "Vet: `go vet ./...`"]
    makefile = root / "Makefile"
    if makefile.is_file():
        targets = re.findall(r"^([A-Za-z][\w-]*):", _read(makefile), re.MULTILINE)
        if targets:
            out.append("Make targets: " + ", ".join(f"`make {t}`" for t in list(dict.fromkeys(targets))[:10]))
    return out


def _readme_summary(root: Path) -> str:
    for name in ("README.md", "README.rst", "README.txt", "README"):
        text = _read(root / name, 20_000)
        if text:
            paras = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
            for para in paras:
                if not para.startswith(("#", "[!", "![", "<", "=", "-")):
                    return " ".join(para.split())[:500]
    return ""


def scan_project(root: str, files: list[str]) -> str:
    """AGENTS.md text for the project at ``root`` whose files (relative paths) are ``files``."""
    base = Path(root)
    name = base.name
    langs = Counter(LANGUAGES[ext] for f in files if (ext := os.path.splitext(f)[1].lower()) in LANGUAGES)
    tops = Counter(f.split("/", 1)[0] for f in files if "/" in f)
    lines = [f"# {name}", ""]
    summary = _readme_summary(base)
    if summary:
        lines += [summary, ""]
    lines += ["## Overview", ""]
    if langs:
        lines.append(
            "Languages: " + ", ".join(f"{lang} ({n} files)" for lang, n in langs.most_common(5)) + "."
        )
    lines.append(f"{len(files)} files under version control or in the tree.")
    lines += ["", "## Layout", ""]
    for folder, count in sorted(tops.items(), key=lambda kv: (-kv[1], kv[0]))[:15]:
        lines.append(f"- `{folder}/` ({count} files)")
    loose = sorted(f for f in files if "/" not in f)[:15]
    if loose:
        lines.append("- top-level files: " + ", ".join(f"`{f}`" for f in loose))
    commands = _commands(base, files)
    if commands:
        lines += ["", "## Commands", ""]
        lines += [f"- {c}" for c in commands]
    lines += [
        "",
        "## Conventions",
        "",
        "- Follow the style of the surrounding code; keep changes small and focused.",
        "- Run the tests (and linters, if any) after a change, and fix what fails.",
        "- Do not commit secrets; keep generated files out of version control.",
        "",
    ]
    return "\n".join(lines)

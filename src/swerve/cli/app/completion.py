"""Completion in the input box: ``/commands`` at the start, ``@paths`` anywhere."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterable

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", ".mypy_cache", ".pytest_cache", ".tox"}
WALK_LIMIT = 20_000
CACHE_S = 20.0
MAX_SHOWN = 40


def project_files(root: str) -> list[str]:
    """Files of the project, relative to ``root``: git's view (tracked and untracked, not ignored)
    when it is a repository, else a bounded walk."""
    try:
        proc = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        if proc.returncode == 0:
            return [line for line in proc.stdout.splitlines() if line][:WALK_LIMIT]
    except (OSError, subprocess.TimeoutExpired):
        pass
    out: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        rel = os.path.relpath(folder, root)
        out += [f if rel == "." else os.path.join(rel, f) for f in sorted(files)]
        if len(out) >= WALK_LIMIT:
            break
    return out[:WALK_LIMIT]


def with_dirs(files: list[str]) -> list[str]:
    dirs = {os.path.dirname(f) for f in files}
    parents = set()
    for d in dirs:
        while d:
            parents.add(d + "/")
            d = os.path.dirname(d)
    return sorted(parents) + files


def rank(candidates: Iterable[str], needle: str) -> list[str]:
    """Paths matching ``needle``: prefix matches first, then a basename prefix, then substrings."""
    low = needle.lower()
    first, second, third = [], [], []
    for path in candidates:
        p = path.lower()
        if p.startswith(low):
            first.append(path)
        elif os.path.basename(p.rstrip("/")).startswith(low):
            second.append(path)
        elif low in p:
            third.append(path)
    return (first + second + third)[:MAX_SHOWN]


class SwerveCompleter(Completer):
    def __init__(self, root: str, commands: Callable[[], list[tuple[str, str]]]) -> None:
        self.root = root
        self.commands = commands  # () -> [(name, description)]
        self._files: list[str] = []
        self._loaded_at = 0.0

    def files(self) -> list[str]:
        if time.monotonic() - self._loaded_at > CACHE_S:
            self._files = with_dirs(project_files(self.root))
            self._loaded_at = time.monotonic()
        return self._files

    def get_completions(self, document: Document, _event: CompleteEvent) -> Iterable[Completion]:
        before = document.text_before_cursor
        if before.startswith("/") and " " not in before and "\n" not in before:
            word = before[1:]
            for name, description in self.commands():
                if name.startswith(word):
                    yield Completion("/" + name, -len(before), display_meta=description)
            return
        word = before.split()[-1] if before.strip() and not before[-1].isspace() else ""
        if not word.startswith("@"):
            return
        needle = word[1:]
        for path in rank(self.files(), needle):
            yield Completion("@" + path, -len(word), display=path)

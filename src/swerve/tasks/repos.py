"""Finding a task's repository on this machine, and materialising it as a git checkout.

``--repos DIR`` holds local clones or snapshots: ``DIR/<owner>__<name>``, ``DIR/<owner>/<name>``
or ``DIR/<owner>+<name>`` (optionally with the git directory one level down in ``repo/``); bare
git directories are fine.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from swerve.tasks.model import RepoSource, Task

GIT_IDENTITY = ["-c", "user.name=swerve", "-c", "user.email=swerve@localhost", "-c", "commit.gpgsign=false"]


def is_git_dir(path: Path) -> bool:
    """A work tree with ``.git`` or a bare repository."""
    if (path / ".git").exists():
        return True
    return (path / "HEAD").is_file() and (path / "objects").is_dir() and (path / "refs").is_dir()


def find_repo(repo: str, roots: Sequence[str | Path]) -> Path | None:
    """The local git repository for ``owner/name`` under any of ``roots``, or None."""
    if "/" not in repo:
        names = [repo]
    else:
        owner, name = repo.split("/", 1)
        names = [f"{owner}__{name}", f"{owner}/{name}", f"{owner}+{name}", name]
    for root in roots:
        for candidate in names:
            base = Path(root) / candidate
            for path in (base, base / "repo", base.with_name(base.name + ".git")):
                if path.is_dir() and is_git_dir(path):
                    return path
    return None


def describe_search(repo: str, roots: Sequence[str | Path]) -> str:
    if not roots:
        return f"repository {repo} is not available: no --repos directory given"
    where = ", ".join(str(r) for r in roots)
    return f"repository {repo} not found under {where} (looked for <owner>__<name>, <owner>/<name>, <owner>+<name>)"


def resolve_source(task: Task, roots: Sequence[str | Path]) -> tuple[str, str] | None:
    """(kind, path-or-url) to check out for ``task``: kind is "git", "dir" or "sdist"; None if missing."""
    src: RepoSource = task.source
    if src.kind == "snapshot":
        found = find_repo(task.repo, roots)
        return ("git", str(found)) if found else None
    if src.kind == "git":
        loc = src.location or ""
        if loc and (os.path.isdir(loc) or "://" in loc or loc.startswith("git@")):
            return "git", loc
        found = find_repo(task.repo, roots)
        return ("git", str(found)) if found else None
    if src.kind in ("dir", "sdist"):
        return (src.kind, src.location) if src.location and os.path.exists(src.location) else None
    return None


def unpack_archive(archive: str, dest: Path) -> None:
    """Unpack a ``.tar.gz``/``.tgz``/``.tar``/``.zip`` into ``dest``; a single top folder is stripped."""
    tmp = dest.with_name(dest.name + ".unpack")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                target = (tmp / member).resolve()
                if not str(target).startswith(str(tmp.resolve()) + os.sep) and target != tmp.resolve():
                    raise ValueError(f"{archive}: member {member!r} escapes the archive")
            zf.extractall(tmp)
    else:
        with tarfile.open(archive) as tf:
            tf.extractall(tmp, filter="data")
    entries = list(tmp.iterdir())
    top = entries[0] if len(entries) == 1 and entries[0].is_dir() else tmp
    shutil.move(str(top), str(dest))
    if tmp.exists():
        shutil.rmtree(tmp)

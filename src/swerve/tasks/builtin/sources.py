"""Sdists on first use: download, check the sha256, unpack, and commit trees reproducibly.

Cache layout under ``$SWERVE_CACHE`` (default ``~/.cache/swerve``):

- ``sdists/<file>``: the archive, kept only when its sha256 matches the pinned one;
- ``builtin/<name>-<version>/pristine/``: the unpacked tree (never written after unpacking);
- ``builtin/tasks/<task-id>.git``: a bare repository whose only commit is the task's starting state
  (the pristine tree with the bug applied). It has no parent and no other objects, so nothing in
  the task's git history shows the fix.

Commits are made with a fixed identity, date and message and with the user's git configuration
shut out, so the same tree gives the same commit id on every machine; the suite records those ids.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from swerve.paths import cache_root
from swerve.tasks.builtin.libraries import Library
from swerve.tasks.generate.gitops import (
    SourceError,
    apply_patch,
    commit_tree,
    git,
    git_env,
    locked,
    sha256_of,
    unpack_sdist,
)

DOWNLOAD_TIMEOUT_S = 120.0


# -- sdists ---------------------------------------------------------------------------------------


def sdist_path(lib: Library, cache: Path | None = None) -> Path:
    return (cache or cache_root()) / "sdists" / lib.sdist


def is_cached(lib: Library, cache: Path | None = None) -> bool:
    """Whether the library's sdist is already in the cache (its hash is checked on use)."""
    return sdist_path(lib, cache).is_file()


def fetch_sdist(lib: Library, cache: Path | None = None) -> Path:
    """The verified sdist: from the cache, or downloaded from PyPI now. Raises SourceError."""
    path = sdist_path(lib, cache)
    with locked(path.with_name(path.name + ".lock")):
        if path.is_file():
            if sha256_of(path) == lib.sha256:
                return path
            path.unlink()  # corrupt or replaced: fetch it again
        _download(lib, path)
    return path


def _download(lib: Library, path: Path) -> None:
    import httpx

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    try:
        with httpx.stream("GET", lib.url, follow_redirects=True, timeout=DOWNLOAD_TIMEOUT_S) as resp:
            if resp.status_code != 200:
                raise SourceError(f"cannot download {lib.sdist}: HTTP {resp.status_code} from {lib.url}")
            with open(tmp, "wb") as out:
                for chunk in resp.iter_bytes():
                    out.write(chunk)
    except httpx.HTTPError as exc:
        tmp.unlink(missing_ok=True)
        raise SourceError(
            f"cannot download {lib.sdist} from {lib.url}: {exc}. Without network, put the file at {path} "
            f"(sha256 {lib.sha256})"
        ) from None
    got = sha256_of(tmp)
    if got != lib.sha256:
        tmp.unlink(missing_ok=True)
        raise SourceError(f"{lib.sdist}: sha256 is {got}, the pin says {lib.sha256}; the file was not kept")
    os.replace(tmp, path)


# -- the pristine tree ----------------------------------------------------------------------------


def library_dir(lib: Library, cache: Path | None = None) -> Path:
    return (cache or cache_root()) / "builtin" / lib.key


def pristine_tree(lib: Library, cache: Path | None = None) -> Path:
    """The library's unpacked sdist (downloaded first when needed). Callers must not write in it."""
    root = library_dir(lib, cache)
    tree = root / "pristine"
    done = root / "pristine.ok"
    if done.exists():
        return tree
    archive = fetch_sdist(lib, cache)
    with locked(root / "pristine.lock"):
        if done.exists():
            return tree
        if tree.exists():
            shutil.rmtree(tree)
        unpack_sdist(archive, tree)
        done.write_text(lib.sha256 + "\n")
    return tree


def task_repo_path(task_id: str, cache: Path | None = None) -> Path:
    return (cache or cache_root()) / "builtin" / "tasks" / f"{task_id}.git"


def commit_message(lib: Library) -> str:
    return f"{lib.name} {lib.version} (from the PyPI sdist {lib.sdist})\n"


def ensure_task_repo(
    lib: Library, task_id: str, bug_patch: str, *, expected_commit: str = "", cache: Path | None = None
) -> tuple[Path, str]:
    """The bare repository holding the task's starting state, and its commit id.

    Built once (under a lock) from the pristine tree plus ``bug_patch``. When ``expected_commit`` is
    given and the built commit differs, SourceError: the recorded suite and this build disagree.
    """
    path = task_repo_path(task_id, cache)
    if (path / "refs" / "heads" / "main").exists() or (path / "packed-refs").exists():
        commit = git(["rev-parse", "refs/heads/main"], env=git_env(GIT_DIR=str(path))).strip()
        if not expected_commit or commit == expected_commit:
            return path, commit
    tree = pristine_tree(lib, cache)
    with locked(path.with_name(path.name + ".lock")):
        if path.exists():
            shutil.rmtree(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{task_id}-", dir=path.parent))
        try:
            work = scratch / "tree"
            shutil.copytree(tree, work, symlinks=True)
            if bug_patch:
                apply_patch(work, bug_patch)
            git_dir = scratch / "repo.git"
            git(["init", "--quiet", "--bare", str(git_dir)])
            git(["symbolic-ref", "HEAD", "refs/heads/main"], env=git_env(GIT_DIR=str(git_dir)))
            commit = commit_tree(work, git_dir, commit_message(lib))
            (git_dir / "index").unlink(missing_ok=True)
            os.replace(git_dir, path)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    if expected_commit and commit != expected_commit:
        raise SourceError(
            f"{task_id}: the starting state built here is commit {commit[:12]}, the suite records "
            f"{expected_commit[:12]} (a different sdist or git?)"
        )
    return path, commit

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

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

from swerve.errors import TaskError
from swerve.paths import cache_root
from swerve.tasks.builtin.libraries import Library

DOWNLOAD_TIMEOUT_S = 120.0
COMMIT_DATE = "2000-01-01T00:00:00+0000"
_GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "swerve",
    "GIT_AUTHOR_EMAIL": "swerve@localhost",
    "GIT_AUTHOR_DATE": COMMIT_DATE,
    "GIT_COMMITTER_NAME": "swerve",
    "GIT_COMMITTER_EMAIL": "swerve@localhost",
    "GIT_COMMITTER_DATE": COMMIT_DATE,
}


class SourceError(TaskError):
    """An sdist cannot be had or does not match its pin; the message says what to do."""


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path``, shared by every process on this machine."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


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


def unpack_sdist(archive: Path, dest: Path) -> None:
    """Unpack a ``.tar.gz`` sdist into ``dest``, dropping its single top folder."""
    tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=dest.parent))
    try:
        with tarfile.open(archive) as tf:
            tf.extractall(tmp, filter="data")
        entries = list(tmp.iterdir())
        if len(entries) != 1 or not entries[0].is_dir():
            raise SourceError(f"{archive.name}: expected one top folder, found {len(entries)} entries")
        os.replace(entries[0], dest)
    except tarfile.TarError as exc:
        raise SourceError(f"{archive.name}: cannot unpack: {exc}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# -- git, reproducibly ----------------------------------------------------------------------------


def git_env(**extra: str) -> dict[str, str]:
    """An environment for git that ignores the user's and the system's configuration."""
    keep = ("PATH", "TMPDIR", "LANG")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        {
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "HOME": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "LC_ALL": "C",
            **_GIT_IDENTITY,
        }
    )
    env.update(extra)
    return env


def git(
    args: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None, stdin: str | None = None
) -> str:
    """Run git; its stdout, or SourceError with its stderr."""
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=env or git_env(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        raise SourceError(f"git {' '.join(args[:3])} failed: {proc.stderr.strip()[-800:]}")
    return proc.stdout


def commit_tree(work_tree: Path, git_dir: Path, message: str) -> str:
    """Commit everything under ``work_tree`` (ignore rules off) as a root commit on ``main``."""
    env = git_env(GIT_DIR=str(git_dir), GIT_WORK_TREE=str(work_tree))
    git(["add", "--all", "--force", "."], cwd=work_tree, env=env)
    tree = git(["write-tree"], cwd=work_tree, env=env).strip()
    commit = git(["commit-tree", tree, "-m", message], cwd=work_tree, env=env).strip()
    git(["update-ref", "refs/heads/main", commit], cwd=work_tree, env=env)
    return commit


def apply_patch(work_tree: Path, patch: str, *, reverse: bool = False) -> None:
    """Apply a git diff to a plain folder (no repository needed). Raises SourceError."""
    with tempfile.TemporaryDirectory(prefix="swerve-apply-") as scratch:
        env = git_env(GIT_DIR=str(Path(scratch) / "git"), GIT_WORK_TREE=str(work_tree))
        git(["init", "--quiet", "--bare", str(Path(scratch) / "git")])
        args = ["apply", "--whitespace=nowarn", *(["--reverse"] if reverse else []), "-"]
        git(args, cwd=work_tree, env=env, stdin=patch)


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

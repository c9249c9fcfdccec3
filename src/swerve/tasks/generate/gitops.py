"""Git and archives, reproducibly: fixed identity and date, the user's configuration shut out.

The same tree gives the same commit id on every machine, so generated tasks can record commit ids
that any later build of the same starting state reproduces.
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
    """A source cannot be had, unpacked or committed; the message says what to do."""


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

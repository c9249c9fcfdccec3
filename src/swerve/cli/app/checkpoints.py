"""Checkpoints: snapshots of a project's files in a shadow git repository, plus the conversation.

The shadow repository lives under ``$SWERVE_HOME/history/<key>/`` (``~/.swerve`` by default),
keyed by the project's absolute path, and is always used as
``git --git-dir=<shadow> --work-tree=<project>``: the project's own ``.git`` is never read or
written. The project's ``.gitignore`` files apply, so ignored files are neither saved nor restored.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from swerve.errors import SwerveError
from swerve.paths import swerve_home

MAX_CHECKPOINTS = 100  # per project; older ones are forgotten (their commits stay in the shadow repo)
GIT_TIMEOUT_S = 120
# heavy directories that are rebuilt rather than restored, skipped even without a .gitignore
DEFAULT_EXCLUDES = (
    ".git/",
    "node_modules/",
    ".venv/",
    "venv/",
    "__pycache__/",
    ".mypy_cache/",
    ".pytest_cache/",
    ".ruff_cache/",
    ".tox/",
    ".nox/",
    ".swerve/",
)
RESTORED_CALL_NOTE = (
    "Not run: the user restored the checkpoint taken before this call; files are back to how "
    "they were before it."
)


class CheckpointError(SwerveError):
    """A snapshot or restore that could not be done; the message says why."""


@dataclass
class Checkpoint:
    id: str
    commit: str
    created: float
    label: str
    session_id: str = ""
    prompt: str = ""  # the last user prompt before the snapshot, to recognise it by

    def when(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.created))


@dataclass
class Restored:
    checkpoint: Checkpoint
    messages: list[dict[str, Any]]
    changed: list[str]  # files written back
    removed: list[str]  # files deleted because they did not exist at the checkpoint
    undo: Checkpoint | None  # the snapshot taken just before restoring


def project_key(project: str) -> str:
    path = os.path.realpath(project)
    name = "".join(c if c.isalnum() or c in "-_." else "-" for c in os.path.basename(path)) or "root"
    return f"{name[:40]}-{hashlib.sha256(path.encode()).hexdigest()[:16]}"


class Checkpoints:
    """The checkpoints of one project."""

    def __init__(self, project: str, home: Path | None = None) -> None:
        self.project = os.path.realpath(project)
        self.root = (home or swerve_home()) / "history" / project_key(self.project)
        self.git_dir = self.root / "git"
        self.index_path = self.root / "checkpoints.jsonl"
        self.conversations = self.root / "conversations"
        self._lock = asyncio.Lock()

    # -- git plumbing ---------------------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(
            GIT_CONFIG_NOSYSTEM="1",
            GIT_CONFIG_GLOBAL=os.devnull,
            GIT_AUTHOR_NAME="swerve",
            GIT_AUTHOR_EMAIL="swerve@localhost",
            GIT_COMMITTER_NAME="swerve",
            GIT_COMMITTER_EMAIL="swerve@localhost",
            GIT_TERMINAL_PROMPT="0",
        )
        return env

    async def _git(self, *args: str, check: bool = True, bare: bool = False) -> str:
        where = [] if bare else [f"--git-dir={self.git_dir}", f"--work-tree={self.project}"]
        cmd = [
            "git",
            *where,
            "-c",
            "core.autocrlf=false",
            "-c",
            "core.fsmonitor=false",
            "-c",
            "commit.gpgsign=false",
            *args,
        ]
        try:
            proc = await asyncio.create_subprocess_exec(
                *cmd,
                cwd=self.project,
                env=self._env(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except FileNotFoundError:
            raise CheckpointError("git is not installed; checkpoints need it") from None
        try:
            out, err = await asyncio.wait_for(proc.communicate(), GIT_TIMEOUT_S)
        except (TimeoutError, asyncio.CancelledError):
            proc.kill()
            await proc.wait()
            raise
        if check and proc.returncode != 0:
            message = err.decode(errors="replace").strip() or out.decode(errors="replace").strip()
            raise CheckpointError(f"git {args[0]} failed: {message[:500]}")
        return out.decode(errors="replace")

    async def _ensure_repo(self) -> None:
        if (self.git_dir / "HEAD").is_file():
            return
        if not os.path.isdir(self.project):
            raise CheckpointError(f"no such directory: {self.project}")
        self.git_dir.mkdir(parents=True, exist_ok=True)
        await self._git("init", "-q", "--bare", str(self.git_dir), bare=True)
        await self._git("config", "core.bare", "false")
        exclude = self.git_dir / "info" / "exclude"
        exclude.parent.mkdir(parents=True, exist_ok=True)
        exclude.write_text("\n".join(DEFAULT_EXCLUDES) + "\n", encoding="utf-8")

    # -- checkpoints ----------------------------------------------------------------------------

    async def snapshot(
        self, label: str, messages: list[dict[str, Any]] | None = None, session_id: str = ""
    ) -> Checkpoint:
        """Save the project's files (and the conversation, if given) as a new checkpoint."""
        async with self._lock:
            await self._ensure_repo()
            await self._git("add", "-A", "--ignore-errors", ".", check=False)
            await self._git("commit", "-q", "--allow-empty", "--no-verify", "-m", label or "checkpoint")
            commit = (await self._git("rev-parse", "HEAD")).strip()
            prompt = next(
                (str(m.get("content") or "") for m in reversed(messages or []) if m.get("role") == "user"),
                "",
            )
            cp = Checkpoint(commit[:10], commit, time.time(), label, session_id, prompt[:200])
            self.conversations.mkdir(parents=True, exist_ok=True)
            if messages is not None:
                tmp = self.conversations / f"{cp.id}.json.tmp"
                tmp.write_text(json.dumps(messages, ensure_ascii=False, default=str), encoding="utf-8")
                os.replace(tmp, self.conversations / f"{cp.id}.json")
            with open(self.index_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(asdict(cp), ensure_ascii=False) + "\n")
            self._prune()
            return cp

    def list(self) -> list[Checkpoint]:
        """Saved checkpoints, oldest first."""
        if not self.index_path.is_file():
            return []
        out: list[Checkpoint] = []
        for line in self.index_path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                out.append(Checkpoint(**json.loads(line)))
            except (ValueError, TypeError):
                continue  # a torn line
        return out[-MAX_CHECKPOINTS:]

    def find(self, ref: str) -> Checkpoint:
        """A checkpoint by its number in ``list()`` (1 = oldest) or by an id prefix."""
        items = self.list()
        ref = ref.strip()
        if not items:
            raise CheckpointError("there are no checkpoints for this project yet")
        if ref.isdigit() and 1 <= int(ref) <= len(items) and len(ref) < 4:
            return items[int(ref) - 1]
        matches = [c for c in items if c.id.startswith(ref) or c.commit.startswith(ref)]
        if not matches:
            raise CheckpointError(f"no checkpoint {ref!r}; /restore lists them")
        if len({c.commit for c in matches}) > 1:
            raise CheckpointError(f"checkpoint id {ref!r} is ambiguous; give more of it")
        return matches[-1]

    def messages_of(self, cp: Checkpoint) -> list[dict[str, Any]] | None:
        path = self.conversations / f"{cp.id}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, list) else None

    async def changed_since(self, cp: Checkpoint) -> list[str]:
        """Files that differ between the checkpoint and the project now (tracked by the shadow repo)."""
        await self._git("add", "-A", "--ignore-errors", ".", check=False)
        out = await self._git("diff", "--cached", "--name-only", "--no-renames", cp.commit)
        return [line for line in out.splitlines() if line]

    async def restore(self, cp: Checkpoint) -> Restored:
        """Put the project's files back as they were at ``cp`` (after saving the current state)."""
        undo = await self.snapshot(f"before restoring {cp.id}")
        async with self._lock:
            out = await self._git("diff", "--name-only", "--no-renames", cp.commit, undo.commit)
            changed = [p for p in out.splitlines() if p]
            gone = await self._git(
                "diff", "--name-only", "--no-renames", "--diff-filter=A", cp.commit, undo.commit
            )
            removed = [p for p in gone.splitlines() if p]
            if (await self._git("ls-tree", "--name-only", cp.commit)).strip():
                await self._git("checkout", "-f", cp.commit, "--", ".")
            for rel in removed:
                self._remove(rel)
            await self._git("reset", "-q", "--soft", undo.commit, check=False)
        written = [p for p in changed if p not in set(removed)]
        messages = self.messages_of(cp) or []
        return Restored(cp, close_open_calls(messages), written, removed, undo)

    def _remove(self, rel: str) -> None:
        path = Path(self.project, rel)
        try:
            if os.path.realpath(path).startswith(self.project + os.sep) and (
                path.is_file() or path.is_symlink()
            ):
                path.unlink()
        except OSError:
            return
        parent = path.parent
        while str(parent).startswith(self.project + os.sep):
            try:
                parent.rmdir()  # only when empty
            except OSError:
                break
            parent = parent.parent

    def _prune(self) -> None:
        items = self.list()
        keep = {c.id for c in items}
        for path in self.conversations.glob("*.json"):
            if path.stem not in keep:
                path.unlink(missing_ok=True)
        lines = self.index_path.read_text(encoding="utf-8").splitlines()
        if len(lines) > MAX_CHECKPOINTS * 2:
            tmp = self.index_path.with_suffix(".tmp")
            tmp.write_text("\n".join(lines[-MAX_CHECKPOINTS:]) + "\n", encoding="utf-8")
            os.replace(tmp, self.index_path)


def close_open_calls(messages: list[dict[str, Any]], note: str = RESTORED_CALL_NOTE) -> list[dict[str, Any]]:
    """``messages`` with an answer added for each call of the last assistant turn that has none,
    so the restored history is valid to send."""
    out = list(messages)
    answered = {m.get("tool_call_id") for m in out if m.get("role") == "tool"}
    for m in reversed(out):
        if m.get("role") == "assistant":
            for call in m.get("tool_calls") or ():
                if call.get("id") not in answered:
                    name = (call.get("function") or {}).get("name", "")
                    out.append(
                        {"role": "tool", "tool_call_id": call.get("id"), "name": name, "content": note}
                    )
            break
    return out

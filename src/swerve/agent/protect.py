"""Protected paths: files whose change would let a run reach beyond itself, so no approval mode
(yolo included) and no allow rule writes them without a person's explicit, per-path yes.

- git's behaviour: ``.git/config`` (``core.fsmonitor``, aliases, filters run commands), ``.git/hooks/``
  (run by the user's next commit), ``.git/info/``, ``.gitmodules``;
- swerve's and other agents' own settings: ``.swerve/``, ``.mcp.json``;
- secrets and start-up files: ``.env*``, shell rc files, ``~/.ssh/``.

``check_writes`` applies them, with the edit tools' rule that writes stay in the workspace (and the
folders added to it), to the files a tool call writes.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

PROTECTED_DIRS = (".git/hooks", ".git/info", ".swerve", ".ssh")
PROTECTED_FILES = (".git/config", ".gitmodules", ".mcp.json")
PROTECTED_PATHS = (*PROTECTED_FILES, *PROTECTED_DIRS)  # kept read-only inside sandboxes
RC_FILES = frozenset(
    {
        ".bashrc",
        ".bash_profile",
        ".bash_login",
        ".bash_logout",
        ".profile",
        ".zshrc",
        ".zprofile",
        ".zshenv",
        ".zlogin",
        ".cshrc",
        ".tcshrc",
        ".inputrc",
    }
)


def protected(path: str) -> str | None:
    """Why writing ``path`` (absolute, normalised) needs explicit approval, or None."""
    name = posixpath.basename(path)
    if name in RC_FILES:
        return f"{path} is a shell start-up file"
    if name.startswith(".env"):
        return f"{path} holds environment secrets"
    parts = path.split("/")
    for i in range(len(parts)):
        tail = "/".join(parts[i:])
        if tail in PROTECTED_FILES:
            return f"{path} changes how git or an agent behaves"
        if any(tail == d or tail.startswith(d + "/") for d in PROTECTED_DIRS):
            return f"{path} is under {next(d for d in PROTECTED_DIRS if tail == d or tail.startswith(d + '/'))}/, which is protected"
    return None


@dataclass
class WriteCheck:
    """What a call's writes would touch: protected paths, and paths outside the workspace."""

    protected: list[str]
    outside: list[str]

    @property
    def reason(self) -> str | None:
        return "; ".join(self.protected) or None


def check_writes(targets: Iterable[str], root: str, allowed_dirs: Iterable[str] = ()) -> WriteCheck:
    """Sort ``targets`` (as a command in ``root`` would name them) into protected and outside."""
    check = WriteCheck([], [])
    home = os.path.expanduser("~")
    inside = [root, *allowed_dirs]
    for target in targets:
        path = target.replace("$HOME", home, 1) if target.startswith("$HOME") else os.path.expanduser(target)
        path = posixpath.normpath(path if posixpath.isabs(path) else posixpath.join(root, path))
        reason = protected(path)
        if reason:
            check.protected.append(reason)
        elif not any(path == d or path.startswith(d.rstrip("/") + "/") for d in inside):
            check.outside.append(path)
    return check

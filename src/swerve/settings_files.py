"""Settings files: where they are, reading them, and the folder trust that decides whether a
project's own ``.swerve/settings.json`` applies at all.

A cloned repository is not the user: its settings file could switch off the sandbox, approve every
command, start a program at launch (an MCP server) or point the user's API key at another server.
So project settings apply only in a folder the user trusts (``trustedFolders`` in the user's
settings; the app asks once, ``swerve -p`` needs ``--trust``), and even then they can only tighten
security:

- ``approvalMode`` applies only when it is stricter than the user's (plan < default < auto-edit < yolo);
- ``sandbox`` can turn the sandbox on, never off;
- ``permissions``: ``deny`` rules are added, ``allow`` rules are ignored;
- ``allowedDirs``, ``scrubSecretEnv`` and ``shellEnvKeep`` (ways to reach further) are ignored;
- ``baseUrl`` pairs only with a key from the project or the environment: the user's own key is
  never sent to an endpoint a project names;
- ``mcpServers`` are held back: they start only after the user approves their exact commands.

This module reads files and nothing else of swerve; ``config`` applies what it returns.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from swerve.errors import ConfigError
from swerve.paths import swerve_home

TRUST_KEY = "trustedFolders"
STRICTNESS = ("plan", "default", "auto-edit", "yolo")  # strictest first
LOOSENING_KEYS = ("allowedDirs", "scrubSecretEnv", "shellEnvKeep")


def user_settings_path() -> Path:
    return swerve_home() / "settings.json"


def project_settings_path(cwd: str) -> Path:
    return Path(cwd) / ".swerve" / "settings.json"


def read_settings_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object")
    return data


# -- folder trust -----------------------------------------------------------------------------------


def is_trusted(cwd: str, user: dict[str, Any] | None = None) -> bool:
    """Whether ``cwd`` (or a folder above it) is in the user's trusted folders."""
    folders = (user if user is not None else read_settings_file(user_settings_path())).get(TRUST_KEY) or []
    here = os.path.realpath(cwd)
    for folder in folders if isinstance(folders, list) else []:
        if isinstance(folder, str):
            top = os.path.realpath(os.path.expanduser(folder))
            if here == top or here.startswith(top.rstrip("/") + "/"):
                return True
    return False


def trust_folder(cwd: str) -> None:
    """Remember ``cwd`` as trusted in the user's settings (written atomically, other keys kept)."""
    path = user_settings_path()
    data = read_settings_file(path)
    folders = [f for f in data.get(TRUST_KEY) or [] if isinstance(f, str)]
    here = os.path.realpath(cwd)
    if here not in folders:
        folders.append(here)
    data[TRUST_KEY] = folders
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".settings.", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, ensure_ascii=False)
            f.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# -- what a trusted project may change ----------------------------------------------------------------


def project_filter(
    data: dict[str, Any], *, approval_mode: str, sandbox: bool, key_is_users: bool
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """(the settings of ``data`` that may apply, the MCP servers held back for approval, notes on
    what was not applied). ``approval_mode`` and ``sandbox`` are the user's; ``key_is_users`` says
    the API key so far comes from the user's own settings."""
    applied: dict[str, Any] = {}
    notes: list[str] = []
    held = data.get("mcpServers") if isinstance(data.get("mcpServers"), dict) else {}
    for key, value in data.items():
        if key == "mcpServers":
            continue
        if key in LOOSENING_KEYS:
            notes.append(f"{key} is a user setting; the project's is not applied")
        elif key == "approvalMode":
            if (
                value in STRICTNESS
                and approval_mode in STRICTNESS
                and STRICTNESS.index(value) > STRICTNESS.index(approval_mode)
            ):
                notes.append(f"approvalMode {value!r} would loosen the user's {approval_mode!r}; not applied")
            else:
                applied[key] = value
        elif key == "sandbox":
            if value is True or not sandbox:
                applied[key] = value
            else:
                notes.append("sandbox: the project cannot turn the user's sandbox off")
        elif key == "permissions" and isinstance(value, dict):
            if value.get("allow"):
                notes.append("permissions.allow: a project cannot approve tools; its allow rules are ignored")
            if isinstance(value.get("deny"), list):
                applied[key] = {"deny": value["deny"]}
        else:
            applied[key] = value
    if "baseUrl" in applied and "apiKey" not in applied and key_is_users:
        applied["apiKey"] = None  # never the user's key to an endpoint the project names
        notes.append(
            f"baseUrl {applied['baseUrl']!r} comes from the project: the user's API key is not sent there "
            "(set the key in the environment or the project to use it)"
        )
    return applied, held, notes

"""Where swerve keeps things: its home (settings, sessions) and its cache (builds, downloads)."""

from __future__ import annotations

import os
import re
from pathlib import Path


def swerve_home() -> Path:
    """``$SWERVE_HOME``, else ``~/.swerve``: settings, sessions, checkpoints."""
    return Path(os.environ.get("SWERVE_HOME") or Path.home() / ".swerve")


def project_dir(cwd: str) -> Path:
    """The home subdirectory that holds one project's sessions and checkpoints."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", os.path.abspath(cwd)).strip("-") or "root"
    return swerve_home() / "projects" / slug[-120:]


def cache_root() -> Path:
    """``$SWERVE_CACHE``, else ``$XDG_CACHE_HOME/swerve``, else ``~/.cache/swerve``."""
    if os.environ.get("SWERVE_CACHE"):
        return Path(os.environ["SWERVE_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "swerve"

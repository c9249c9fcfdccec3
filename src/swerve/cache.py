"""Where swerve keeps what it builds and downloads."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """``$SWERVE_CACHE``, else ``$XDG_CACHE_HOME/swerve``, else ``~/.cache/swerve``."""
    if os.environ.get("SWERVE_CACHE"):
        return Path(os.environ["SWERVE_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "swerve"

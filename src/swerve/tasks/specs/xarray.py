"""Specs of xarray: Python 3.10 and the optional I/O and array backends its tests use."""

from __future__ import annotations

from swerve.tasks.specs.base import RepoSpec

SPECS: dict[str, dict[str, RepoSpec]] = {}
INSTANCE_PINS: dict[str, str] = {}

"""Specs of astropy: compiled extensions, built once per environment layer."""

from __future__ import annotations

from swerve.tasks.specs.base import RepoSpec

SPECS: dict[str, dict[str, RepoSpec]] = {}
INSTANCE_PINS: dict[str, str] = {}

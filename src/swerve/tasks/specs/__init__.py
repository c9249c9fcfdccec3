"""Environment and test facts for the SWE-bench repositories that can be built here.

One entry per (repository, version) in a module per family of repositories; this module joins
them and answers lookups. Instances of repositories missing here still load; they are reported
environment-unavailable with "no environment spec" as the cause.
"""

from __future__ import annotations

from swerve.tasks.specs import astropy, dev_split, devtools, scientific, sphinx, sqlfluff, xarray
from swerve.tasks.specs.base import (
    DJANGO_TEST,
    PYTEST_NO_HEADER,
    PYTEST_RA,
    SPHINX_TEST,
    SYMPY_TEST,
    RepoSpec,
)

_FAMILIES = (devtools, scientific, sphinx, astropy, xarray, dev_split, sqlfluff)
SPECS: dict[str, dict[str, RepoSpec]] = {repo: table for f in _FAMILIES for repo, table in f.SPECS.items()}
# Instances whose own environment differs from their version's shared pins (read from the same
# per-instance environment files), and dependencies a gold patch adds that the sandbox, having no
# network, cannot fetch when the eval script reinstalls the repository.
INSTANCE_PINS: dict[str, str] = {iid: pins for f in _FAMILIES for iid, pins in f.INSTANCE_PINS.items()}


# Test commands of repositories we know but cannot build here (for classic instances without
# an eval_script, and for users who bring their own environment spec).
TEST_COMMANDS: dict[str, str] = {
    "django/django": DJANGO_TEST,
    "mwaskom/seaborn": PYTEST_NO_HEADER,
    "sympy/sympy": SYMPY_TEST,
    "sphinx-doc/sphinx": SPHINX_TEST,
    "astropy/astropy": PYTEST_RA,
}


def instance_pins(instance_id: str) -> tuple[str, ...]:
    """Pins of one instance that differ from its version's shared set."""
    return tuple(INSTANCE_PINS.get(instance_id, "").split())


def spec_for(repo: str, version: str) -> RepoSpec | None:
    """The spec for ``repo`` at ``version``, or None when this table has none."""
    return SPECS.get(repo, {}).get(version)


def test_command_for(repo: str, version: str) -> str:
    """The test command SWE-bench runs for ``repo`` (pytest's when nothing else is known)."""
    spec = spec_for(repo, version)
    if spec is not None:
        return spec.test_cmd
    return TEST_COMMANDS.get(repo, PYTEST_RA)

"""What a spec is, and the test commands and install step the families share.

A spec gives, for one (repository, version): the Python it needs, the pins of its venv (the
conda-only entries of SWE-bench's environments re-pinned for pip, the test runner pinned as the
dataset pins it), the commands that prepare and install the checkout, and the test command. The
pins were read from the per-instance environment files SWE-bench publishes for Verified (the most
common set per version); the commands from its per-repository specifications.
"""

from __future__ import annotations

from dataclasses import dataclass

from swerve.tasks.model import EnvSpec

PYTEST_RA = "pytest -rA"
PYTEST_NO_HEADER = "pytest --no-header -rA"
SYMPY_TEST = "PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' bin/test -C --verbose"
SPHINX_TEST = "tox --current-env -epy39 -v --"
DJANGO_TEST = "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1"

# Installs the checkout in editable mode into the per-instance venv, with whatever dependencies the
# env lacks (from PyPI, at layer-build time only; what the env has and satisfies is kept).
EDITABLE = "python -m pip install -e ."


@dataclass(frozen=True)
class RepoSpec:
    """What one (repository, version) needs."""

    python: str
    pins: str  # whitespace-separated pip requirements
    test_cmd: str = PYTEST_RA
    install: tuple[str, ...] = (EDITABLE,)
    pre_install: tuple[str, ...] = ()
    eval_env: tuple[tuple[str, str], ...] = ()
    system_tools: tuple[str, ...] = ()
    services: tuple[str, ...] = ()  # loopback stand-ins for the tests ("httpbin": swerve.eval.services)
    compiler_cache: bool = False
    build_pins: tuple[str, ...] = ()  # constraints on the builds of the pins' sdists
    optional_files: tuple[str, ...] = ()  # files a snapshot may lack (see EnvSpec)

    def env_spec(self) -> EnvSpec:
        return EnvSpec(
            python=self.python,
            pins=tuple(self.pins.split()),
            pre_install=self.pre_install,
            install=self.install,
            eval_env=self.eval_env,
            system_tools=self.system_tools,
            services=self.services,
            compiler_cache=self.compiler_cache,
            build_pins=self.build_pins,
            optional_files=self.optional_files,
        )


def versions(names: str, spec: RepoSpec) -> dict[str, RepoSpec]:
    """The same spec for each of the space-separated ``names``."""
    return {v: spec for v in names.split()}

"""Sphinx before 5 names its help extensions with no version; the spec's pre-install caps them at
the releases that still accept that Sphinx, run by a real shell on a real setup.py."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from swerve.tasks.specs import instance_pins, spec_for

# install_requires as sphinx 3.x-4.1 writes it (unversioned), and as 4.2-4.3 writes some of it
SETUP_PY = """\
from setuptools import setup
install_requires = [
    'sphinxcontrib-applehelp',
    'sphinxcontrib-devhelp',
    'sphinxcontrib-jsmath',
    'sphinxcontrib-htmlhelp',
    'sphinxcontrib-serializinghtml',
    'sphinxcontrib-qthelp',
    'Jinja2>=2.3',
    'alabaster>=0.7,<0.8',
    'packaging',
]
setup(name='Sphinx', install_requires=install_requires)
"""
# the newest releases that still work with Sphinx 3-4
CAPS = {
    "sphinxcontrib-applehelp": "1.0.7",
    "sphinxcontrib-devhelp": "1.0.5",
    "sphinxcontrib-jsmath": "1.0.1",
    "sphinxcontrib-htmlhelp": "2.0.4",
    "sphinxcontrib-serializinghtml": "1.1.9",
    "sphinxcontrib-qthelp": "1.0.6",
    "jinja2": "2.11.3",
}


def _requirements_after_pre_install(tmp_path: Path, version: str) -> dict[str, Requirement]:
    spec = spec_for("sphinx-doc/sphinx", version)
    assert spec is not None
    (tmp_path / "setup.py").write_text(SETUP_PY)
    (tmp_path / "tox.ini").write_text("[testenv]\ncommands = pytest\n")
    for command in spec.pre_install:
        subprocess.run(["bash", "-c", command], cwd=tmp_path, check=True)
    tree = ast.parse((tmp_path / "setup.py").read_text())
    listed = next(n.value for n in ast.walk(tree) if isinstance(n, ast.Assign))
    reqs = [Requirement(ast.literal_eval(e)) for e in listed.elts]  # type: ignore[attr-defined]
    return {r.name.lower(): r for r in reqs}


@pytest.mark.parametrize("version", ["3.0", "3.4", "4.1", "4.3"])
def test_old_sphinx_help_extensions_are_capped(tmp_path: Path, version: str) -> None:
    reqs = _requirements_after_pre_install(tmp_path, version)
    for name, newest in CAPS.items():
        spec = reqs[name].specifier
        assert spec.contains(Version(newest)), f"{name} {spec} rejects {newest}"
        assert not spec.contains("99"), f"{name} is not capped on sphinx {version}"
    assert "markupsafe" in reqs
    assert "pytest -rA" in (tmp_path / "tox.ini").read_text()


def test_sphinx_10325_gets_the_docutils_its_setup_asks_for() -> None:
    assert "docutils==0.17.1" in instance_pins("sphinx-doc__sphinx-10325")

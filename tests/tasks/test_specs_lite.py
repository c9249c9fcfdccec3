"""Specs cover every SWE-bench Lite and Verified version of the developer-tool repositories, seaborn
and sympy, and every pin is an exact, parseable requirement."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from swerve.tasks.specs import INSTANCE_PINS, SPECS, spec_for

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "swebench"
REPOS = (
    "psf/requests",
    "pallets/flask",
    "pytest-dev/pytest",
    "mwaskom/seaborn",
    "pylint-dev/pylint",
    "sympy/sympy",
)
# The (repository, version) pairs of SWE-bench Lite whose specs were added for Lite (not in Verified).
LITE_ONLY = (
    ("mwaskom/seaborn", "0.13"),
    ("pallets/flask", "2.0"),
    ("psf/requests", "0.14"),
    ("psf/requests", "2.7"),
    ("psf/requests", "2.10"),
    ("pylint-dev/pylint", "2.13"),
    ("pytest-dev/pytest", "4.4"),
    ("pytest-dev/pytest", "7.0"),
    ("pytest-dev/pytest", "8.0"),
    ("sympy/sympy", "1.13"),
)


def exact_pins(pins: tuple[str, ...] | list[str], where: str) -> dict[str, str]:
    """Name -> version of ``pins``; fails unless each is ``name==version`` and no name repeats."""
    seen: dict[str, str] = {}
    for pin in pins:
        try:
            req = Requirement(pin)
        except InvalidRequirement as e:
            pytest.fail(f"{where}: {pin!r} is not a requirement: {e}")
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"{where}: {pin!r} is not an exact pin"
        name = canonicalize_name(req.name)
        assert name not in seen, f"{where}: {name} pinned twice ({seen[name]} and {specs[0].version})"
        seen[name] = specs[0].version
    return seen


@pytest.mark.parametrize(("repo", "version"), LITE_ONLY)
def test_lite_only_versions_have_specs(repo: str, version: str) -> None:
    spec = spec_for(repo, version)
    assert spec is not None, f"no spec for {repo} {version}"
    pins = exact_pins(spec.env_spec().pins, f"{repo} {version}")
    assert pins, f"{repo} {version} pins nothing"
    assert spec.python.count(".") == 1 and all(p.isdigit() for p in spec.python.split("."))


def test_old_pytest_keeps_its_own_pluggy() -> None:
    # pytest 4.4 asks for pluggy<1.0 and pytest 8.0 for pluggy>=1.2: the pins must honour both.
    old = exact_pins(spec_for("pytest-dev/pytest", "4.4").env_spec().pins, "pytest 4.4")  # type: ignore[union-attr]
    new = exact_pins(spec_for("pytest-dev/pytest", "8.0").env_spec().pins, "pytest 8.0")  # type: ignore[union-attr]
    assert old["pluggy"].startswith("0."), old["pluggy"]
    assert not new["pluggy"].startswith("0."), new["pluggy"]


@pytest.mark.parametrize("repo", REPOS)
def test_every_pin_of_these_repos_is_exact(repo: str) -> None:
    for version, spec in SPECS[repo].items():
        exact_pins(spec.env_spec().pins, f"{repo} {version}")


def test_instance_pins_are_exact() -> None:
    for iid, pins in INSTANCE_PINS.items():
        exact_pins(pins.split(), iid)


def dataset_versions(name: str, repos: tuple[str, ...]) -> set[tuple[str, str]]:
    """The (repository, version) pairs of a shared SWE-bench parquet among ``repos``."""
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow (the tasks extra) is needed for parquet")
    path = DATA / name
    if not path.exists():
        pytest.skip(f"shared SWE-bench data not present at {path}")
    rows = pq.read_table(path, columns=["repo", "version"]).to_pylist()
    return {(r["repo"], r["version"]) for r in rows if r["repo"] in repos}


@pytest.mark.parametrize("name", ["SWE-bench_Lite_test.parquet", "SWE-bench_Verified_test.parquet"])
def test_every_dataset_version_has_a_spec(name: str) -> None:
    pairs = dataset_versions(name, REPOS)
    assert pairs, f"{name} has none of {REPOS}"
    missing = sorted(p for p in pairs if spec_for(*p) is None)
    assert not missing, f"{name}: no spec for {missing}"

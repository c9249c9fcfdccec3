"""Specs cover every SWE-bench dev and Lite-dev version of the dev split's reachable repositories,
with exact pins, a pytest whose summary SWE-bench's log parsers can read, and build pins that keep
old sdists buildable."""

from __future__ import annotations

import pytest
from packaging.version import Version
from test_specs_lite import dataset_versions, exact_pins

from swerve.tasks.specs import SPECS, spec_for

REPOS = (
    "marshmallow-code/marshmallow",
    "pylint-dev/astroid",
    "pvlib/pvlib-python",
    "pydicom/pydicom",
    "sqlfluff/sqlfluff",
)


@pytest.mark.parametrize("repo", REPOS)
def test_every_dev_pin_is_exact_and_pytest_is_6_or_newer(repo: str) -> None:
    for version, spec in SPECS[repo].items():
        pins = exact_pins(spec.env_spec().pins, f"{repo} {version}")
        assert Version(pins["pytest"]) >= Version("6"), f"{repo} {version}: pytest {pins['pytest']}"
        assert "setuptools<71" in spec.env_spec().build_pins, f"{repo} {version}"
        assert "build_pins" in spec.env_spec().to_dict()


# the newest numpy minor each numba minor supports (numba's release notes); older numbas declare
# no upper bound, so a resolver can pair them with a numpy they fail to import against
NUMBA_NUMPY_MAX = {"0.53": 20, "0.54": 20, "0.55": 21, "0.56": 23, "0.57": 24, "0.58": 25, "0.59": 26}


def test_pvlib_numba_imports_with_its_numpy_on_python_3_9() -> None:
    for version, spec in SPECS["pvlib/pvlib-python"].items():
        pins = exact_pins(spec.env_spec().pins, f"pvlib {version}")
        numba = ".".join(pins["numba"].split(".")[:2])
        assert numba in NUMBA_NUMPY_MAX, f"pvlib {version}: numba {pins['numba']} has no Python 3.9 wheels"
        numpy_minor = Version(pins["numpy"]).minor
        assert numpy_minor <= NUMBA_NUMPY_MAX[numba], f"pvlib {version}: numba {numba}, numpy {pins['numpy']}"


def test_pydicom_keeps_swebench_pythons() -> None:
    pythons = {v: spec_for("pydicom/pydicom", v).python for v in ("1.2", "1.4", "2.1", "2.3")}  # type: ignore[union-attr]
    assert pythons == {"1.2": "3.6", "1.4": "3.8", "2.1": "3.9", "2.3": "3.10"}


@pytest.mark.parametrize("name", ["SWE-bench_dev.parquet", "SWE-bench_Lite_dev.parquet"])
def test_every_dev_version_of_these_repos_has_a_spec(name: str) -> None:
    pairs = dataset_versions(name, REPOS)
    assert {repo for repo, _ in pairs} == set(REPOS)
    missing = sorted(p for p in pairs if spec_for(*p) is None)
    assert not missing, f"{name}: no spec for {missing}"


def test_pydicom_has_its_test_data_and_a_pytest_that_calls_nose_style_setup() -> None:
    for version, spec in SPECS["pydicom/pydicom"].items():
        pins = exact_pins(spec.env_spec().pins, f"pydicom {version}")
        assert Version(pins["pytest"]) < Version("8"), f"pydicom {version}: pytest {pins['pytest']}"
        if Version(version) >= Version("2.0"):
            assert "pydicom-data" in pins, f"pydicom {version}: its larger test files are downloaded"


def test_pvlib_on_numpy_with_avx512_kernels_runs_on_the_baseline_ones() -> None:
    for version, spec in SPECS["pvlib/pvlib-python"].items():
        pins = exact_pins(spec.env_spec().pins, f"pvlib {version}")
        if Version(pins["numpy"]) >= Version("1.22"):
            assert ("NPY_DISABLE_CPU_FEATURES", "AVX512_SKX") in spec.env_spec().eval_env, f"pvlib {version}"

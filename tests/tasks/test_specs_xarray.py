"""xarray's spec table, and the conda-to-pip mapping of bench/swebench_env_pins.py."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from swerve.tasks.specs import instance_pins, spec_for
from swerve.tasks.specs import xarray as xarray_specs

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "swebench"


def _pins_tool():
    path = ROOT / "bench" / "swebench_env_pins.py"
    spec = importlib.util.spec_from_file_location("swebench_env_pins", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


ENV_YML = """\
name: testbed
channels:
  - defaults
  - conda-forge
dependencies:
  - _libgcc_mutex=0.1=conda_forge
  - bottleneck=1.4.0=py310hf462985_2
  - cached-property=1.5.2=hd8ed1ab_1
  - cached_property=1.5.2=pyha770c72_1
  - cdms2=3.1.5=py310h366d46e_22
  - hdf5=1.14.3=nompi_hdf9ad27_105
  - iris=3.10.0=pyha770c72_1
  - libnetcdf=4.9.2=nompi_h135f659_114
  - matplotlib-base=3.9.2=py310h68603db_1
  - msgpack-python=1.1.0=py310h3788b33_0
  - numpy=1.26.4=py310hb13e2d6_0
  - pip=24.2=pyh8b19718_1
  - python=3.10.15=h4a871b0_1_cpython
  - python-tzdata=2024.2=pyhd8ed1ab_0
  - tzdata=2024b=hc8b5060_0
  - pip:
      - numpy==1.23.0
      - pytest==7.4.0
prefix: /opt/miniconda3/envs/testbed
"""


def test_conda_entries_map_to_pip_requirements() -> None:
    tool = _pins_tool()
    env = tool.parse_env_yml(ENV_YML)
    assert env.pip == ["numpy==1.23.0", "pytest==7.4.0"]
    reqs, dropped = tool.pip_requirements(env)
    assert sorted(reqs.values()) == [
        "bottleneck==1.4.0",
        "cached-property==1.5.2",  # from the pyh… build; the hd8ed1ab metapackage is dropped
        "matplotlib==3.9.2",
        "msgpack==1.1.0",
        "numpy==1.23.0",  # the pip section wins over conda's numpy
        "pytest==7.4.0",
        "scitools-iris==3.10.0",
        "tzdata==2024.2",
    ]
    assert dropped["cdms2=3.1.5"].startswith("conda-only")
    for system in ("_libgcc_mutex=0.1", "hdf5=1.14.3", "libnetcdf=4.9.2", "tzdata=2024b"):
        assert "not a Python package" in dropped[system], system
    assert dropped["python=3.10.15"] == "the interpreter itself"
    assert "pip=24.2" in dropped


def test_an_unreadable_dependency_line_is_an_error() -> None:
    tool = _pins_tool()
    with pytest.raises(ValueError, match="unreadable dependency line"):
        tool.parse_env_yml("dependencies:\n  numpy\n")


def test_the_table_covers_every_xarray_version_in_the_data() -> None:
    pytest.importorskip("pyarrow", reason="pyarrow (the tasks extra) is needed for parquet")
    import pyarrow.parquet as pq

    files = sorted(DATA.glob("SWE-bench*.parquet"))
    if not files:
        pytest.skip(f"shared SWE-bench data not present at {DATA}")
    seen = set()
    for path in files:
        for row in pq.read_table(path, columns=["instance_id", "repo", "version"]).to_pylist():
            if row["repo"] != "pydata/xarray":
                continue
            seen.add(row["version"])
            spec = spec_for("pydata/xarray", row["version"])
            assert spec is not None, (row["instance_id"], row["version"])
            assert spec.python == "3.10"
            pins = spec.env_spec().pins + instance_pins(row["instance_id"])
            assert any(p.startswith("numpy==") for p in pins), row["instance_id"]
    assert seen, "no xarray instance in the data"
    assert seen <= set(xarray_specs.SPECS["pydata/xarray"])


def test_every_pin_is_exact_and_every_version_pins_swebench_pip_section() -> None:
    for version, spec in xarray_specs.SPECS["pydata/xarray"].items():
        pins = spec.env_spec().pins
        assert pins and all("==" in p for p in pins), version
        names = {p.split("==")[0] for p in pins}
        assert len(names) == len(pins), f"{version}: a package pinned twice"
        for must in ("numpy==1.23.0", "pandas==1.5.3", "pytest==7.4.0", "dask==2022.8.1"):
            assert must in pins, (version, must)

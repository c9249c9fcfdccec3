"""Astropy's specs, and the compiler cache its instance layers build through."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from swerve.errors import EnvUnavailable
from swerve.tasks.envbuild import CCACHE_FOLDER, build_instance_layer, compiler_cache_env, ensure_env
from swerve.tasks.model import EnvSpec
from swerve.tasks.specs import INSTANCE_PINS, SPECS, instance_pins, spec_for

HERE_PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"
DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "swebench"
# the astropy versions of SWE-bench Verified and Lite (test), as their parquet files list them
DATASET_VERSIONS = {"1.3", "3.1", "4.3", "5.0", "5.1", "5.2"}


def test_every_dataset_version_has_a_spec() -> None:
    for version in sorted(DATASET_VERSIONS):
        spec = spec_for("astropy/astropy", version)
        assert spec is not None, version
        assert spec.compiler_cache and spec.env_spec().compiler_cache
    assert spec_for("astropy/astropy", "9.9") is None


def test_versions_match_the_shipped_data_when_present() -> None:
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow (the tasks extra) reads the parquet files")
    files = [DATA / "SWE-bench_Verified_test.parquet", DATA / "SWE-bench_Lite_test.parquet"]
    if not all(f.exists() for f in files):
        pytest.skip(f"shared SWE-bench data not present at {DATA}")
    seen = {
        row["version"]
        for f in files
        for row in pq.read_table(f, columns=["repo", "version"]).to_pylist()
        if row["repo"] == "astropy/astropy"
    }
    assert seen == DATASET_VERSIONS


def test_pins_parse_as_exact_requirements() -> None:
    for version, spec in SPECS["astropy/astropy"].items():
        names = [Requirement(p).name.lower() for p in spec.pins.split()]
        assert len(names) == len(set(names)), version  # one pin per package
        for pin in spec.pins.split():
            assert len(Requirement(pin).specifier) == 1 and "==" in pin, pin
    for iid in (i for i in INSTANCE_PINS if i.startswith("astropy__")):
        assert all(Requirement(p).specifier for p in instance_pins(iid))


def test_compiler_cache_only_changes_the_keys_of_specs_that_use_it() -> None:
    assert "compiler_cache" not in EnvSpec(python="3.9").to_dict()
    assert EnvSpec(python="3.9", compiler_cache=True).to_dict()["compiler_cache"] is True


def _stats(variables: dict[str, str]) -> dict[str, int]:
    out = subprocess.run(
        ["ccache", "--print-stats"], env=variables, capture_output=True, text=True, check=True
    ).stdout
    return {k: int(v) for k, v in (line.split("\t") for line in out.splitlines() if "\t" in line)}


def test_a_c_extension_built_at_a_second_checkout_path_hits_the_cache(tmp_path: Path) -> None:
    if shutil.which("ccache") is None or shutil.which("gcc") is None:
        pytest.skip("ccache and gcc are needed (apt-get install -y ccache gcc)")
    env = asyncio.run(ensure_env(EnvSpec(python=HERE_PYTHON), cache=tmp_path / "cache"))
    probe = subprocess.run([f"{env.path}/bin/python", "-c", "import setuptools"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("this Python's venvs come without setuptools, so no extension can be built offline")
    project = tmp_path / "proj"
    project.mkdir()
    (project / "tiny.c").write_text(
        "#include <Python.h>\n"
        "static PyObject *answer(PyObject *s, PyObject *a) { return PyLong_FromLong(42); }\n"
        'static PyMethodDef M[] = {{"answer", answer, METH_NOARGS, ""}, {0}};\n'
        'static struct PyModuleDef D = {PyModuleDef_HEAD_INIT, "tiny", 0, -1, M};\n'
        "PyMODINIT_FUNC PyInit_tiny(void) { return PyModule_Create(&D); }\n"
    )
    (project / "setup.py").write_text(
        "from setuptools import Extension, setup\n"
        "setup(name='tiny', version='1.0', ext_modules=[Extension('tiny', ['tiny.c'])])\n"
    )
    spec = EnvSpec(
        python=HERE_PYTHON, install=("python setup.py -q build_ext --inplace",), compiler_cache=True
    )
    variables = {"PATH": "/usr/bin:/bin", **compiler_cache_env(env, str(tmp_path))}
    counts = []
    for name in ("one", "two"):
        layer = asyncio.run(
            build_instance_layer(
                tmp_path / "instances" / name,
                source=("dir", str(project)),
                base_commit="",
                env=env,
                spec=spec,
            )
        )
        got = subprocess.run(
            [f"{layer.venv}/bin/python", "-c", "import tiny; print(tiny.answer())"],
            cwd=layer.testbed,
            capture_output=True,
            text=True,
        )
        assert got.stdout.strip() == "42", got.stderr
        stats = _stats(variables)
        counts.append(stats.get("direct_cache_hit", 0) + stats.get("preprocessed_cache_hit", 0))
        assert stats.get("cache_miss", 0) == 1, json.dumps(stats)  # the first compile only
    assert counts == [0, 1]  # the second checkout, at another path, compiled nothing
    # the cache lives in the env layer (which a sandbox shows read-only); evaluations only read it
    activate = (tmp_path / "instances" / "two" / "activate.sh").read_text()
    assert f"CCACHE_DIR={env.path}/{CCACHE_FOLDER}/store" in activate
    assert "CCACHE_READONLY=1" in activate and "CCACHE_TEMPDIR=" in activate


def test_a_snapshot_missing_a_blob_is_environment_unavailable(tmp_path: Path) -> None:
    repo = tmp_path / "snap"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "small.txt").write_text("kept\n")
    (repo / "big.dat").write_text("absent from the snapshot\n")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    blob = subprocess.run([*git, "rev-parse", "HEAD:big.dat"], capture_output=True, text=True).stdout.strip()
    (repo / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    env = asyncio.run(ensure_env(EnvSpec(python=HERE_PYTHON), cache=tmp_path / "cache"))
    with pytest.raises(EnvUnavailable, match=r"snapshot lacks 1 file\(s\).*big\.dat"):
        asyncio.run(
            build_instance_layer(
                tmp_path / "layer",
                source=("git", str(repo)),
                base_commit=head,
                env=env,
                spec=EnvSpec(python=HERE_PYTHON),
            )
        )
    # a spec that names the file optional checks out the rest, and no diff shows the file deleted
    layer = asyncio.run(
        build_instance_layer(
            tmp_path / "layer",
            source=("git", str(repo)),
            base_commit=head,
            env=env,
            spec=EnvSpec(python=HERE_PYTHON, optional_files=("big.dat",)),
        )
    )
    assert (Path(layer.testbed) / "small.txt").read_text() == "kept\n"
    assert not (Path(layer.testbed) / "big.dat").exists()
    diff = subprocess.run(
        ["git", "-C", layer.testbed, "diff", "HEAD", "--stat"], capture_output=True, text=True
    )
    assert diff.returncode == 0 and diff.stdout == ""

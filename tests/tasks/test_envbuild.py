"""Env layers and instance layers: real venvs, real pip, a real git checkout."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from swerve.errors import EnvUnavailable
from swerve.tasks.envbuild import ENV_MARKER, build_instance_layer, ensure_env, find_python, site_packages
from swerve.tasks.model import EnvSpec
from swerve.tasks.specs import SPECS, spec_for

HERE_PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"


def test_find_python() -> None:
    found = find_python(HERE_PYTHON)
    assert found and os.access(found, os.X_OK)
    assert find_python("2.0") is None
    assert find_python("") is not None


def test_missing_python_is_environment_unavailable(tmp_path: Path) -> None:
    with pytest.raises(EnvUnavailable, match=r"no Python 2\.0 on this machine"):
        asyncio.run(ensure_env(EnvSpec(python="2.0"), cache=tmp_path))


def test_env_is_built_once_and_reused(tmp_path: Path) -> None:
    spec = EnvSpec(python=HERE_PYTHON)  # no pins: no network needed
    first = asyncio.run(ensure_env(spec, cache=tmp_path, label="x/y"))
    marker = Path(first.path) / ENV_MARKER
    assert json.loads(marker.read_text())["key"] == first.key
    stamp = marker.stat().st_mtime_ns
    again = asyncio.run(ensure_env(spec, cache=tmp_path, label="x/y"))
    assert again == first and marker.stat().st_mtime_ns == stamp
    both = asyncio.run(_two_at_once(spec, tmp_path / "other"))
    assert both[0] == both[1]  # concurrent callers share one build


async def _two_at_once(spec: EnvSpec, cache: Path):
    return await asyncio.gather(ensure_env(spec, cache=cache), ensure_env(spec, cache=cache))


def test_instance_layer_sees_the_env_and_installs_only_into_itself(tmp_path: Path) -> None:
    env = asyncio.run(ensure_env(EnvSpec(python=HERE_PYTHON), cache=tmp_path / "cache"))
    project = tmp_path / "proj"
    (project / "demo_pkg").mkdir(parents=True)
    (project / "demo_pkg" / "__init__.py").write_text("VALUE = 42\n")
    (project / "setup.py").write_text(
        "from setuptools import setup\nsetup(name='demo-pkg', version='1.0', packages=['demo_pkg'])\n"
    )
    spec = EnvSpec(
        python=HERE_PYTHON, install=("python -m pip install --no-index --no-build-isolation --no-deps -e .",)
    )
    has_setuptools = subprocess.run(
        [f"{env.path}/bin/python", "-c", "import setuptools"], capture_output=True
    )
    if has_setuptools.returncode != 0:
        pytest.skip("this Python's venvs come without setuptools, so nothing can be built offline")
    before = sorted(os.listdir(env.site_packages))
    layer = asyncio.run(
        build_instance_layer(
            tmp_path / "layer", source=("dir", str(project)), base_commit="", env=env, spec=spec
        )
    )
    assert sorted(os.listdir(env.site_packages)) == before  # the env stays as built
    python = f"{layer.venv}/bin/python"
    out = subprocess.run(
        [python, "-c", "import sys, pip; print(sys.prefix); print(pip.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out[0] == layer.venv and out[1].startswith(env.site_packages)  # own prefix, env's pip
    log = subprocess.run(
        ["git", "-C", layer.testbed, "log", "--format=%s"], capture_output=True, text=True
    ).stdout
    assert log.strip() == "base"  # a plain folder became a one-commit repository
    got = subprocess.run(
        [python, "-c", "import demo_pkg; print(demo_pkg.VALUE)"], capture_output=True, text=True
    )
    assert got.stdout.strip() == "42"
    assert any("demo" in name for name in os.listdir(site_packages(layer.venv)))


PROBE_BACKEND = """
import importlib.util, os
with open(os.environ["PROBE_OUT"], "w") as f:
    f.write("seen" if importlib.util.find_spec("env_only_probe") else "hidden")
def get_requires_for_build_wheel(config_settings=None):
    raise RuntimeError("probe recorded")
"""


@pytest.mark.parametrize("version", ["3.9", HERE_PYTHON])
def test_isolated_builds_do_not_see_the_env_layer(tmp_path: Path, version: str) -> None:
    """pip's build isolation hides the instance venv's packages; the env layer's must be hidden
    too, or an old pinned setuptools there shadows the one the project's build asks for."""
    if find_python(version) is None:
        pytest.skip(f"no Python {version} on this machine")
    env = asyncio.run(ensure_env(EnvSpec(python=version), cache=tmp_path / "cache"))
    project = tmp_path / "proj"
    project.mkdir()
    (project / "README").write_text("x\n")
    layer = asyncio.run(
        build_instance_layer(
            tmp_path / "layer",
            source=("dir", str(project)),
            base_commit="",
            env=env,
            spec=EnvSpec(python=version),
        )
    )
    Path(env.site_packages, "env_only_probe.py").write_text("")
    python = f"{layer.venv}/bin/python"
    plain = subprocess.run([python, "-c", "import env_only_probe"], capture_output=True)
    assert plain.returncode == 0  # the layer's own interpreter sees the env
    build = tmp_path / "build"
    build.mkdir()
    (build / "probe_backend.py").write_text(PROBE_BACKEND)
    (build / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "probe_backend"\nbackend-path = ["."]\n'
    )
    out = tmp_path / "seen.txt"
    subprocess.run(
        [python, "-m", "pip", "wheel", "--no-index", "--no-deps", "-w", str(tmp_path / "w"), str(build)],
        capture_output=True,
        env={**os.environ, "PROBE_OUT": str(out), "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    assert out.read_text() == "hidden"


def test_failed_install_step_is_environment_unavailable(tmp_path: Path) -> None:
    env = asyncio.run(ensure_env(EnvSpec(python=HERE_PYTHON), cache=tmp_path / "cache"))
    project = tmp_path / "proj"
    project.mkdir()
    (project / "README").write_text("x\n")
    spec = EnvSpec(python=HERE_PYTHON, install=("echo building; exit 7",))
    with pytest.raises(EnvUnavailable, match=r"install step failed \(exit 7\).*building"):
        asyncio.run(
            build_instance_layer(
                tmp_path / "l", source=("dir", str(project)), base_commit="", env=env, spec=spec
            )
        )
    with pytest.raises(EnvUnavailable, match="cannot check out"):
        asyncio.run(
            build_instance_layer(
                tmp_path / "l2", source=("git", str(project)), base_commit="deadbeef", env=env, spec=spec
            )
        )


def test_spec_table_covers_the_buildable_verified_repositories() -> None:
    assert set(SPECS) >= {
        "psf/requests",
        "pallets/flask",
        "pytest-dev/pytest",
        "sympy/sympy",
        "sphinx-doc/sphinx",
    }
    requests = spec_for("psf/requests", "2.27")
    assert requests is not None and requests.python == "3.9" and "pytest==7.4.4" in requests.pins.split()
    assert spec_for("django/django", "3.0") is None
    for versions in SPECS.values():
        for spec in versions.values():
            pins = spec.pins.split()
            assert all("==" in p for p in pins), pins
            assert len({p.split("==")[0].lower() for p in pins}) == len(pins)  # each package pinned once


def test_a_missing_system_tool_is_environment_unavailable(tmp_path: Path) -> None:
    spec = EnvSpec(python=HERE_PYTHON, system_tools=("swerve-no-such-tool",))
    with pytest.raises(EnvUnavailable, match="the tests need 'swerve-no-such-tool' on this machine"):
        asyncio.run(ensure_env(spec, cache=tmp_path))


def test_activation_expands_layer_paths_and_keeps_pip_offline(tmp_path: Path) -> None:
    from swerve.tasks.envbuild import EnvLayer, InstanceLayer, activation_script

    env = EnvLayer(str(tmp_path / "env"), sys.executable, "3.9", "k")
    (tmp_path / "env" / "lib" / "python3.9" / "site-packages").mkdir(parents=True)
    layer = InstanceLayer(str(tmp_path / "i"), env)
    spec = EnvSpec(eval_env=(("PYTHONPATH", "{testbed}:{instance_site}:{env_site}"), ("X", "a b")))
    text = activation_script(layer, spec, offline=True)
    assert (
        f"export PYTHONPATH={layer.testbed}:{layer.venv}/lib/python3.9/site-packages:{env.site_packages}"
        in text
    )
    assert "export X='a b'" in text
    assert "export PIP_NO_INDEX=1" in text
    assert "PIP_NO_INDEX" not in activation_script(layer, spec, offline=False)


PROBE_SDIST_BACKEND = """
import base64, hashlib, os, zipfile

import fakebuilddep


def get_requires_for_build_wheel(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    info = os.path.join(metadata_directory, "needsdep-1.0.dist-info")
    os.makedirs(info)
    with open(os.path.join(info, "METADATA"), "w") as f:
        f.write("Metadata-Version: 2.1\\nName: needsdep\\nVersion: 1.0\\n")
    return "needsdep-1.0.dist-info"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = {
        "needsdep_seen.py": f"BUILT_WITH = {fakebuilddep.VERSION!r}\\n",
        "needsdep-1.0.dist-info/METADATA": "Metadata-Version: 2.1\\nName: needsdep\\nVersion: 1.0\\n",
        "needsdep-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: probe\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }
    name = "needsdep-1.0-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as whl:
        record = []
        for path, text in files.items():
            whl.writestr(path, text)
            digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
            record.append(f"{path},sha256={digest},{len(text)}")
        record.append("needsdep-1.0.dist-info/RECORD,,")
        whl.writestr("needsdep-1.0.dist-info/RECORD", "\\n".join(record) + "\\n")
    return name
"""


def _wheel(folder: Path, name: str, version: str, files: dict[str, str]) -> None:
    import base64
    import hashlib
    import zipfile

    info = f"{name}-{version}.dist-info"
    files = {
        **files,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    with zipfile.ZipFile(folder / f"{name}-{version}-py3-none-any.whl", "w") as whl:
        for path, text in files.items():
            whl.writestr(path, text)
            digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
            record.append(f"{path},sha256={digest},{len(text)}")
        whl.writestr(f"{info}/RECORD", "\n".join([*record, f"{info}/RECORD,,"]) + "\n")


def test_build_pins_constrain_the_builds_of_sdists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An sdist among the pins is built against the spec's build pins, not the newest release."""
    import tarfile

    from swerve.tasks.envbuild import uv_binary

    if uv_binary() is None:
        pytest.skip("uv is not installed (the env layers' builder when present)")
    links = tmp_path / "links"
    links.mkdir()
    for version in ("1.0", "2.0"):
        _wheel(links, "fakebuilddep", version, {"fakebuilddep.py": f"VERSION = {version!r}\n"})
    src = tmp_path / "needsdep-1.0"
    src.mkdir()
    (src / "probe_backend.py").write_text(PROBE_SDIST_BACKEND)
    (src / "pyproject.toml").write_text(
        '[project]\nname = "needsdep"\nversion = "1.0"\n'
        '[build-system]\nrequires = ["fakebuilddep"]\nbuild-backend = "probe_backend"\nbackend-path = ["."]\n'
    )
    (src / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: needsdep\nVersion: 1.0\n")
    with tarfile.open(links / "needsdep-1.0.tar.gz", "w:gz") as tar:
        tar.add(src, arcname="needsdep-1.0")
    monkeypatch.setenv("UV_FIND_LINKS", str(links))
    monkeypatch.setenv("UV_NO_INDEX", "1")

    def built_with(spec: EnvSpec, cache: Path) -> str:
        monkeypatch.setenv("UV_CACHE_DIR", str(cache / "uv"))  # uv keeps the wheels it built
        env = asyncio.run(ensure_env(spec, cache=cache))
        seen = Path(env.site_packages, "needsdep_seen.py").read_text()
        return seen.split("=", 1)[1].strip().strip("'")

    free = EnvSpec(python=HERE_PYTHON, pins=("needsdep==1.0",))
    held = EnvSpec(python=HERE_PYTHON, pins=("needsdep==1.0",), build_pins=("fakebuilddep<2",))
    assert built_with(free, tmp_path / "a") == "2.0"
    assert built_with(held, tmp_path / "b") == "1.0"
    assert "build_pins" in held.to_dict() and "build_pins" not in free.to_dict()

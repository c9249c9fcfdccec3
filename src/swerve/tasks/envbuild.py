"""Environment layers without docker: one venv per (repository, version), and instance layers.

- The **env layer** is a venv built once from PyPI with the spec's pins, with the Python the spec
  asks for (found on this machine: PATH, pyenv, uv-managed), cached under
  ``$SWERVE_CACHE/envs/<key>`` (default ``~/.cache/swerve``) and never written after it is built,
  except for its compiler cache (``.swerve-ccache``, specs with ``compiler_cache``), which instance
  builds fill and evaluations only read. Built at its final path, so it works read-only from
  inside a sandbox that shows it there.
- The **instance layer** holds the repository checked out at the base commit (``testbed/``) and a
  small per-instance venv (``venv/``) that sees the env layer's packages through a ``.pth`` file
  and gets the repository installed into it. Evaluations run in a fresh copy-on-write sandbox
  over it, so the env stays shared and untouched.

A Python this machine cannot provide, or a build that fails, raises ``EnvUnavailable`` with the
cause; callers report it as environment-unavailable, never as unresolved.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import glob
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

from swerve.errors import EnvUnavailable
from swerve.paths import cache_root
from swerve.tasks.model import EnvSpec

LAYOUT_VERSION = "4"  # bump when the layout of built layers changes
ENV_MARKER = ".swerve-env.json"
INSTANCE_MARKER = ".swerve-instance.json"
BUILD_TIMEOUT_S = 1800.0
_PYTHON_CACHE: dict[str, str | None] = {}
SYSTEM_TOOL_HINTS = {"dot": "apt-get install graphviz"}


# -- finding a Python -----------------------------------------------------------------------------


def _python_candidates(version: str) -> list[str]:
    name = f"python{version}"
    found: list[str] = []
    path_hit = shutil.which(name)
    if path_hit and "/shims/" not in path_hit:
        found.append(path_hit)
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found += sorted(glob.glob(f"{pyenv_root}/versions/{version}.*/bin/{name}"), reverse=True)
    found += sorted(glob.glob(os.path.expanduser(f"~/.local/share/uv/python/cpython-{version}.*/bin/{name}")))
    found += [f"/usr/bin/{name}", f"/usr/local/bin/{name}"]
    if path_hit and path_hit not in found:
        found.append(path_hit)  # a shim last: it may work when a version is selected
    return found


def _reports_version(python: str, version: str) -> bool:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip() == version


def find_python(version: str) -> str | None:
    """An interpreter for ``version`` ("3.9"); "" means the one running swerve. None if none here."""
    if not version:
        return getattr(sys, "_base_executable", None) or sys.executable
    if version not in _PYTHON_CACHE:
        _PYTHON_CACHE[version] = next(
            (p for p in _python_candidates(version) if os.path.exists(p) and _reports_version(p, version)),
            None,
        )
    return _PYTHON_CACHE[version]


def _python_identity(python: str) -> str:
    out = subprocess.run(
        [python, "-c", "import sys, platform; print(sys.version, platform.machine())"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    return out.stdout.strip() or python


# -- running build steps --------------------------------------------------------------------------


async def run_logged(
    argv: list[str], log: Path, *, cwd: str | None = None, env: dict[str, str] | None = None, timeout: float
) -> int:
    """Run ``argv`` with stdout and stderr appended to ``log``; the exit code (124 on timeout)."""
    with open(log, "ab") as out:
        out.write(f"$ {' '.join(argv)}\n".encode())
        out.flush()
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
        try:
            return await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)
            await proc.wait()
            out.write(f"[timed out after {timeout:.0f}s]\n".encode())
            return 124
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)
            raise


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


@contextlib.asynccontextmanager
async def file_lock(path: Path):
    """An exclusive lock on ``path`` shared by every process (and every coroutine) on this machine."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(0.2)
        yield
    finally:
        os.close(fd)  # releases the lock


def uv_binary() -> str | None:
    """The ``uv`` executable, when installed (it builds venvs several times faster than pip)."""
    if os.environ.get("SWERVE_NO_UV"):
        return None
    beside = Path(sys.executable).parent / "uv"
    if beside.exists():
        return str(beside)
    return shutil.which("uv")


def base_env() -> dict[str, str]:
    """The environment for build steps: this one, less anything that would redirect Python or pip."""
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV", "CONDA_PREFIX")
    return {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PIP_")}


# -- env layers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnvLayer:
    """A built venv."""

    path: str
    python: str  # the base interpreter it was built from
    python_version: str  # "3.9"
    key: str

    @property
    def site_packages(self) -> str:
        return site_packages(self.path)

    @property
    def bin(self) -> str:
        return os.path.join(self.path, "bin")


def site_packages(venv: str) -> str:
    hits = glob.glob(os.path.join(venv, "lib", "python*", "site-packages"))
    if not hits:
        raise EnvUnavailable(f"no site-packages in {venv}")
    return hits[0]


def env_key(spec: EnvSpec, python_identity: str) -> str:
    blob = json.dumps([LAYOUT_VERSION, python_identity, sorted(spec.pins)], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


async def ensure_env(spec: EnvSpec, *, cache: Path | None = None, label: str = "") -> EnvLayer:
    """The env layer for ``spec``: from the cache, or built now (once, under a lock)."""
    for tool in spec.system_tools:
        if shutil.which(tool) is None:
            hint = f" ({SYSTEM_TOOL_HINTS[tool]})" if tool in SYSTEM_TOOL_HINTS else ""
            raise EnvUnavailable(f"the tests need '{tool}' on this machine{hint}")
    python = find_python(spec.python)
    if python is None:
        raise EnvUnavailable(f"no Python {spec.python} on this machine (looked on PATH, in pyenv and uv)")
    version = spec.python or f"{sys.version_info[0]}.{sys.version_info[1]}"
    identity = await asyncio.to_thread(_python_identity, python)
    key = env_key(spec, identity)
    root = (cache or cache_root()) / "envs"
    name = f"{label.replace('/', '__') + '-' if label else ''}py{version}-{key}"
    path = root / name
    layer = EnvLayer(str(path), python, version, key)
    if (path / ENV_MARKER).exists():
        return layer
    async with file_lock(root / f"{name}.lock"):
        if (path / ENV_MARKER).exists():
            return layer
        await _build_env(spec, python, path, root / f"{name}.build.log")
        (path / ENV_MARKER).write_text(json.dumps({"spec": spec.to_dict(), "python": identity, "key": key}))
    return layer


def _write_build_constraints(spec: EnvSpec, path: Path) -> bool:
    """Write the spec's build pins as a constraints file; False (and no file) when it has none."""
    if spec.build_pins:
        path.write_text("\n".join(spec.build_pins) + "\n")
    return bool(spec.build_pins)


async def _build_env(spec: EnvSpec, python: str, path: Path, log: Path) -> None:
    if path.exists():
        shutil.rmtree(path)  # a build that died half-way
    log.write_text("")
    env = base_env()
    uv = uv_binary()
    started = time.monotonic()
    constraints = log.with_suffix(".build-constraints.txt")
    if _write_build_constraints(spec, constraints):
        env["PIP_BUILD_CONSTRAINT"] = env["PIP_CONSTRAINT"] = str(constraints)  # pip: older and newer names
    if uv:
        steps = [[uv, "venv", "--quiet", "--seed", "--python", python, str(path)]]
        if spec.pins:
            limit = ["--build-constraints", str(constraints)] if spec.build_pins else []
            steps.append([uv, "pip", "install", "--python", str(path / "bin" / "python"), *limit, *spec.pins])
    else:
        steps = [[python, "-m", "venv", str(path)]]
        if spec.pins:
            steps.append([str(path / "bin" / "python"), "-m", "pip", "install", "--quiet", *spec.pins])
    for argv in steps:
        code = await run_logged(argv, log, env=env, timeout=BUILD_TIMEOUT_S)
        if code != 0:
            shutil.rmtree(path, ignore_errors=True)
            raise EnvUnavailable(f"environment build failed (exit {code}): {_tail(log, 6)}", str(log))
    # Byte-compile everything now: inside a sandbox the env is read-only, and Python would
    # otherwise compile the same modules again on every run. (Some packages ship files that
    # do not compile; that is not a failure.)
    await run_logged(
        [str(path / "bin" / "python"), "-m", "compileall", "-q", "-j", "0", str(path / "lib")],
        log,
        env=env,
        timeout=BUILD_TIMEOUT_S,
    )
    with open(log, "a") as f:
        f.write(f"[built in {time.monotonic() - started:.1f}s with {'uv' if uv else 'pip'}]\n")


# -- compiler cache -------------------------------------------------------------------------------

CCACHE_FOLDER = ".swerve-ccache"
CCACHE_COMPILERS = ("gcc", "cc", "g++", "c++", "x86_64-linux-gnu-gcc", "x86_64-linux-gnu-g++")


def compiler_cache_env(env: EnvLayer, base_dir: str, *, temp_dir: str = "") -> dict[str, str]:
    """Variables that send C/C++ compiles through ccache, with one cache per env layer, kept in
    the layer's own ``.swerve-ccache`` folder so that a sandbox, which shows the env layer
    read-only, reads it too. Paths under ``base_dir`` (the instance layer) are hashed as relative,
    so the same sources checked out at another instance's path hit. With ``temp_dir`` the cache
    is only read (evaluations: an offline reinstall recompiles from it, and adds nothing).
    Empty when ccache is missing (the build then compiles everything, as without a cache)."""
    ccache = shutil.which("ccache")
    if ccache is None:
        return {}
    cache_dir = Path(env.path) / CCACHE_FOLDER
    masquerade = cache_dir / "bin"
    if not temp_dir:
        masquerade.mkdir(parents=True, exist_ok=True)
        for name in CCACHE_COMPILERS:
            link = masquerade / name
            if not link.is_symlink():
                with contextlib.suppress(FileExistsError):
                    link.symlink_to(ccache)
    found = {
        "CCACHE_DIR": str(cache_dir / "store"),
        "CCACHE_BASEDIR": base_dir,
        "CCACHE_NOHASHDIR": "1",
        "CCACHE_SLOPPINESS": "include_file_mtime,include_file_ctime,time_macros",
    }
    if temp_dir:
        found.update(CCACHE_READONLY="1", CCACHE_TEMPDIR=temp_dir)
    return {"SWERVE_CCACHE_BIN": str(masquerade), **found}


# -- instance layers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstanceLayer:
    """A checkout plus its own venv over an env layer; ``path`` is the sandbox's writable root."""

    path: str
    env: EnvLayer

    @property
    def testbed(self) -> str:
        return os.path.join(self.path, "testbed")

    @property
    def venv(self) -> str:
        return os.path.join(self.path, "venv")

    @property
    def activate(self) -> str:
        return os.path.join(self.path, "activate.sh")

    @property
    def run_dir(self) -> str:
        return os.path.join(self.path, "run")


def _place_interpreter(base_python: str, target: str) -> None:
    """The venv's ``python`` as a real file (a hard link, else a copy) rather than a symlink, so
    that links made to it (tox-current-env's ``.tox/*/bin/python``) still find this venv: Python
    looks for ``pyvenv.cfg`` beside the fully resolved executable. Falls back to a symlink when
    the file does not run where it is placed (an interpreter that finds its library relatively)."""
    if os.path.lexists(target):
        return
    try:
        os.link(base_python, target)
    except OSError:
        try:
            shutil.copy2(base_python, target)
        except OSError:
            os.symlink(base_python, target)
            return
    probe = subprocess.run([target, "-c", "pass"], capture_output=True, timeout=60)
    if probe.returncode != 0:
        os.unlink(target)
        os.symlink(base_python, target)


def make_overlay_venv(venv: str, env: EnvLayer) -> None:
    """A venv at ``venv`` whose Python also sees ``env``'s packages, and whose ``bin`` runs the
    env's scripts with this venv's Python. Writes only under ``venv``."""
    version = env.python_version
    os.makedirs(os.path.join(venv, "bin"), exist_ok=True)
    own_site = os.path.join(venv, "lib", f"python{version}", "site-packages")
    os.makedirs(own_site, exist_ok=True)
    with open(os.path.join(env.path, "pyvenv.cfg")) as f:
        cfg = f.read()
    with open(os.path.join(venv, "pyvenv.cfg"), "w") as f:
        f.write(cfg)
    base_python = os.path.realpath(os.path.join(env.bin, "python"))
    _place_interpreter(base_python, os.path.join(venv, "bin", "python"))
    for name in ("python3", f"python{version}"):
        link = os.path.join(venv, "bin", name)
        if not os.path.lexists(link):
            os.symlink("python", link)
    # ``known_paths`` is the set of the ``addsitedir`` call reading this file. Passing it on makes
    # the env's folder count as part of this site: pip's build isolation, which re-reads this site
    # to find the paths to drop, then drops the env's too (before 3.11 it would stay visible).
    with open(os.path.join(own_site, "_swerve_env.pth"), "w") as f:
        f.write(f"import site; site.addsitedir({env.site_packages!r}, locals().get('known_paths'))\n")
    python = os.path.join(venv, "bin", "python")
    for entry in sorted(os.listdir(env.bin)):
        source = os.path.join(env.bin, entry)
        target = os.path.join(venv, "bin", entry)
        if os.path.lexists(target) or not os.path.isfile(source) or entry.startswith(("python", "activate")):
            continue
        try:
            with open(source, "rb") as f:
                first = f.readline()
        except OSError:
            continue
        if first.startswith(b"#!") and b"python" in first:
            with open(target, "w") as f:
                f.write(f'#!/bin/sh\nexec "{python}" "{source}" "$@"\n')
            os.chmod(target, 0o755)


def activation_script(layer: InstanceLayer, spec: EnvSpec, *, offline: bool) -> str:
    """Shell lines that put the instance venv first and keep pip off the network when offline."""
    lines = [
        f"export VIRTUAL_ENV={layer.venv}",
        f'export PATH={layer.venv}/bin:"$PATH"',
        f"export HOME={layer.path}/home",
        "unset PYTHONPATH PYTHONHOME CONDA_PREFIX",
        "export PIP_DISABLE_PIP_VERSION_CHECK=1",
        # editable installs put the checkout itself on sys.path (as ``setup.py develop`` did), not
        # an import hook: tools that map files to modules through sys.path (astroid) need that
        "export PIP_CONFIG_SETTINGS=editable_mode=compat",
    ]
    if offline:
        lines += ["export PIP_NO_INDEX=1", "export PIP_NO_BUILD_ISOLATION=0"]
    elif spec.build_pins:
        # the online install builds the checkout in an isolated env: hold its setuptools as well
        held = shlex.quote(os.path.join(layer.path, "build-constraints.txt"))
        lines += [f"export PIP_BUILD_CONSTRAINT={held}", f"export PIP_CONSTRAINT={held}"]
    places = {
        "{instance_site}": os.path.join(
            layer.venv, "lib", f"python{layer.env.python_version}", "site-packages"
        ),
        "{env_site}": layer.env.site_packages,
        "{testbed}": layer.testbed,
    }
    if spec.compiler_cache:
        temp = os.path.join(layer.path, "home", ".ccache-tmp") if offline else ""
        cached = compiler_cache_env(layer.env, layer.path, temp_dir=temp)
        if cached:
            lines.append(f'export PATH={shlex.quote(cached.pop("SWERVE_CCACHE_BIN"))}:"$PATH"')
            lines += [f"export {k}={shlex.quote(v)}" for k, v in cached.items()]
    for key, value in spec.eval_env:
        for mark, path in places.items():
            value = value.replace(mark, path)
        lines.append(f"export {key}={shlex.quote(value)}")
    return "\n".join(lines) + "\n"


def instance_key(
    task_id: str, source: tuple[str, str], base_commit: str, env: EnvLayer, spec: EnvSpec
) -> str:
    blob = json.dumps(
        [LAYOUT_VERSION, task_id, list(source), base_commit, env.key, spec.to_dict()], sort_keys=True
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


async def _checkout(
    source: tuple[str, str],
    base_commit: str,
    testbed: str,
    log: Path,
    timeout: float,
    optional: tuple[str, ...] = (),
) -> None:
    """Materialise the task's code at ``testbed`` as a git work tree at its starting state."""
    from swerve.tasks.repos import GIT_IDENTITY, unpack_archive

    kind, location = source
    git_env = {**base_env(), "GIT_TERMINAL_PROMPT": "0"}
    if kind == "git":
        steps = [["git", "clone", "--quiet", "--no-checkout", location, testbed]]
        steps.append(
            [
                "git",
                "-C",
                testbed,
                "-c",
                "advice.detachedHead=false",
                "checkout",
                "--quiet",
                base_commit or "HEAD",
            ]
        )
        steps.append(["git", "-C", testbed, "remote", "remove", "origin"])
    else:
        try:
            if kind == "sdist":
                await asyncio.to_thread(unpack_archive, location, Path(testbed))
            else:
                await asyncio.to_thread(shutil.copytree, location, testbed, symlinks=True)
        except (OSError, ValueError, tarfile.TarError) as exc:
            raise EnvUnavailable(f"cannot unpack {location}: {exc}", str(log)) from None
        steps = []
        if not os.path.exists(os.path.join(testbed, ".git")):
            steps.append(["git", "-C", testbed, "init", "--quiet"])
        steps += [
            ["git", "-C", testbed, "add", "--all", "--force"],
            ["git", "-C", testbed, *GIT_IDENTITY, "commit", "--quiet", "--allow-empty", "-m", "base"],
        ]
    for argv in steps:
        code = await run_logged(argv, log, env=git_env, timeout=timeout)
        if code != 0:
            what = f"{base_commit[:12]} from {location}" if kind == "git" else location
            raise EnvUnavailable(f"cannot check out {what}: {_tail(log, 3)}", str(log))
    if kind == "git":
        # a snapshot may lack some blobs (its largest files): git leaves those files out and
        # may still exit 0, and tests would then fail for a reason that is not the patch's
        missing = await asyncio.to_thread(
            subprocess.run,
            ["git", "-C", testbed, "ls-files", "--deleted"],
            capture_output=True,
            text=True,
            env=git_env,
        )
        absent = missing.stdout.split()
        lost = [f for f in absent if f not in optional]
        if lost:
            raise EnvUnavailable(
                f"the repository snapshot lacks {len(lost)} file(s) of {base_commit[:12]} "
                f"(objects absent from {location}): {', '.join(lost[:5])}",
                str(log),
            )
        harmless = [f for f in absent if f in optional]
        if harmless:  # absent by the spec's leave: kept out of every diff of the work tree
            await run_logged(
                ["git", "-C", testbed, "update-index", "--skip-worktree", "--", *harmless],
                log,
                env=git_env,
                timeout=60,
            )


async def build_instance_layer(
    path: Path,
    *,
    source: tuple[str, str],
    base_commit: str,
    env: EnvLayer,
    spec: EnvSpec,
    timeout: float = BUILD_TIMEOUT_S,
) -> InstanceLayer:
    """Check the task's code out into ``path/testbed`` (``source`` is ("git", repo), ("dir", path)
    or ("sdist", archive)), make the instance venv, run the spec's pre-install and install steps
    (with network: this is build time). Raises EnvUnavailable."""
    layer = InstanceLayer(str(path), env)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    (path / "home").mkdir()
    (path / "run").mkdir()
    log = path / "build.log"
    log.write_text("")
    await _checkout(source, base_commit, layer.testbed, log, timeout, spec.optional_files)
    make_overlay_venv(layer.venv, env)
    _write_build_constraints(spec, path / "build-constraints.txt")
    Path(layer.activate).write_text(activation_script(layer, spec, offline=True))
    online = activation_script(layer, spec, offline=False)
    env_vars = base_env()
    commands = list(spec.pre_install)
    if spec.instance_pins:
        commands.insert(
            0, "python -m pip install --quiet " + " ".join(shlex.quote(p) for p in spec.instance_pins)
        )
    for command in (*commands, *spec.install):
        script = f"set -e\n{online}cd {layer.testbed}\n{command}\n"
        code = await run_logged(["/bin/bash", "-c", script], log, env=env_vars, timeout=timeout)
        if code != 0:
            raise EnvUnavailable(f"install step failed (exit {code}): {command}: {_tail(log, 6)}", str(log))
    if "CCACHE_DIR" in online:
        stats = f"{online}ccache --show-stats\n"
        await run_logged(["/bin/bash", "-c", stats], log, env=env_vars, timeout=60)
    # What the install left in the checkout (build files, egg-info) is the starting state.
    await run_logged(["git", "-C", layer.testbed, "status", "--short"], log, env=env_vars, timeout=60)
    return layer


async def ensure_instance_layer(
    task_id: str,
    *,
    source: tuple[str, str],
    base_commit: str,
    env: EnvLayer,
    spec: EnvSpec,
    cache: Path | None = None,
) -> InstanceLayer:
    """The cached instance layer for a task (built once, under a lock)."""
    root = (cache or cache_root()) / "instances"
    name = f"{task_id}-{instance_key(task_id, source, base_commit, env, spec)}"
    path = root / name
    if (path / INSTANCE_MARKER).exists():
        return InstanceLayer(str(path), env)
    async with file_lock(root / f"{name}.lock"):
        if not (path / INSTANCE_MARKER).exists():
            layer = await build_instance_layer(
                path, source=source, base_commit=base_commit, env=env, spec=spec
            )
            (path / INSTANCE_MARKER).write_text(json.dumps({"task": task_id, "base_commit": base_commit}))
            return layer
    return InstanceLayer(str(path), env)

"""Getting a project's pristine tree and its test venv.

- ``--sdist NAME==VERSION``: the sdist named by PyPI's JSON API (``$SWERVE_PYPI_URL``, default
  https://pypi.org), downloaded once, its sha256 checked against the API's, unpacked under
  ``$SWERVE_CACHE/taskgen/<name>-<version>/pristine``;
- ``--repo PATH``: a checkout's committed state (``git archive HEAD``) when it has a ``.git``, else a
  copy of the folder without caches and virtual environments.

The test venv is an environment layer (``swerve.tasks.envbuild``): the project's requirements
resolved to exact pins with ``uv pip compile`` first, so the tasks record pins that build the same
venv again.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from swerve.paths import cache_root
from swerve.tasks.generate.core import GenerationError
from swerve.tasks.generate.gitops import SourceError, git, git_env, locked, sha256_of, unpack_sdist
from swerve.tasks.generate.project import SKIP_DIRS, Project
from swerve.tasks.model import EnvSpec

DOWNLOAD_TIMEOUT_S = 120.0
_SPEC = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([A-Za-z0-9.+!_-]+)\s*$")


def parse_spec(spec: str) -> tuple[str, str]:
    """``NAME==VERSION`` split; a clear error otherwise."""
    m = _SPEC.match(spec)
    if not m:
        raise GenerationError(f"--sdist wants NAME==VERSION (like more-itertools==10.5.0), got {spec!r}")
    return m.group(1), m.group(2)


def taskgen_root(cache: Path | None = None) -> Path:
    return (cache or cache_root()) / "taskgen"


def index_url() -> str:
    return os.environ.get("SWERVE_PYPI_URL", "https://pypi.org").rstrip("/")


def _get_json(url: str, what: str) -> dict[str, Any] | None:
    """The JSON at ``url``; None on a 404."""
    import httpx

    try:
        resp = httpx.get(url, timeout=DOWNLOAD_TIMEOUT_S, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise GenerationError(f"{what}: cannot reach {url}: {exc}") from None
    if resp.status_code == 404:
        return None
    if resp.status_code != 200:
        raise GenerationError(f"{what}: HTTP {resp.status_code} from {url}")
    try:
        data = resp.json()
    except ValueError:
        raise GenerationError(f"{what}: {url} did not answer JSON") from None
    return data if isinstance(data, dict) else None


def _sdist_entry(name: str, version: str) -> dict[str, str]:
    """The release's sdist (file name, URL, sha256), from the release's page or, where the index
    serves none, from the project's list of releases."""
    what = f"{name}=={version}"
    from urllib.parse import urljoin

    page = f"{index_url()}/pypi/{name}/{version}/json"
    data = _get_json(page, what)
    files = data.get("urls") if data else None
    if not files:
        page = f"{index_url()}/pypi/{name}/json"
        project = _get_json(page, what)
        if project is None:
            raise GenerationError(f"{what}: {name} is not on {index_url()} (HTTP 404)")
        releases = project.get("releases") or {}
        if version not in releases:
            known = ", ".join(sorted(releases)[-5:])
            raise GenerationError(f"{what}: version {version} is not on {index_url()} (some known: {known})")
        files = releases[version]
    for entry in files or []:
        if entry.get("packagetype") == "sdist" and str(entry.get("filename", "")).endswith(".tar.gz"):
            return {
                "url": urljoin(page, entry["url"]),
                "filename": entry["filename"],
                "sha256": entry["digests"]["sha256"],
            }
    raise GenerationError(f"{what}: the index has no .tar.gz sdist for it")


def _download(url: str, dest: Path, sha256: str) -> None:
    import httpx

    tmp = dest.with_name(dest.name + ".part")
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=DOWNLOAD_TIMEOUT_S) as resp:
            if resp.status_code != 200:
                raise GenerationError(f"cannot download {url}: HTTP {resp.status_code}")
            with open(tmp, "wb") as out:
                for chunk in resp.iter_bytes():
                    out.write(chunk)
    except httpx.HTTPError as exc:
        tmp.unlink(missing_ok=True)
        raise GenerationError(f"cannot download {url}: {exc}") from None
    if sha256_of(tmp) != sha256:
        tmp.unlink(missing_ok=True)
        raise GenerationError(f"{dest.name}: sha256 does not match the index's; the file was not kept")
    os.replace(tmp, dest)


def sdist_tree(name: str, version: str, cache: Path | None = None) -> Path:
    """The unpacked sdist of ``name==version`` (downloaded and unpacked on first use)."""
    root = taskgen_root(cache) / f"{name}-{version}"
    tree, done = root / "pristine", root / "pristine.ok"
    if done.exists():
        return tree
    with locked(root / "pristine.lock"):
        if done.exists():
            return tree
        entry = _sdist_entry(name, version)
        archive = root / entry["filename"]
        if not archive.is_file() or sha256_of(archive) != entry["sha256"]:
            _download(entry["url"], archive, entry["sha256"])
        if tree.exists():
            shutil.rmtree(tree)
        try:
            unpack_sdist(archive, tree)
        except SourceError as exc:
            raise GenerationError(str(exc)) from None
        done.write_text(entry["sha256"] + "\n")
    return tree


def repo_tree(path: Path, cache: Path | None = None) -> tuple[Path, str]:
    """(a pristine copy of the checkout at ``path``, its commit or "" without git)."""
    path = path.expanduser().resolve()
    if not path.is_dir():
        raise GenerationError(f"--repo {path}: no such folder")
    commit = ""
    if (path / ".git").exists():
        try:
            commit = git(["rev-parse", "HEAD"], cwd=path, env=git_env()).strip()
        except SourceError as exc:
            raise GenerationError(f"--repo {path}: {exc}") from None
    label = commit[:12] if commit else "worktree"
    root = taskgen_root(cache) / "repos" / f"{path.name}-{label}"
    tree, done = root / "pristine", root / "pristine.ok"
    if commit and done.exists():
        return tree, commit
    with locked(root / "pristine.lock"):
        if tree.exists():
            shutil.rmtree(tree)
        tree.parent.mkdir(parents=True, exist_ok=True)
        if commit:
            tree.mkdir()
            archive = subprocess.run(
                ["git", "archive", "--format=tar", "HEAD"], cwd=path, env=git_env(), capture_output=True
            )
            subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
        else:
            ignore = shutil.ignore_patterns(*SKIP_DIRS - {"docs", "doc", "examples", "benchmarks"}, "*.pyc")
            shutil.copytree(path, tree, symlinks=True, ignore=ignore)
        done.write_text(commit + "\n")
    return tree, commit


def compile_pins(project: Project, cache: Path | None = None) -> tuple[str, ...]:
    """The project's test requirements resolved to exact pins (cached per requirement set)."""
    from swerve.tasks.envbuild import uv_binary

    uv = uv_binary()
    if uv is None or not project.requirements:
        return project.requirements
    import hashlib
    import sys

    blob = "\n".join(project.requirements) + f"\n{sys.version_info[:2]}"
    out = taskgen_root(cache) / "pins" / f"{hashlib.sha256(blob.encode()).hexdigest()[:16]}.txt"
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="swerve-pins-") as scratch:
            req = Path(scratch) / "requirements.in"
            req.write_text("\n".join(project.requirements) + "\n")
            proc = subprocess.run(
                [uv, "pip", "compile", "--quiet", "--no-header", "--no-annotate", "--python", sys.executable,
                 str(req), "-o", str(Path(scratch) / "pins.txt")],
                capture_output=True, text=True, timeout=600,
            )  # fmt: skip
            if proc.returncode != 0:
                why = proc.stderr.strip().splitlines()[-3:]
                raise GenerationError(f"{project.key}: its test requirements do not resolve: {' '.join(why)}")
            shutil.copy(Path(scratch) / "pins.txt", out)
    lines = [ln.strip() for ln in out.read_text().splitlines()]
    return tuple(ln for ln in lines if ln and not ln.startswith("#"))


def install_command(import_root: str) -> str:
    """Puts the checkout's import root on the venv's path (an editable install with no build step)."""
    import shlex

    code = (
        "import os, site; "
        "open(os.path.join(site.getsitepackages()[0], 'swerve_builtin_src.pth'), 'w')"
        f".write(os.path.abspath({import_root!r}) + chr(10))"
    )
    return f"python -c {shlex.quote(code)}"


def env_spec_for(project: Project, pins: tuple[str, ...]) -> EnvSpec:
    return EnvSpec(python="", pins=pins, install=(install_command(project.import_root),))


async def project_python(project: Project, cache: Path | None = None) -> tuple[str, EnvSpec]:
    """(the Python of the project's test venv, built now when needed, and the venv's spec)."""
    from swerve.errors import EnvUnavailable
    from swerve.tasks.envbuild import ensure_env

    pins = await asyncio.to_thread(compile_pins, project, cache)
    spec = env_spec_for(project, pins)
    try:
        layer = await ensure_env(spec, cache=cache, label=f"taskgen-{project.name}")
    except EnvUnavailable as exc:
        raise GenerationError(f"cannot build the test venv of {project.key}: {exc.cause}") from None
    return os.path.join(layer.bin, "python"), spec

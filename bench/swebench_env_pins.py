"""Pip pins for a repository from the conda environment files SWE-bench publishes per instance.

SWE-bench builds some repositories (xarray, matplotlib) from a conda ``environment.yml`` plus pip
pins; the files it recorded per Verified instance sit in its repository under
``swebench/resources/swebench-og/<owner__repo>/<number>/environment.yml``. This tool reads them
from a bare mirror of that repository (``git show``, nothing checked out), maps the conda entries
to pip requirements (system libraries and metapackages dropped, names PyPI spells differently
renamed, the pip section kept and winning over conda's entry of the same package), finds the most
common set per version and what single instances add or change, then asks ``uv pip compile`` for
the target Python which requirements PyPI cannot satisfy, alone or next to the pip section (each is
printed with uv's reason and relaxed to its bare name), and prints a spec module (or JSON).

    python bench/swebench_env_pins.py --mirror /work/.mirror/SWE-bench+SWE-bench/repo \\
        --repo pydata/xarray --dataset /work/shared/data/swebench/SWE-bench_Verified_test.parquet \\
        --python 3.10 [--json] [--no-check]
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ENV_ROOT = "swebench/resources/swebench-og"

# Conda names whose PyPI distribution is spelled differently.
RENAMES = {
    "antlr-python-runtime": "antlr4-python3-runtime",
    "brotli-python": "brotli",
    "iris": "scitools-iris",
    "matplotlib-base": "matplotlib",
    "msgpack-python": "msgpack",
    "pyarrow-core": "pyarrow",
    "pytables": "tables",
    "python-eccodes": "eccodes",
    "python-fastjsonschema": "fastjsonschema",
    "python-tzdata": "tzdata",
    "python-xxhash": "xxhash",
    "seaborn-base": "seaborn",
}
# Python packages of conda that pip cannot install from PyPI, with why.
CONDA_ONLY = {
    "cdat-info": "CDAT package, published on conda only",
    "cdms2": "CDAT package, published on conda only (needs libcdms)",
    "cdtime": "CDAT package, published on conda only",
    "distarray": "conda's distarray is CDAT's; PyPI's project of that name is unrelated",
    "esmpy": "needs the ESMF C library, which only conda ships",
    "libcf": "CDAT package, published on conda only",
}
# Entries that are not packages to install in a venv at all.
NOT_INSTALLED = {
    "python": "the interpreter itself",
    "pip": "the venv's own installer",
    "backports-zoneinfo": "in the standard library since Python 3.9",
}


def norm(name: str) -> str:
    """PEP 503 normalised name."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class EnvFile:
    """One environment.yml, parsed."""

    conda: list[tuple[str, str, str]] = field(default_factory=list)  # (name, version, build)
    pip: list[str] = field(default_factory=list)


def parse_env_yml(text: str) -> EnvFile:
    """The conda and pip entries of an exported environment file (``name=version=build`` lines).

    A line-oriented reader, enough for the files ``conda env export`` writes; raises ValueError on a
    dependency line it cannot read.
    """
    env = EnvFile()
    section = ""
    in_pip = False
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line.startswith(" "):
            section = line.split(":", 1)[0].strip()
            in_pip = False
            continue
        if section != "dependencies":
            continue
        item = line.strip()
        if not item.startswith("- "):
            raise ValueError(f"unreadable dependency line: {raw!r}")
        item = item[2:].strip()
        indent = len(line) - len(line.lstrip())
        if item == "pip:":
            in_pip = True
            pip_indent = indent
            continue
        if in_pip and indent > pip_indent:
            env.pip.append(item)
            continue
        in_pip = False
        parts = item.split("=")
        if len(parts) == 3:
            env.conda.append((parts[0], parts[1], parts[2]))
        elif len(parts) == 2:
            env.conda.append((parts[0], parts[1], ""))
        elif len(parts) == 1 and parts[0]:
            env.conda.append((parts[0], "", ""))
        else:
            raise ValueError(f"unreadable dependency line: {raw!r}")
    return env


def conda_to_pip(name: str, version: str, build: str) -> tuple[str | None, str]:
    """The pip requirement for one conda entry, or None and why it is left out."""
    key = norm(name)
    if key in NOT_INSTALLED:
        return None, NOT_INSTALLED[key]
    if key in CONDA_ONLY:
        return None, "conda-only: " + CONDA_ONLY[key]
    # Conda-forge builds Python packages with a "py…" build string (py310h…, pyhd8ed1ab_0, py_2,
    # unix_pyh…); everything else is a C/C++ library, a tool or a metapackage.
    if build and "py" not in build:
        return None, "not a Python package (system library or metapackage)"
    pip_name = RENAMES.get(key, key)
    return (f"{pip_name}=={version}" if version else pip_name), ""


def requirement_name(req: str) -> str:
    return norm(re.split(r"[<>=!~;\[ @]", req, maxsplit=1)[0])


def pip_requirements(env: EnvFile) -> tuple[dict[str, str], dict[str, str]]:
    """(name -> requirement, left-out conda entry -> reason); the pip section wins over conda."""
    reqs: dict[str, str] = {}
    dropped: dict[str, str] = {}
    for name, version, build in env.conda:
        req, why = conda_to_pip(name, version, build)
        if req is None:
            dropped[f"{name}={version}" if version else name] = why
        else:
            reqs.setdefault(requirement_name(req), req)
    for req in env.pip:
        reqs[requirement_name(req)] = req
    return reqs, dropped


# -- reading the mirror -----------------------------------------------------------------------------


def _git(mirror: str, *args: str) -> str:
    done = subprocess.run(["git", "-C", mirror, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed in {mirror}: {done.stderr.strip()}")
    return done.stdout


def read_env_files(mirror: str, repo: str, rev: str = "HEAD") -> dict[str, str]:
    """Instance id -> environment.yml text, for every instance of ``repo`` the mirror has one for."""
    folder = f"{ENV_ROOT}/{repo.replace('/', '__')}"
    names = _git(mirror, "ls-tree", "--name-only", f"{rev}:{folder}").split()
    out = {}
    for num in names:
        try:
            text = _git(mirror, "show", f"{rev}:{folder}/{num}/environment.yml")
        except SystemExit:
            continue
        out[f"{repo.replace('/', '__')}-{num}"] = text
    return out


def read_versions(datasets: list[str], repo: str) -> dict[str, str]:
    """Instance id -> version, from SWE-bench parquet files."""
    import pyarrow.parquet as pq

    out: dict[str, str] = {}
    for path in datasets:
        table = pq.read_table(path, columns=["instance_id", "repo", "version"]).to_pylist()
        out.update({r["instance_id"]: r["version"] for r in table if r["repo"] == repo})
    return out


# -- grouping -----------------------------------------------------------------------------------------


@dataclass
class VersionPins:
    version: str
    instances: list[str]
    common: dict[str, str]  # name -> requirement
    per_instance: dict[str, dict[str, str]]  # instance -> name -> requirement that differs
    dropped: dict[str, str]
    pip_names: set[str] = field(default_factory=set)  # names the pip sections pin
    relaxed: dict[str, str] = field(default_factory=dict)  # requirement -> uv's reason
    unfit: dict[str, str] = field(default_factory=dict)  # requirements left out, with uv's reason
    failed: str = ""  # uv's error when even the relaxed set does not resolve
    compiled: list[str] = field(default_factory=list)


def group(envs: dict[str, EnvFile], versions: dict[str, str]) -> list[VersionPins]:
    """The most common requirement set per version and each instance's differences from it."""
    by_version: dict[str, list[str]] = collections.defaultdict(list)
    for iid in sorted(envs):
        if iid in versions:
            by_version[versions[iid]].append(iid)
    out = []
    for version in sorted(by_version, key=_version_key):
        iids = by_version[version]
        parsed = {iid: pip_requirements(envs[iid]) for iid in iids}
        sets = collections.Counter(tuple(sorted(parsed[i][0].values())) for i in iids)
        common_tuple = sets.most_common(1)[0][0]
        common = {requirement_name(r): r for r in common_tuple}
        per: dict[str, dict[str, str]] = {}
        dropped: dict[str, str] = {}
        for iid in iids:
            reqs, drop = parsed[iid]
            dropped.update(drop)
            diff = {n: r for n, r in reqs.items() if common.get(n) != r}
            if diff:
                per[iid] = diff
        pip_names = {requirement_name(r) for i in iids for r in envs[i].pip}
        out.append(VersionPins(version, iids, common, per, dropped, pip_names))
    return out


def _version_key(v: str) -> list[int]:
    return [int(p) if p.isdigit() else 0 for p in v.split(".")]


# -- checking with uv ------------------------------------------------------------------------------------


def find_uv() -> str:
    beside = Path(sys.executable).parent / "uv"
    uv = str(beside) if beside.exists() else shutil.which("uv")
    if not uv:
        raise SystemExit("uv not found (beside this Python or on PATH)")
    return uv


def find_python(version: str) -> str:
    for cand in sorted(Path(os.path.expanduser("~/.pyenv/versions")).glob(f"{version}.*/bin/python")):
        return str(cand)
    found = shutil.which(f"python{version}")
    if not found:
        raise SystemExit(f"no Python {version} found (pyenv or PATH)")
    return found


def uv_compile(uv: str, python: str, reqs: list[str]) -> tuple[bool, str]:
    """(resolved, compiled requirements or uv's reason) for ``reqs`` on ``python`` on linux."""
    with tempfile.NamedTemporaryFile("w", suffix=".in", delete=False) as f:
        f.write("\n".join(reqs) + "\n")
        path = f.name
    try:
        done = subprocess.run(
            [uv, "pip", "compile", "--quiet", "--no-header", "--no-annotate", "--python", python,
             "--python-platform", "x86_64-manylinux_2_28", path],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    finally:
        os.unlink(path)
    if done.returncode == 0:
        return True, done.stdout
    lines = [ln.strip() for ln in done.stderr.splitlines() if ln.strip() and not ln.startswith("warning")]
    return False, " ".join(lines)[-400:]


def short_reason(uv_error: str) -> str:
    """The first clause of uv's explanation ("X==1 depends on numpy>=1.24")."""
    text = uv_error.split("cause:", 1)[-1].strip()
    text = re.sub(r"^Because\s+", "", text)
    return re.split(r",? (?:and you require|we can conclude)", text, maxsplit=1)[0].strip()


def check(vp: VersionPins, uv: str, python: str, workers: int = 4) -> None:
    """Relax every requirement that PyPI cannot satisfy next to the pip section; compile the rest."""
    anchors = [r for n, r in vp.common.items() if n in vp.pip_names]
    candidates = [r for r in vp.common.values() if r not in anchors]

    def one(req: str) -> tuple[str, bool, str, bool]:
        ok, why = uv_compile(uv, python, [*anchors, req])
        bare_ok = ok or uv_compile(uv, python, [*anchors, requirement_name(req)])[0]
        return req, ok, why, bare_ok

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        for req, ok, why, bare_ok in pool.map(one, candidates):
            if not bare_ok:
                vp.unfit[req] = "no version fits the pip section: " + short_reason(why)
            elif not ok:
                vp.relaxed[req] = short_reason(why)
    vp.common = {n: r for n, r in vp.common.items() if r not in vp.unfit}
    # Pins that conflict only with each other: relax those uv names in its reason, and retry.
    for _ in range(12):
        final = [requirement_name(r) if r in vp.relaxed else r for r in vp.common.values()]
        ok, out = uv_compile(uv, python, final)
        if ok:
            vp.compiled = [ln for ln in out.splitlines() if ln and not ln.startswith("#")]
            vp.failed = ""
            return
        vp.failed = out
        named = {m.lower() for m in re.findall(r"([A-Za-z0-9][\w.-]*==[\w.+-]+)", out)}
        blamed = [r for n, r in vp.common.items() if r.lower() in named and n not in vp.pip_names]
        blamed = [r for r in blamed if r not in vp.relaxed]
        if not blamed:
            return
        for r in blamed:
            vp.relaxed[r] = "conflicts with another pin: " + short_reason(out)


# -- output ------------------------------------------------------------------------------------------


def _const(version: str) -> str:
    return "V_" + re.sub(r"\W", "_", version)


def render_module(repo: str, groups: list[VersionPins], python: str) -> str:
    out = [f'"""Specs of {repo} (generated by bench/swebench_env_pins.py; edit the causes by hand)."""', ""]
    for vp in groups:
        pins = vp.compiled or sorted(vp.common.values())
        out.append(f'{_const(vp.version)} = """')
        line = ""
        for p in pins:
            if len(line) + len(p) + 1 > 100:
                out.append(line.rstrip())
                line = ""
            line += p + " "
        out.append(line.rstrip())
        out.append(f'"""  # version {vp.version}: {len(vp.instances)} instances, Python {python}')
        for req, why in sorted(vp.relaxed.items()):
            out.append(f"# relaxed {req}: {why}")
        for req, why in sorted(vp.unfit.items()):
            out.append(f"# left out {req}: {why}")
        if vp.failed:
            out.append(f"# NOT RESOLVED: {vp.failed}")
        out.append("")
    out.append("INSTANCE_PINS: dict[str, str] = {")
    for vp in groups:
        for iid, diff in sorted(vp.per_instance.items()):
            out.append(f'    "{iid}": "{" ".join(sorted(diff.values()))}",')
    out.append("}")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mirror", required=True, help="bare git dir of SWE-bench's repository")
    ap.add_argument("--repo", required=True, help="owner/name, e.g. pydata/xarray")
    ap.add_argument("--dataset", action="append", required=True, help="SWE-bench parquet (repeatable)")
    ap.add_argument("--python", default="3.10")
    ap.add_argument("--rev", default="HEAD")
    ap.add_argument("--json", action="store_true", help="print JSON instead of Python source")
    ap.add_argument("--no-check", action="store_true", help="skip the uv checks")
    args = ap.parse_args(argv)

    texts = read_env_files(args.mirror, args.repo, args.rev)
    if not texts:
        print(f"no environment files for {args.repo} in {args.mirror}", file=sys.stderr)
        return 1
    envs = {}
    for iid, text in texts.items():
        try:
            envs[iid] = parse_env_yml(text)
        except ValueError as e:
            print(f"{iid}: {e}", file=sys.stderr)
    versions = read_versions(args.dataset, args.repo)
    groups = group(envs, versions)
    if not args.no_check:
        uv, python = find_uv(), find_python(args.python)
        for vp in groups:
            print(f"checking version {vp.version} ({len(vp.common)} requirements)...", file=sys.stderr)
            check(vp, uv, python)
    for vp in groups:
        for req, why in sorted(vp.relaxed.items()):
            print(f"[{vp.version}] PyPI cannot satisfy {req} (relaxed to its name): {why}", file=sys.stderr)
        for req, why in sorted(vp.unfit.items()):
            print(f"[{vp.version}] left out {req}: {why}", file=sys.stderr)
        for entry, why in sorted(vp.dropped.items()):
            if why.startswith("conda-only"):
                print(f"[{vp.version}] left out {entry}: {why}", file=sys.stderr)
    if args.json:
        print(json.dumps([{**vp.__dict__, "pip_names": sorted(vp.pip_names)} for vp in groups], indent=1))
    else:
        print(render_module(args.repo, groups, args.python), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Pip pins for a SWE-bench repository that has no published environment files (the dev split's).

SWE-bench builds marshmallow, astroid, pvlib, pydicom and sqlfluff from its per-repository specs
alone: a Python, a few packages, requirement files of the checkout and an install command, all
unpinned, so its images hold whatever PyPI served on the day they were built. This tool pins them
instead: for each version it takes the instances' environment-setup commit from a bare mirror of the
repository (``git archive``, nothing checked out), asks ``uv pip compile`` to resolve the checkout
itself (with the extras the install command names), the requirement files SWE-bench reads and the
extra packages, on the target Python, with nothing newer than the commit (``--exclude-newer``), and
prints a spec module of frozen pins (the checkout's own line dropped).

    python bench/swebench_dev_pins.py --mirror /work/.mirror/sqlfluff+sqlfluff/repo \\
        --repo sqlfluff/sqlfluff --dataset /work/shared/data/swebench/SWE-bench_dev.parquet \\
        --python 3.9 --req-file requirements.txt --req-file requirements_dev.txt

``--python-at VERSION=PY`` sets another Python for one version (pydicom 1.2 wants 3.6);
``--with PKG`` adds a package (SWE-bench's ``pip_packages``); ``--extra NAME`` asks for an extra of
the checkout (marshmallow's ``dev``, pvlib's ``all``).
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from swebench_env_pins import _const, _git, _version_key, find_python, find_uv

# The checkout's own build, and packages named with --late, are not held to the commit's date:
# older setuptools do not run on newer Pythons, and some packages were yanked up to a later release.
# pytest and what it needs, for --late-runner: before pytest 5.x its "-rA" summary lacks the
# "PASSED test" lines that SWE-bench's log parsers read.
TEST_RUNNER = [
    "pytest",
    "pluggy",
    "iniconfig",
    "packaging",
    "exceptiongroup",
    "tomli",
    "py",
    "attrs",
    "importlib-metadata",
    "zipp",
    "typing-extensions",
]
BUILD_CUTOFF = "2024-07-01"  # setuptools 70: before its vendored typeguard plugin breaks old pytest


def setup_commits(datasets: list[str], repo: str) -> dict[str, tuple[str, list[str]]]:
    """version -> (its environment-setup commit, the instances of that version)."""
    import pyarrow.parquet as pq

    commits: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    instances: dict[str, set[str]] = collections.defaultdict(set)
    for path in datasets:
        for r in pq.read_table(
            path, columns=["instance_id", "repo", "version", "environment_setup_commit"]
        ).to_pylist():
            if r["repo"] == repo:
                commits[r["version"]][r["environment_setup_commit"]] += 1
                instances[r["version"]].add(r["instance_id"])
    return {v: (c.most_common(1)[0][0], sorted(instances[v])) for v, c in commits.items()}


def absent_paths(mirror: str, commit: str) -> list[str]:
    """Files of ``commit`` whose blobs the snapshot lacks (its largest files)."""
    entries = [ln.split("\t", 1) for ln in _git(mirror, "ls-tree", "-r", commit).splitlines()]
    blobs = [(meta.split()[2], path) for meta, path in entries if meta.split()[1] == "blob"]
    check = subprocess.run(["git", "-C", mirror, "cat-file", "--batch-check"], capture_output=True, text=True,
                           input="".join(h + "\n" for h, _ in blobs))  # fmt: skip
    return [
        path
        for (_, path), line in zip(blobs, check.stdout.splitlines(), strict=False)
        if line.endswith(" missing")
    ]


def unpack(mirror: str, commit: str, into: Path) -> None:
    """The tree of ``commit`` under ``into``, less the files whose blobs the snapshot lacks."""
    skip = [f":(exclude){path}" for path in absent_paths(mirror, commit)]
    archive = subprocess.run(["git", "-C", mirror, "archive", "--format=tar", commit, *(["--", ".", *skip] if skip else [])],
                             capture_output=True)  # fmt: skip
    if archive.returncode != 0:
        raise SystemExit(f"git archive {commit} failed in {mirror}: {archive.stderr.decode().strip()}")
    with tempfile.TemporaryFile() as f:
        f.write(archive.stdout)
        f.seek(0)
        with tarfile.open(fileobj=f) as tar:
            tar.extractall(into, filter="data")


def tag_version(tree: Path, version: str) -> None:
    """A one-commit repository tagged with the version: what versioneer and setuptools-scm read."""
    quiet = {"capture_output": True, "check": True}
    ident = ["-c", "user.name=swerve", "-c", "user.email=swerve@localhost"]
    subprocess.run(["git", "init", "-q", str(tree)], **quiet)  # type: ignore[call-overload]
    subprocess.run(["git", "-C", str(tree), "add", "-A", "-f"], **quiet)  # type: ignore[call-overload]
    subprocess.run(["git", "-C", str(tree), *ident, "commit", "-q", "-m", "env"], **quiet)  # type: ignore[call-overload]
    subprocess.run(["git", "-C", str(tree), *ident, "tag", "-a", "-m", version, f"v{version}.0"], **quiet)  # type: ignore[call-overload]


def scoped(items: list[str], version: str) -> list[str]:
    """The items that apply to ``version``: plain ones, and ``VERSION:ITEM`` ones of that version."""
    out = []
    for item in items:
        head, sep, rest = item.partition(":")
        if not sep or not re.fullmatch(r"\d+(\.\d+)*", head):
            out.append(item)
        elif head == version:
            out.append(rest)
    return out


def compile_checkout(
    uv: str, python: str, tree: Path, args: argparse.Namespace, version: str, cutoff: str
) -> tuple[bool, list[str], str]:
    """(resolved, pins without the checkout's own line, uv's error) for one checkout."""
    spec = str(tree) + (f"[{','.join(args.extra)}]" if args.extra else "")
    # setuptools always: a venv seeds today's, which lacks the pkg_resources old checkouts import
    lines = [spec, "setuptools", *scoped(args.extra_pkgs, version)]
    lines += [f"-r {tree / name}" for name in args.req_file if (tree / name).is_file()]
    named = scoped(args.late, version)
    if version in args.late_runner:
        named += TEST_RUNNER
    late = [f"{name}={BUILD_CUTOFF}" for name in ["setuptools", "wheel", *named]]
    req_in = tree.parent / "requirements.in"
    req_in.write_text("\n".join(lines) + "\n")
    done = subprocess.run(
        [uv, "pip", "compile", "--quiet", "--no-header", "--no-annotate", "--python", python,
         "--python-platform", "x86_64-manylinux_2_28", "--exclude-newer", cutoff,
          *(a for pkg in late for a in ("--exclude-newer-package", pkg)), str(req_in)],
        capture_output=True, text=True, timeout=900,
        env={**os.environ, "SETUPTOOLS_SCM_PRETEND_VERSION": version + ".0"},
    )  # fmt: skip
    if done.returncode != 0:
        errs = [ln.strip() for ln in done.stderr.splitlines() if ln.strip() and not ln.startswith("warning")]
        return False, [], " ".join(errs)[-500:]
    pins = [ln.strip() for ln in done.stdout.splitlines() if ln.strip() and not ln.startswith("#")]
    own = str(tree)
    return True, [p for p in pins if own not in p and not p.startswith("-e ")], ""


def render(repo: str, rows: list[dict[str, object]]) -> str:
    out = [f'"""Pins of {repo} (generated by bench/swebench_dev_pins.py)."""', ""]
    for row in rows:
        out.append(f'{_const(str(row["version"]))} = """')
        line = ""
        for p in row["pins"]:  # type: ignore[attr-defined]
            if len(line) + len(p) + 1 > 100:
                out.append(line.rstrip())
                line = ""
            line += p + " "
        out.append(line.rstrip())
        out.append(
            f'"""  # version {row["version"]}: {row["count"]} instances, Python {row["python"]}, '
            f"environment commit {str(row['commit'])[:10]}, nothing newer than {row['cutoff']}"
        )
        if row["error"]:
            out.append(f"# NOT RESOLVED: {row['error']}")
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mirror", required=True, help="bare git dir of the instances' repository")
    ap.add_argument("--repo", required=True, help="owner/name, e.g. sqlfluff/sqlfluff")
    ap.add_argument("--dataset", action="append", required=True, help="SWE-bench parquet (repeatable)")
    ap.add_argument("--python", default="3.9")
    ap.add_argument("--python-at", action="append", default=[], metavar="VERSION=PY")
    ap.add_argument("--extra", action="append", default=[], help="an extra of the checkout to install")
    ap.add_argument("--req-file", action="append", default=[], help="a requirement file of the checkout")
    ap.add_argument(
        "--with",
        dest="extra_pkgs",
        action="append",
        default=[],
        help="one more requirement (VERSION:REQ for one version)",
    )
    ap.add_argument(
        "--late",
        action="append",
        default=[],
        help="a package not held to the commit's date (VERSION:PKG for one version)",
    )
    ap.add_argument(
        "--late-runner",
        action="append",
        default=[],
        metavar="VERSION",
        help="take pytest and its dependencies as of the build cutoff for this version",
    )
    ap.add_argument(
        "--not-before",
        default="",
        metavar="DATE",
        help="an earliest cutoff (the first date the target Python has wheels of the stack)",
    )
    ap.add_argument("--days-after", type=int, default=1, help="cutoff: the commit's date plus this")
    args = ap.parse_args(argv)

    pythons = dict(item.split("=", 1) for item in args.python_at)
    uv = find_uv()
    rows = []
    for version, (commit, iids) in sorted(
        setup_commits(args.dataset, args.repo).items(), key=lambda kv: _version_key(kv[0])
    ):
        when = dt.datetime.fromisoformat(_git(args.mirror, "show", "-s", "--format=%cI", commit).strip())
        cutoff = max((when + dt.timedelta(days=args.days_after)).date().isoformat(), args.not_before)
        py = pythons.get(version, args.python)
        print(
            f"[{version}] {commit[:10]} ({len(iids)} instances), Python {py}, up to {cutoff}", file=sys.stderr
        )
        with tempfile.TemporaryDirectory(prefix="swerve-devpins-") as scratch:
            tree = Path(scratch) / re.sub(r"\W", "-", args.repo)
            tree.mkdir()
            unpack(args.mirror, commit, tree)
            tag_version(tree, version)
            ok, pins, err = compile_checkout(uv, find_python(py), tree, args, version, cutoff)
        if not ok:
            print(f"[{version}] does not resolve: {err}", file=sys.stderr)
        rows.append({"version": version, "count": len(iids), "python": py, "commit": commit, "cutoff": cutoff,
                     "pins": pins, "error": err})  # fmt: skip
    print(render(args.repo, rows), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())

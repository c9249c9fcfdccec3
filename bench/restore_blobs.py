"""Restore blobs missing from a bare git mirror out of the project's own PyPI release files.

Git blob ids are content hashes, so any member of an sdist or wheel whose blob id equals a
missing id *is* that object; it is written back with ``git hash-object -w``. Member paths are
never trusted, only hashes.

Usage:
    .venv/bin/python bench/restore_blobs.py --mirror /work/.mirror/pvlib+pvlib-python/repo --pypi pvlib
    .venv/bin/python bench/restore_blobs.py --mirror M --pypi pydicom --pypi pydicom-data --max-downloads 20

Missing ``X.bz2`` / ``X.gz`` blobs are first rebuilt from a present ``X`` at each level.
Best candidate first: uploaded after a missing blob first appeared in git (and before it was last
replaced + 1 year), nearest first, sdists before wheels; re-ranked after each archive. Downloads
are cached, sha256-checked; cache hits don't count against --max-downloads. --dry-run scans but
writes nothing. Exit 0 even if blobs remain; 1 on PyPI/write errors; 2 if the mirror is unusable.
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import hashlib
import lzma
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO
from urllib.parse import urljoin

import httpx

SLACK = timedelta(days=365)
CHUNK = 1 << 20
SPOOL_MAX = 32 << 20
SDIST_EXTS = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip")
ARCHIVE_ERRORS = (tarfile.TarError, zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError)


@dataclass
class Blob:
    """A missing object with the paths and commit dates it was introduced/replaced at."""

    sha: str
    paths: set[str] = field(default_factory=set)
    added: list[datetime] = field(default_factory=list)
    removed: list[datetime] = field(default_factory=list)

    def window(self) -> tuple[datetime, datetime | None] | None:
        """Time span in which a release may contain this blob (None end: still present)."""
        if not self.added:
            return None
        if not self.removed or max(self.added) > max(self.removed):
            return min(self.added), None
        return min(self.added), max(self.removed) + SLACK


@dataclass
class Candidate:
    """One release file on PyPI."""

    project: str
    filename: str
    url: str
    size: int
    sha256: str
    uploaded: datetime
    rank: int  # 0 sdist, 1 pure wheel, 2 other wheel


def git(mirror: Path, *args: str) -> str:
    """Run git in the mirror and return stdout; raise RuntimeError on failure."""
    proc = subprocess.run(["git", "-C", str(mirror), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"git {args[0]} failed: {proc.stderr.strip()}")
    return proc.stdout


def find_missing(mirror: Path) -> dict[str, Blob]:
    """Missing object ids with the paths and dates they appear at in history."""
    out = git(mirror, "rev-list", "--objects", "--all", "--missing=print")
    blobs = {s: Blob(s) for s in (ln[1:].strip() for ln in out.splitlines() if ln.startswith("?"))}
    if not blobs:
        return blobs
    log = git(mirror, "log", "--all", "--raw", "--no-abbrev", "--no-renames", "--format=%H %cI")
    date: datetime | None = None
    for line in log.splitlines():
        if line.startswith(":") and date is not None:
            meta, _, path = line.partition("\t")
            fields = meta.split()
            old, new = fields[2], fields[3]
            if new in blobs:
                blobs[new].paths.add(path)
                blobs[new].added.append(date)
            if old in blobs:
                blobs[old].removed.append(date)
        elif line.strip():
            date = datetime.fromisoformat(line.split()[1])
    return blobs


def kind_rank(filename: str) -> int | None:
    """0 for sdists, 1 for pure wheels, 2 for other wheels, None for anything else."""
    if filename.endswith(".whl"):
        return 1 if filename.endswith("-none-any.whl") else 2
    return 0 if filename.endswith(SDIST_EXTS) else None


def pypi_files(client: httpx.Client, index: str, project: str) -> list[Candidate]:
    """Of every release of a PyPI project, its sdist and one wheel (pure if any): the wheels of
    one release for other platforms hold the same data files."""
    resp = client.get(f"{index.rstrip('/')}/{project}/json")
    resp.raise_for_status()
    base = str(resp.url)  # an index mirror may answer with file URLs relative to this page
    out: list[Candidate] = []
    for files in resp.json()["releases"].values():
        best: dict[bool, Candidate] = {}  # is-a-wheel -> the release's best file of that kind
        for f in files:
            if (rank := kind_rank(f["filename"])) is None:
                continue
            when = datetime.fromisoformat(f["upload_time_iso_8601"])
            url = urljoin(base, f["url"])
            c = Candidate(project, f["filename"], url, int(f["size"]), f["digests"]["sha256"], when, rank)
            held = best.get(rank > 0)
            if held is None or (c.rank, c.size) < (held.rank, held.size):
                best[rank > 0] = c
        out += best.values()
    return out


def priority(c: Candidate, blobs: dict[str, Blob]) -> tuple[int, float, int, str]:
    """Sort key: (tier, days from blob's first appearance or window, kind rank, name); lower first."""
    best: tuple[int, float] = (2, 0.0)
    for b in blobs.values():
        w = b.window()
        if w is None:
            continue
        first, last = w
        if c.uploaded >= first and (last is None or c.uploaded <= last):
            key = (0, (c.uploaded - first).total_seconds() / 86400)
        else:
            edge = first if c.uploaded < first or last is None else last
            key = (1, abs((c.uploaded - edge).total_seconds()) / 86400)
        best = min(best, key)
    return best[0], best[1], c.rank, c.filename


def fetch(client: httpx.Client, c: Candidate, cache: Path) -> tuple[Path, int]:
    """Cached path of a release file and the bytes fetched over the network (0 on a cache hit)."""
    dest = cache / c.project / c.filename
    if dest.exists():
        with dest.open("rb") as fh:
            if hashlib.file_digest(fh, "sha256").hexdigest() == c.sha256:
                return dest, 0
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    h, n = hashlib.sha256(), 0
    with client.stream("GET", c.url) as resp, tmp.open("wb") as fh:
        resp.raise_for_status()
        for chunk in resp.iter_bytes(CHUNK):
            h.update(chunk)
            fh.write(chunk)
            n += len(chunk)
    if h.hexdigest() != c.sha256:
        tmp.unlink()
        raise ValueError(f"sha256 mismatch for {c.filename}")
    tmp.replace(dest)
    return dest, n


def members(path: Path) -> Iterator[tuple[str, int, IO[bytes]]]:
    """(name, size, stream) for each regular file in a zip/wheel or (streamed) tarball."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    with zf.open(info) as fh:
                        yield info.filename, info.file_size, fh
        return
    with tarfile.open(path, "r|*") as tf:
        for m in tf:
            if m.isreg() and (stream := tf.extractfile(m)) is not None:
                yield m.name, m.size, stream


def write_blob(mirror: Path, fh: IO[bytes] | tempfile.SpooledTemporaryFile[bytes], want: str) -> None:
    """Write the stream as a blob into the mirror and check that its id is the wanted one."""
    cmd = ["git", "-C", str(mirror), "hash-object", "-w", "--no-filters", "--stdin"]
    proc = subprocess.run(cmd, stdin=fh, capture_output=True, text=True)
    got = proc.stdout.strip()
    if proc.returncode != 0 or got != want:
        raise RuntimeError(f"hash-object gave {got or proc.stderr.strip()!r}, wanted {want}")


def scan(path: Path, blobs: dict[str, Blob], mirror: Path, dry_run: bool) -> list[tuple[str, str]]:
    """Restore every missing blob found among the archive's members; return (sha, member) pairs."""
    found: list[tuple[str, str]] = []
    for name, size, fh in members(path):
        h = hashlib.sha1(b"blob %d\0" % size)
        n = 0
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX) as spool:
            while chunk := fh.read(CHUNK):
                h.update(chunk)
                spool.write(chunk)
                n += len(chunk)
            sha = h.hexdigest()
            if n != size or sha not in blobs:
                continue
            spool.seek(0)
            if not dry_run:
                write_blob(mirror, spool, sha)
        del blobs[sha]
        found.append((sha, name))
    return found


def present_blob(mirror: Path, path: str) -> bytes | None:
    """The newest present content of ``path`` in any commit's history, or None."""
    log = git(mirror, "log", "--all", "--raw", "--no-abbrev", "--no-renames", "--format=", "--", path)
    for line in log.splitlines():
        sha = line.split()[3] if line.startswith(":") else ""
        if sha.strip("0"):
            proc = subprocess.run(["git", "-C", str(mirror), "cat-file", "blob", sha], capture_output=True)
            if proc.returncode == 0:
                return proc.stdout
    return None


def recompress(blobs: dict[str, Blob], mirror: Path, dry_run: bool) -> list[tuple[str, str]]:
    """Rebuild missing ``X.bz2`` / ``X.gz`` blobs by compressing a present ``X`` (bzip2 and
    ``gzip -n`` output depend only on the input and the level); return (sha, source) pairs."""
    found: list[tuple[str, str]] = []
    for b in list(blobs.values()):
        for path in sorted(b.paths):
            stem, dot, ext = path.rpartition(".")
            if not dot or ext not in ("bz2", "gz") or (raw := present_blob(mirror, stem)) is None:
                continue
            for level in range(9, 0, -1):
                data = bz2.compress(raw, level) if ext == "bz2" else gzip.compress(raw, level, mtime=0)
                if hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() == b.sha:
                    if not dry_run:
                        with tempfile.TemporaryFile() as fh:
                            fh.write(data)
                            fh.seek(0)
                            write_blob(mirror, fh, b.sha)
                    found.append((b.sha, f"{ext} -{level} of {stem}"))
                    del blobs[b.sha]
                    break
            if b.sha not in blobs:
                break
    return found


def load_candidates(client: httpx.Client, index: str, projects: list[str]) -> tuple[list[Candidate], int]:
    """Release files of all projects, and how many projects could not be listed."""
    cands: list[Candidate] = []
    errors = 0
    for project in projects:
        try:
            cands += pypi_files(client, index, project)
        except (httpx.HTTPError, ValueError, KeyError) as e:
            print(f"error: PyPI project {project}: {e}", file=sys.stderr)
            errors += 1
    print(f"{len(cands)} candidate release file(s) from {', '.join(projects)}")
    return cands, errors


def show(blobs: dict[str, Blob], head: str) -> None:
    """Print one line per blob: id, first appearance, paths."""
    for b in blobs.values():
        since = min(b.added).date() if b.added else "?"
        print(f"  {head}{b.sha} since {since}: {', '.join(sorted(b.paths)) or '(path unknown)'}")


def restore(args: argparse.Namespace) -> int:
    """Find missing blobs, then download and scan the best candidate until done or out of budget."""
    start, mirror, cache = time.monotonic(), Path(args.mirror), Path(args.cache).expanduser()
    try:
        blobs = find_missing(mirror)
    except (RuntimeError, OSError) as e:
        print(f"error: mirror {mirror}: {e}", file=sys.stderr)
        return 2
    total, gone = len(blobs), dict(blobs)
    print(f"{total} missing object(s) in {mirror}")
    show(blobs, "")
    for sha, how in recompress(blobs, mirror, args.dry_run):
        print(f"    {sha} <- {how}")
    downloads = nbytes = errors = 0
    with httpx.Client(follow_redirects=True, timeout=httpx.Timeout(60.0, connect=20.0)) as client:
        cands, errors = load_candidates(client, args.index, args.pypi) if blobs else ([], 0)
        while blobs and cands and downloads < args.max_downloads:
            c = min(cands, key=lambda c: priority(c, blobs))
            cands.remove(c)
            try:
                path, n = fetch(client, c, cache)
            except (httpx.HTTPError, OSError, ValueError) as e:
                print(f"  {c.filename}: download failed: {e}")
                downloads += 1
                continue
            downloads, nbytes = downloads + (n > 0), nbytes + n
            try:
                found = scan(path, blobs, mirror, args.dry_run)
            except ARCHIVE_ERRORS as e:
                print(f"  {c.filename}: bad archive, skipped: {e!r}")
                continue
            except RuntimeError as e:
                print(f"  {c.filename}: {e}", file=sys.stderr)
                errors += 1
                continue
            how = "" if n else ", cached"
            print(
                f"[{downloads}] {c.filename} ({c.size / 1e6:.1f} MB{how}, {c.uploaded.date()}): {len(found)} found"
            )
            for sha, name in found:
                print(f"    {sha} <- {name}")
    verb = "would restore" if args.dry_run else "restored"
    secs, mb = time.monotonic() - start, nbytes / 1e6
    print(f"{verb} {total - len(blobs)} of {total}; {downloads} download(s), {mb:.1f} MB, {secs:.0f}s")
    show({sha: gone[sha] for sha in blobs}, "still missing ")
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mirror", required=True, help="bare git dir, e.g. /work/.mirror/owner+name/repo")
    p.add_argument("--pypi", action="append", required=True, help="PyPI project name (repeatable)")
    p.add_argument("--max-downloads", type=int, default=40, help="network downloads at most (default 40)")
    p.add_argument("--cache", default="~/.cache/swerve/pypi-releases", help="download cache folder")
    p.add_argument("--index", default="https://pypi.org/pypi", help="PyPI JSON API root")
    p.add_argument("--dry-run", action="store_true", help="download and scan, but write nothing")
    return restore(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

"""bench/restore_blobs.py: blobs a mirror lacks come back from release files on a (loopback)
package index, matched by git blob id alone, and compressed copies are rebuilt from their source."""

from __future__ import annotations

import bz2
import hashlib
import http.server
import importlib.util
import io
import json
import os
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("restore_blobs", ROOT / "bench" / "restore_blobs.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["restore_blobs"] = mod  # its dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def git(*args: str, cwd: Path | None = None) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}  # fmt: skip
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def missing(mirror: Path) -> set[str]:
    out = git("-C", str(mirror), "rev-list", "--objects", "--all", "--missing=print")
    return {ln[1:] for ln in out.splitlines() if ln.startswith("?")}


BIG = os.urandom(50_000)
TABLE = b"".join(b"%d,%d\n" % (i, i * i) for i in range(2000))


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    """A bare mirror (loose objects) lacking the objects of data/big.bin and data/table.csv.bz2."""
    work, bare = tmp_path / "work", tmp_path / "mirror.git"
    (work / "data").mkdir(parents=True)
    (work / "data" / "big.bin").write_bytes(BIG)
    (work / "data" / "table.csv").write_bytes(TABLE)
    (work / "data" / "table.csv.bz2").write_bytes(bz2.compress(TABLE, 9))
    (work / "README").write_text("x\n")
    git("init", "-q", "-b", "main", str(work))
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "data", cwd=work)
    git("init", "-q", "--bare", str(bare))
    git("push", "-q", str(bare), "main", cwd=work)
    for sha in (blob_id(BIG), blob_id(bz2.compress(TABLE, 9))):
        (bare / "objects" / sha[:2] / sha[2:]).unlink()
    assert missing(bare) == {blob_id(BIG), blob_id(bz2.compress(TABLE, 9))}
    return bare


def sdist(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture
def index(tmp_path: Path) -> Iterator[tuple[str, dict[str, bytes]]]:
    """A loopback JSON API like PyPI's, whose file URLs are relative (as an index mirror's are)."""
    files: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/pypi/proj/json":
                releases = {
                    name.split("-")[1].removesuffix(".tar.gz"): [
                        {
                            "filename": name,
                            "url": f"../../files/{name}",
                            "size": len(data),
                            "digests": {"sha256": hashlib.sha256(data).hexdigest()},
                            "upload_time_iso_8601": "2024-01-02T00:00:00Z",
                        }
                    ]
                    for name, data in files.items()
                }
                body = json.dumps({"releases": releases}).encode()
            elif self.path.startswith("/files/") and self.path[7:] in files:
                body = files[self.path[7:]]
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/pypi", files
    finally:
        server.shutdown()


def run(mirror: Path, index: str, cache: Path) -> int:
    return _tool().main(["--mirror", str(mirror), "--pypi", "proj", "--index", index, "--cache", str(cache)])


def test_missing_blobs_come_back_from_a_release_and_a_recompression(
    mirror: Path, index: tuple[str, dict[str, bytes]], tmp_path: Path
) -> None:
    url, files = index
    # the member's path differs from the repository's: only its content's blob id counts
    files["proj-1.0.tar.gz"] = sdist({"proj-1.0/proj/big.bin": BIG, "proj-1.0/README": b"y\n"})
    assert run(mirror, url, tmp_path / "cache") == 0
    assert missing(mirror) == set()
    shown = subprocess.run(["git", "-C", str(mirror), "cat-file", "blob", blob_id(BIG)], capture_output=True)
    assert shown.stdout == BIG
    git("-C", str(mirror), "fsck", "--full", "--no-dangling")


def test_a_release_with_other_contents_or_a_bad_digest_restores_nothing(
    mirror: Path, index: tuple[str, dict[str, bytes]], tmp_path: Path
) -> None:
    url, files = index
    files["proj-1.0.tar.gz"] = sdist({"proj-1.0/data/big.bin": BIG[:-1] + b"!"})
    assert run(mirror, url, tmp_path / "cache") == 0
    assert blob_id(BIG) in missing(mirror)
    # a cached download whose sha256 no longer matches the index is fetched again, not trusted
    cached = tmp_path / "cache" / "proj" / "proj-1.0.tar.gz"
    cached.write_bytes(sdist({"proj-1.0/data/big.bin": BIG}))
    assert run(mirror, url, tmp_path / "cache") == 0
    assert blob_id(BIG) in missing(mirror)

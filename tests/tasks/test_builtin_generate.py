"""The task generator: mutation operators, sdists on first use, reproducible commits, and a real
generation run on a small library written here (its own tests judge the injected bugs)."""

from __future__ import annotations

import ast
import hashlib
import io
import sys
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from swerve.tasks.builtin.generate import Options, generate
from swerve.tasks.builtin.libraries import Library
from swerve.tasks.builtin.sources import (
    SourceError,
    apply_patch,
    ensure_task_repo,
    fetch_sdist,
    git,
    git_env,
    sdist_path,
)
from swerve.tasks.builtin.suite import task_from_record
from swerve.tasks.builtin.validate import check_task
from swerve.tasks.generate.core import order_candidates
from swerve.tasks.generate.mutate import OPERATORS, mutations_for
from swerve.tasks.generate.statement import leaked_lines

TINY_SOURCE = '''\
"""A small library for the generator's tests."""


def clamp(value, low, high):
    """``value`` kept within ``low`` and ``high``."""
    if value < low:
        return low
    if value > high:
        return high
    return value


def chunks(items, size):
    if size <= 0:
        raise ValueError("size must be positive")
    return [items[i : i + size] for i in range(0, len(items), size)]


def title_words(text, keep_small=False):
    small = {"of", "and", "the"}
    words = []
    for i, word in enumerate(text.split()):
        small_ok = i > 0 and word in small
        if keep_small and small_ok:
            words.append(word)
        else:
            words.append(word[:1].upper() + word[1:])
    return " ".join(words)


def mean(values):
    if not values:
        return 0.0
    total = 0
    for v in values:
        total += v
    return total / len(values)
'''

TINY_TESTS = """\
import pytest

from tinylib import chunks, clamp, mean, title_words


def test_clamp_inside():
    assert clamp(5, 0, 10) == 5


def test_clamp_low():
    assert clamp(-3, 0, 10) == 0


def test_clamp_high():
    assert clamp(42, 0, 10) == 10


def test_chunks():
    assert chunks([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]


def test_chunks_rejects_zero():
    with pytest.raises(ValueError):
        chunks([1], 0)


def test_title_words():
    assert title_words("war and peace") == "War And Peace"


def test_title_words_keep_small():
    assert title_words("the lord of the rings", keep_small=True) == "The Lord of the Rings"


def test_mean():
    assert mean([1, 2, 3, 6]) == 3


def test_mean_empty():
    assert mean([]) == 0.0
"""


def make_sdist(folder: Path, name: str = "tinylib", version: str = "1.0") -> tuple[Path, str]:
    """A ``.tar.gz`` sdist of the small library; its path and sha256."""
    files = {
        f"{name}-{version}/tinylib/__init__.py": TINY_SOURCE,
        f"{name}-{version}/tests/test_tinylib.py": TINY_TESTS,
        f"{name}-{version}/PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
    }
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = 0o644
            tf.addfile(info, io.BytesIO(data))
    out = folder / f"{name}-{version}.tar.gz"
    out.write_bytes(buf.getvalue())
    return out, hashlib.sha256(buf.getvalue()).hexdigest()


def tiny_library(sdist: Path, sha256: str, url: str = "http://127.0.0.1:9/none") -> Library:
    return Library(
        name="tinylib",
        version="1.0",
        sdist=sdist.name,
        url=url,
        sha256=sha256,
        size=sdist.stat().st_size,
        license="Apache-2.0",
        import_root=".",
        source_files=("tinylib/__init__.py",),
        test_paths=("tests",),
    )


@pytest.fixture
def tiny(tmp_path) -> tuple[Library, Path]:
    """The small library with its sdist already in a fresh cache."""
    sdist, sha = make_sdist(tmp_path)
    lib = tiny_library(sdist, sha)
    cache = tmp_path / "cache"
    target = sdist_path(lib, cache)
    target.parent.mkdir(parents=True)
    target.write_bytes(sdist.read_bytes())
    return lib, cache


# -- mutation operators -----------------------------------------------------------------------------


def test_every_operator_finds_something_and_every_mutant_compiles():
    data = TINY_SOURCE.encode()
    found = mutations_for("tinylib/__init__.py", data)
    assert {m.operator for m in found} == set(OPERATORS)
    original = ast.dump(ast.parse(data))
    for m in found:
        mutated = m.apply(data)
        assert ast.dump(ast.parse(mutated)) != original, m
    keys = [m.key for m in found]
    assert len(keys) == len(set(keys))


def _line_of(text: str) -> int:
    return next(i for i, line in enumerate(TINY_SOURCE.splitlines(), 1) if line.strip() == text)


def test_mutations_edit_only_what_they_say():
    data = TINY_SOURCE.encode()
    by_desc = {(m.operator, m.description, m.line): m for m in mutations_for("t.py", data)}
    low, high = _line_of("if value < low:"), _line_of("if value > high:")
    flip = by_desc[("negate_comparison", "`<` became `>=`", low)]
    assert flip.apply(data).decode().splitlines()[low - 1] == "    if value >= low:"
    boundary = by_desc[("comparison_boundary", "`>` became `>=`", high)]
    assert boundary.apply(data).decode().splitlines()[high - 1] == "    if value >= high:"
    guard = next(m for m in by_desc.values() if m.operator == "remove_guard" and m.line == low)
    assert (
        "if value < low" not in guard.apply(data).decode() and "return low" not in guard.apply(data).decode()
    )
    dropped = next(m for m in by_desc.values() if m.operator == "drop_not")
    assert "    if values:" in dropped.apply(data).decode().splitlines()
    # the docstring is never touched, and nothing outside the edited span changes
    for m in by_desc.values():
        out = m.apply(data)
        assert b"A small library" in out
        assert out[: m.start] == data[: m.start]
        assert out.endswith(data[m.end :])


def test_no_mutations_for_unparsable_source_and_order_is_seeded():
    assert mutations_for("bad.py", b"def (:\n") == []
    found = mutations_for("t.py", TINY_SOURCE.encode())
    assert order_candidates(found, 1) == order_candidates(found, 1)
    assert order_candidates(found, 1) != order_candidates(found, 2)
    first_ops = [m.operator for m in order_candidates(found, 3)[:5]]
    assert len(set(first_ops)) == 5, "the order alternates between operators"


# -- sdists and commits -----------------------------------------------------------------------------


class _Files(BaseHTTPRequestHandler):
    payload = b""
    hits = 0

    def do_GET(self):
        type(self).hits += 1
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.payload)))
        self.end_headers()
        self.wfile.write(self.payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def file_server():
    handler = type("Handler", (_Files,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler
    server.shutdown()
    server.server_close()


def test_sdist_is_downloaded_once_and_its_hash_checked(tmp_path, file_server):
    server, handler = file_server
    sdist, sha = make_sdist(tmp_path)
    handler.payload = sdist.read_bytes()
    url = f"http://127.0.0.1:{server.server_address[1]}/{sdist.name}"
    cache = tmp_path / "cache"
    path = fetch_sdist(tiny_library(sdist, sha, url), cache)
    assert path.read_bytes() == sdist.read_bytes() and handler.hits == 1
    fetch_sdist(tiny_library(sdist, sha, url), cache)
    assert handler.hits == 1, "a cached, verified sdist is not downloaded again"
    path.write_bytes(b"corrupted")
    fetch_sdist(tiny_library(sdist, sha, url), cache)
    assert handler.hits == 2 and path.read_bytes() == sdist.read_bytes()

    other = tmp_path / "other"
    with pytest.raises(SourceError, match="sha256"):
        fetch_sdist(tiny_library(sdist, "0" * 64, url), other)
    assert not sdist_path(tiny_library(sdist, sha), other).exists(), "a file with the wrong hash is not kept"
    with pytest.raises(SourceError, match="Without network"):
        fetch_sdist(tiny_library(sdist, sha, "http://127.0.0.1:9/gone.tar.gz"), tmp_path / "third")


def test_task_commits_are_reproducible_and_have_no_history(tiny, tmp_path):
    lib, cache = tiny
    bug = mutations_for("tinylib/__init__.py", TINY_SOURCE.encode())[0]
    work = tmp_path / "work"
    work.mkdir()
    (work / "tinylib").mkdir()
    (work / "tinylib" / "__init__.py").write_text(TINY_SOURCE)
    git(["init", "--quiet", str(work)])
    git(["add", "-A"], cwd=work, env=git_env())
    git(["commit", "--quiet", "-m", "x"], cwd=work, env=git_env())
    (work / "tinylib" / "__init__.py").write_bytes(bug.apply(TINY_SOURCE.encode()))
    patch = git(["diff"], cwd=work, env=git_env())

    repo, commit = ensure_task_repo(lib, "tiny-1", patch, cache=cache)
    other_cache = tmp_path / "cache2"
    sdist_path(lib, other_cache).parent.mkdir(parents=True)
    sdist_path(lib, other_cache).write_bytes(sdist_path(lib, cache).read_bytes())
    _, again = ensure_task_repo(lib, "tiny-1", patch, cache=other_cache)
    assert commit == again, "the same tree gives the same commit anywhere"
    env = git_env(GIT_DIR=str(repo))
    assert git(["rev-list", "--count", "--all"], env=env).strip() == "1"
    shown = git(["show", f"{commit}:tinylib/__init__.py"], env=env)
    assert shown.encode() == bug.apply(TINY_SOURCE.encode())
    with pytest.raises(SourceError):
        ensure_task_repo(lib, "tiny-2", "not a patch\n", cache=cache)


def test_apply_patch_reports_a_patch_that_does_not_fit(tmp_path):
    (tmp_path / "a.txt").write_text("one\n")
    bad = "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-two\n+three\n"
    with pytest.raises(SourceError, match="apply"):
        apply_patch(tmp_path, bad)
    assert (tmp_path / "a.txt").read_text() == "one\n"


# -- generation, for real ---------------------------------------------------------------------------


async def test_generator_makes_valid_tasks_on_a_small_library(tiny):
    lib, cache = tiny
    logs: list[str] = []
    options = Options(count=2, seed=0, workers=1, python=sys.executable, timeout_s=60)
    records, stats = await generate(lib, options, cache=cache, log=logs.append)
    assert len(records) == 2, (stats, logs)
    assert stats.tried >= 2 and stats.kept == 2
    assert any("stable passing tests" in line for line in logs)
    for record in records:
        assert record["FAIL_TO_PASS"] and record["PASS_TO_PASS"]
        assert all(t.startswith("tests/test_tinylib.py::") for t in record["FAIL_TO_PASS"])
        assert not set(record["FAIL_TO_PASS"]) & set(record["PASS_TO_PASS"])
        assert leaked_lines(record["problem_statement"], record["gold_patch"]) == []
        assert record["FAIL_TO_PASS"][0] in record["problem_statement"]
        assert record["mutation"]["operator"] in OPERATORS
        task = task_from_record(record, cache=cache, library=lib)
        check = await check_task(task, sys.executable, timeout=60)
        assert check.valid, (record["id"], check.reason, record["bug_patch"])
    functions = {(r["mutation"]["file"], r["mutation"]["function"]) for r in records}
    assert len(functions) == 2, "one task per function"

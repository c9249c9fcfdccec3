"""``swerve tasks generate`` end to end on a small project written here: a local repository and an
sdist served by a loopback PyPI, checked by ``swerve eval --validate`` and run by ``swerve gym``."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from swerve.tasks.generate.core import GenerationError
from swerve.tasks.generate.gitops import sha256_of
from swerve.tasks.generate.project import discover
from swerve.tasks.generate.statement import changed_lines
from swerve.tasks.swebench import files_in_patch, load_instances

SOURCE = '''\
"""A small library."""


def clamp(value, low, high):
    if value < low:
        return low
    if value > high:
        return high
    return value


def chunks(items, size):
    if size <= 0:
        raise ValueError("size must be positive")
    return [items[i : i + size] for i in range(0, len(items), size)]


def mean(values):
    if not values:
        return 0.0
    total = 0
    for v in values:
        total += v
    return total / len(values)
'''

TESTS = """\
import pytest

from tinylib import chunks, clamp, mean


def test_clamp_inside():
    assert clamp(5, 0, 10) == 5


def test_clamp_low():
    assert clamp(-3, 0, 10) == 0


def test_clamp_high():
    assert clamp(30, 0, 10) == 10


def test_chunks():
    assert chunks([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]


def test_chunks_bad_size():
    with pytest.raises(ValueError):
        chunks([1], 0)


def test_mean():
    assert mean([1, 2, 3, 6]) == 3


def test_mean_empty():
    assert mean([]) == 0.0
"""

FILES = {
    "pyproject.toml": '[project]\nname = "tinylib"\nversion = "1.0"\ndependencies = []\n',
    "src/tinylib/__init__.py": SOURCE,
    "src/tinylib/broken.py": "def broken(:\n",
    "tests/test_tiny.py": TESTS,
}


def write_project(root: Path, files: dict[str, str] = FILES) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    ident = ["-c", "user.name=t", "-c", "user.email=t@localhost"]
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(root), *ident, "commit", "-qm", "init"], check=True)
    return root


def swerve(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "swerve.cli.main", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    cache = tmp_path_factory.mktemp("cache")
    src = str(Path(__file__).resolve().parents[2] / "src")
    return {**os.environ, "SWERVE_CACHE": str(cache), "UV_OFFLINE": "1", "PYTHONPATH": src}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> tuple[Path, Path, str]:
    """Two tasks made from a local repository (tests run with this Python: no venv build)."""
    work = tmp_path_factory.mktemp("gen")
    repo = write_project(work / "tinylib")
    out = work / "tasks.jsonl"
    args = ["tasks", "generate", "--repo", str(repo), "--count", "2", "--out", str(out)]
    proc = swerve(*args, "--python", sys.executable, env=env, cwd=work)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return out, repo, proc.stdout


def test_discover_finds_code_tests_and_what_it_skips(tmp_path: Path) -> None:
    project = discover(write_project(tmp_path / "p"), default_name="p")
    assert project.name == "tinylib" and project.version == "1.0"
    assert project.import_root == "src"
    assert project.test_paths == ("tests",)
    assert project.source_files == ("src/tinylib/__init__.py",)
    assert any(s.startswith("src/tinylib/broken.py: does not parse") for s in project.skipped)
    assert project.requirements[0].startswith("pytest==")


def test_a_project_without_tests_is_refused_with_the_reason(tmp_path: Path) -> None:
    root = tmp_path / "notests"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("def f():\n    return 1\n")
    with pytest.raises(GenerationError, match="no tests found"):
        discover(root)


def test_generated_tasks_are_swebench_records_whose_fix_touches_no_test(
    generated: tuple[Path, Path, str],
) -> None:
    out, _, stdout = generated
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 2
    for row in rows:
        for key in ("instance_id", "repo", "base_commit", "patch", "test_patch", "problem_statement",
                    "version", "FAIL_TO_PASS", "PASS_TO_PASS", "environment_setup_commit", "created_at"):  # fmt: skip
            assert key in row
        f2p = json.loads(row["FAIL_TO_PASS"])
        assert f2p and all(t.startswith("tests/test_tiny.py::") for t in f2p)
        assert set(f2p).isdisjoint(json.loads(row["PASS_TO_PASS"]))
        assert files_in_patch(row["patch"]) == ("src/tinylib/__init__.py",)
        assert not [line for line in changed_lines(row["patch"]) if line in row["problem_statement"]]
    assert len({r["patch"] for r in rows}) == 2
    report = json.loads(out.with_name(out.name + ".report.json").read_text())
    assert report["valid"] == 2 and report["tried"] >= 2
    assert any("broken.py: does not parse" in s for s in report["skipped"])
    assert "valid" in stdout
    tasks = load_instances(out)
    assert all(t.source.kind == "git" and Path(t.source.location).is_dir() for t in tasks)


def test_eval_validate_finds_every_generated_task_valid(
    generated: tuple[Path, Path, str], env: dict[str, str]
) -> None:
    out, _, _ = generated
    args = [
        "eval",
        "--dataset",
        str(out),
        "--validate",
        "--no-report",
        "--report-dir",
        str(out.parent / "ev"),
    ]
    proc = swerve(*args, env=env, cwd=out.parent)
    if "environment" in proc.stdout and "valid        0" in proc.stdout:
        pytest.skip(f"the test venv cannot be built offline here: {proc.stdout[-400:]}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "valid        2 / 2" in proc.stdout


def test_gym_runs_the_generated_tasks(generated: tuple[Path, Path, str], env: dict[str, str]) -> None:
    out, _, _ = generated
    args = ["gym", "run", "--tasks", str(out), "--out", str(out.parent / "gym"), "--model", "replay:demo"]
    proc = swerve(*args, "--no-report", "--json", env=env, cwd=out.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["done"] == 2 and summary["infra_errors"] == 0


def test_a_second_run_resumes_without_judging_again(
    generated: tuple[Path, Path, str], env: dict[str, str]
) -> None:
    out, repo, _ = generated
    state = out.with_name(out.name + ".state.jsonl")
    before = state.read_text().splitlines()
    args = [
        "tasks",
        "generate",
        "--repo",
        str(repo),
        "--count",
        "3",
        "--out",
        str(out),
        "--python",
        sys.executable,
    ]
    proc = swerve(*args, env=env, cwd=out.parent)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    after = state.read_text().splitlines()
    assert after[: len(before)] == before
    keys = [json.loads(line)["key"] for line in after[1:]]
    assert len(keys) == len(set(keys)), "a candidate was judged twice"
    assert len(out.read_text().splitlines()) == 3
    assert json.loads(out.with_name(out.name + ".report.json").read_text())["resumed"] == len(before) - 1


class _PyPI(BaseHTTPRequestHandler):
    files: ClassVar[dict[str, bytes]] = {}
    index: ClassVar[dict[str, Any]] = {}

    def do_GET(self) -> None:
        body = self.files.get(self.path)
        if body is None and self.path in self.index:
            body = json.dumps(self.index[self.path]).encode()
        self.send_response(200 if body is not None else 404)
        self.end_headers()
        self.wfile.write(body or b"{}")

    def log_message(self, *args: Any) -> None:
        pass


def test_an_sdist_from_the_index_becomes_a_parquet_dataset(tmp_path: Path, env: dict[str, str]) -> None:
    pytest.importorskip("pyarrow", reason="parquet output needs pyarrow")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for rel, text in {**FILES, "PKG-INFO": "Name: tinylib\nVersion: 1.0\n"}.items():
            data = text.encode()
            info = tarfile.TarInfo(f"tinylib-1.0/{rel}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    archive = tmp_path / "tinylib-1.0.tar.gz"
    archive.write_bytes(buf.getvalue())
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PyPI)
    base = f"http://127.0.0.1:{server.server_port}"
    _PyPI.files = {"/files/tinylib-1.0.tar.gz": archive.read_bytes()}
    entry = {"packagetype": "sdist", "filename": archive.name, "url": f"{base}/files/{archive.name}",
             "digests": {"sha256": sha256_of(archive)}}  # fmt: skip
    _PyPI.index = {"/pypi/tinylib/1.0/json": {"urls": [entry]}}
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        out = tmp_path / "tasks.parquet"
        args = ["tasks", "generate", "--sdist", "tinylib==1.0", "--count", "1", "--out", str(out)]
        run_env = {**env, "SWERVE_PYPI_URL": base}
        proc = swerve(*args, "--python", sys.executable, "--strategies", "combo", env=run_env, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr + proc.stdout
        missing = swerve("tasks", "generate", "--sdist", "tinylib==9.9", "--count", "1", "--out",
                         str(tmp_path / "none.jsonl"), env=run_env, cwd=tmp_path)  # fmt: skip
    finally:
        server.shutdown()
    import pyarrow.parquet as pq

    rows = pq.read_table(out).to_pylist()
    assert (
        len(rows) == 1 and rows[0]["repo"] == "pypi/tinylib" and rows[0]["generator"]["strategy"] == "combo"
    )
    assert len(rows[0]["generator"]["edits"]) >= 2
    assert load_instances(out)[0].fail_to_pass
    assert missing.returncode == 1 and "not on" in missing.stderr, missing.stderr


def test_bad_arguments_are_refused_before_any_work(tmp_path: Path, env: dict[str, str]) -> None:
    bad = swerve(
        "tasks",
        "generate",
        "--sdist",
        "no-version",
        "--count",
        "1",
        "--out",
        "x.jsonl",
        env=env,
        cwd=tmp_path,
    )
    assert bad.returncode == 1 and "NAME==VERSION" in bad.stderr
    bad = swerve(
        "tasks", "generate", "--repo", str(tmp_path), "--count", "1", "--out", "x.csv", env=env, cwd=tmp_path
    )
    assert bad.returncode == 1 and ".jsonl or .parquet" in bad.stderr
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("X = 1\n")
    bad = swerve(
        "tasks",
        "generate",
        "--repo",
        str(tmp_path),
        "--count",
        "1",
        "--out",
        "x.jsonl",
        env=env,
        cwd=tmp_path,
    )
    assert bad.returncode == 1 and "no tests found" in bad.stderr


ISSUE = (
    "clamp gives the wrong answer for small values\n\nCalling `tinylib.clamp(-3, 0, 10)` I expected 0 "
    "and got something else. Same thing in my app with other numbers."
)


def test_the_configured_model_writes_issue_statements_from_failures_only(
    tmp_path: Path, env: dict[str, str], openai_server: Any
) -> None:
    srv = openai_server([{"text": ISSUE}, {"text": ISSUE}])
    repo = write_project(tmp_path / "tinylib")
    out = tmp_path / "issues.jsonl"
    args = [
        "tasks",
        "generate",
        "--repo",
        str(repo),
        "--count",
        "1",
        "--out",
        str(out),
        "--python",
        sys.executable,
    ]
    model = ["--model", "issue-writer", "--provider", "openai", "--base-url", srv.base_url, "--api-key", "k"]
    proc = swerve(*args, *model, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    row = json.loads(out.read_text().splitlines()[0])
    assert row["problem_statement"] == ISSUE and row["generator"]["statement"] == "model"
    asked = json.dumps([r.json for r in srv.completions])
    assert srv.completions and "diff --git" not in asked
    assert not [line for line in changed_lines(row["patch"]) if line in asked]


def test_a_statement_that_shows_the_fix_is_replaced_by_the_fallback() -> None:
    from swerve.tasks.generate.issue import choose

    patch = (
        "diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -1,2 +1,2 @@\n"
        "-    return total // count\n+    return total / count\n"
    )
    leaky = "mean is wrong. I think the line `return total / count` should be used instead of what is there."
    assert choose(leaky, "the fallback", patch) == ("the fallback", "fallback")
    assert choose("too short", "the fallback", patch) == ("the fallback", "fallback")
    good = "mean returns an integer for [1, 2]: I expected 1.5 and got 1, which broke my report totals."
    assert choose(good, "the fallback", patch) == (good, "model")

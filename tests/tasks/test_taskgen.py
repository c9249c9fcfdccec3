"""``swerve tasks generate`` end to end on a small project written here: a local repository and an
sdist served by a loopback PyPI, checked by ``swerve eval --validate`` and run by ``swerve gym``."""

from __future__ import annotations

import io
import itertools
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
from swerve.tasks.generate.project import PYTEST_PINS, discover
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
    # The generated tasks' venvs are built offline, from uv's cache: fill it once with the pins.
    uv, warm = Path(sys.executable).parent / "uv", tmp_path_factory.mktemp("warm") / "venv"
    if uv.exists() and subprocess.run([str(uv), "venv", "-q", str(warm)]).returncode == 0:
        subprocess.run(
            [str(uv), "pip", "install", "-q", "--python", str(warm / "bin" / "python"), *PYTEST_PINS]
        )
    return {**os.environ, "SWERVE_CACHE": str(cache), "UV_OFFLINE": "1", "PYTHONPATH": src}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> tuple[Path, Path, str]:
    """Two tasks made from a local repository by two workers (tests run with this Python)."""
    work = tmp_path_factory.mktemp("gen")
    repo = write_project(work / "tinylib")
    out = work / "tasks.jsonl"
    args = ["tasks", "generate", "--repo", str(repo), "--count", "2", "--out", str(out)]
    proc = swerve(*args, "--python", sys.executable, "--workers", "2", env=env, cwd=work)
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


def test_a_killed_run_resumes_without_judging_again(tmp_path: Path, env: dict[str, str]) -> None:
    import signal
    import time

    repo = write_project(tmp_path / "tinylib")
    out = tmp_path / "tasks.jsonl"
    state = out.with_name(out.name + ".state.jsonl")
    argv = [sys.executable, "-m", "swerve.cli.main", "tasks", "generate", "--repo", str(repo), "--count", "3"]
    argv += ["--out", str(out), "--python", sys.executable]
    proc = subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        waited = 0.0
        while proc.poll() is None and (not state.is_file() or len(state.read_text().splitlines()) < 2):
            time.sleep(0.2)
            waited += 0.2
            assert waited < 600, "no candidate was judged"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    before = [line for line in state.read_text().splitlines() if line.endswith("}")]
    again = swerve(*argv[3:], env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr + again.stdout
    after = state.read_text().splitlines()
    assert after[: len(before)] == before
    keys = [json.loads(line)["key"] for line in after[1:] if line.endswith("}")]
    assert len(keys) == len(set(keys)), "a candidate was judged twice"
    assert len(out.read_text().splitlines()) == 3


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


BUGGY_CLAMP = """```python
def clamp(value, low, high):
    if value < low:
        return high
    if value > high:
        return high
    return value
```"""


def test_history_and_model_strategies(tmp_path: Path, env: dict[str, str], openai_server: Any) -> None:
    # the first commit has the bug that the second fixes (with a new test for it)
    old = SOURCE.replace("    if not values:\n        return 0.0\n", "")
    repo = write_project(tmp_path / "tinylib", {**FILES, "src/tinylib/__init__.py": old})
    (repo / "src/tinylib/__init__.py").write_text(SOURCE)
    ident = ["-c", "user.name=t", "-c", "user.email=t@localhost"]
    subprocess.run(["git", "-C", str(repo), *ident, "commit", "-qam", "mean of nothing is 0"], check=True)
    srv = openai_server([{"text": BUGGY_CLAMP}] * 3)
    out = tmp_path / "mixed.jsonl"  # named relative to the working folder
    args = ["tasks", "generate", "--repo", str(repo), "--count", "2", "--out", out.name]
    args += ["--python", sys.executable]
    model = ["--model", "bug-writer", "--provider", "openai", "--base-url", srv.base_url, "--api-key", "k"]
    proc = swerve(
        *args, "--strategies", "history,model", "--no-model-statements", *model, env=env, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    rows = {
        json.loads(line)["generator"]["strategy"]: json.loads(line) for line in out.read_text().splitlines()
    }
    assert set(rows) == {"history", "model"}
    assert json.loads(rows["history"]["FAIL_TO_PASS"]) == ["tests/test_tiny.py::test_mean_empty"]
    assert "+    if not values:" in rows["history"]["patch"]
    assert "-        return high\n+        return low" in rows["model"]["patch"].replace("\n \n", "\n")

    # started again for more, the run reads the model's candidates back instead of asking again
    def asked() -> int:  # completions, not the model's discovery (GET /v1/models)
        return sum(r.path.endswith("/chat/completions") for r in srv.requests)

    before = asked()
    assert before >= 1
    args[args.index("--count") + 1] = "3"
    proc = swerve(
        *args, "--strategies", "history,model", "--no-model-statements", *model, env=env, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert asked() == before
    assert "model candidate(s) from an earlier run, not asked again" in proc.stdout + proc.stderr
    again = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows["model"]["instance_id"] in {r["instance_id"] for r in again}


def test_solve_rates_are_measured_through_the_farm_and_filter(
    generated: tuple[Path, Path, str], env: dict[str, str]
) -> None:
    out, repo, _ = generated
    rated = out.with_name("rated.jsonl")
    args = [
        "tasks",
        "generate",
        "--repo",
        str(repo),
        "--count",
        "1",
        "--out",
        str(rated),
        "--python",
        sys.executable,
    ]
    flags = ["--model", "replay:demo", "--no-model-statements", "--solve-rate", "1"]
    proc = swerve(*args, *flags, env=env, cwd=out.parent)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    rows = [json.loads(line) for line in rated.read_text().splitlines()]
    assert [r["solve_rate"] for r in rows] == [0.0]  # the demo replay fixes nothing
    proc = swerve(*args, *flags, "--keep-solve-rate", "0.5..1", env=env, cwd=out.parent)
    assert proc.returncode == 1 and "kept 0 of 1" in proc.stderr
    assert rated.read_text() == ""
    bad = swerve(*args, "--keep-solve-rate", "0.5..1", env=env, cwd=out.parent)
    assert bad.returncode == 2 and "needs --solve-rate" in bad.stderr


NEEDS_NETWORK = """\
import socket


def test_fetches_something():
    socket.create_connection(("192.0.2.1", 80), timeout=2).close()
"""


def test_tests_that_need_the_network_or_do_not_collect_are_left_out(
    tmp_path: Path, env: dict[str, str]
) -> None:
    files = {
        **FILES,
        "tests/test_net.py": NEEDS_NETWORK,
        "tests/test_gone.py": "import not_installed_anywhere\n",
    }
    repo = write_project(tmp_path / "tinylib", files)
    out = tmp_path / "t.jsonl"
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
    proc = swerve(*args, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    report = json.loads(out.with_name(out.name + ".report.json").read_text())
    assert "tests/test_gone.py: does not collect" in report["skipped"]
    assert any("need the network" in s for s in report["skipped"]) or "unshare" not in proc.stderr
    row = json.loads(out.read_text())
    assert "test_net" not in row["PASS_TO_PASS"] + row["FAIL_TO_PASS"]


def test_a_suite_slower_than_the_budget_is_refused_with_the_reason(
    tmp_path: Path, env: dict[str, str]
) -> None:
    slow = "import time\n\n\ndef test_slow():\n    time.sleep(6)\n"
    repo = write_project(tmp_path / "tinylib", {**FILES, "tests/test_slow.py": slow})
    out = tmp_path / "t.jsonl"
    args = ["tasks", "generate", "--repo", str(repo), "--count", "1", "--out", str(out), "--timeout", "1"]
    proc = swerve(*args, "--python", sys.executable, env=env, cwd=tmp_path)
    assert proc.returncode == 1 and "took longer than 3s" in proc.stderr, proc.stderr
    assert "took longer" in json.loads(out.with_name(out.name + ".report.json").read_text())["error"]


def test_combos_join_two_or_three_separate_edits_in_one_function(tmp_path: Path) -> None:
    from swerve.tasks.generate.candidates import combos
    from swerve.tasks.generate.mutate import mutations_for

    found = mutations_for("m.py", SOURCE.encode())
    picked = combos(found, seed=0, limit=20)
    assert picked and len({c.key for c in picked}) == len(picked)
    for cand in picked:
        assert 2 <= len(cand.edits) <= 3
        assert len({m.function for m in cand.edits}) == 1 and cand.edits[0].function
        assert len({m.line for m in cand.edits}) == len(cand.edits)
        spans = sorted((m.start, m.end) for m in cand.edits)
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
    assert [c.key for c in combos(found, seed=0, limit=20)] == [c.key for c in picked]


def test_a_state_file_of_another_run_is_refused(tmp_path: Path) -> None:
    from swerve.tasks.generate.state import RunState

    path = tmp_path / "x.jsonl.state.jsonl"
    first = RunState(path, {"project": "a-1", "seed": 0})
    first.load()
    first.append({"key": "p-1", "strategy": "procedural", "why": "no test broke"})
    with open(path, "a") as f:
        f.write('{"key": "p-2", "strat')  # a line cut short by a kill
    again = RunState(path, {"project": "a-1", "seed": 0})
    assert set(again.load()) == {"p-1"}
    again.append({"key": "p-2", "strategy": "procedural", "why": "no test broke"})
    assert set(RunState(path, {"project": "a-1", "seed": 0}).load()) == {"p-1", "p-2"}
    with pytest.raises(GenerationError, match="another run"):
        RunState(path, {"project": "b-1", "seed": 0}).load()


def test_a_project_whose_requirements_do_not_resolve_is_refused_with_the_reason(
    tmp_path: Path, env: dict[str, str]
) -> None:
    from swerve.tasks.envbuild import uv_binary

    if uv_binary() is None:
        pytest.skip("uv is not installed: requirements are not resolved ahead of the venv build")
    pyproject = (
        '[project]\nname = "tinylib"\nversion = "1.0"\ndependencies = ["no-such-package-swerve-test>=1"]\n'
    )
    repo = write_project(tmp_path / "tinylib", {**FILES, "pyproject.toml": pyproject})
    out = tmp_path / "t.jsonl"
    proc = swerve(
        "tasks", "generate", "--repo", str(repo), "--count", "1", "--out", str(out), env=env, cwd=tmp_path
    )
    assert proc.returncode == 1 and "requirements do not resolve" in proc.stderr, proc.stderr
    assert "do not resolve" in json.loads(out.with_name(out.name + ".report.json").read_text())["error"]

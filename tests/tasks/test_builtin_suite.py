"""The stored built-in suite: loading, its fields, its statements, and a real run of a few tasks."""

from __future__ import annotations

import json
import re
import shutil
import sys

import pytest

from swerve.errors import TaskError
from swerve.tasks.builtin import LIBRARIES, load_builtin
from swerve.tasks.builtin.sources import SourceError, ensure_task_repo, git, git_env, is_cached, sdist_path
from swerve.tasks.builtin.suite import read_records, task_from_record
from swerve.tasks.builtin.validate import check_task
from swerve.tasks.generate.statement import changed_lines, leaked_lines

HEX40 = re.compile(r"^[0-9a-f]{40}$")


@pytest.fixture(scope="module")
def tasks():
    return load_builtin(prepare=False)


def test_suite_has_at_least_20_tasks_over_4_libraries(tasks):
    assert len(tasks) >= 20
    per_library: dict[str, int] = {}
    for t in tasks:
        per_library[t.metadata["library"]] = per_library.get(t.metadata["library"], 0) + 1
    assert len(per_library) >= 4
    assert min(per_library.values()) >= 4, per_library
    assert len({t.id for t in tasks}) == len(tasks)


def test_every_task_has_all_fields(tasks):
    for t in tasks:
        lib = LIBRARIES[t.metadata["library"]]
        assert t.version == lib.version and t.repo == lib.repo
        assert HEX40.match(t.base_commit), t.id
        assert t.source.kind == "git" and t.source.location.endswith(f"{t.id}.git")
        assert t.problem_statement.strip() and t.gold_patch and t.metadata["bug_patch"]
        assert t.fail_to_pass and t.pass_to_pass, t.id
        assert not set(t.fail_to_pass) & set(t.pass_to_pass)
        assert t.test_command.startswith("python -m pytest") and "-rA" in t.test_command
        files = {test.split("::", 1)[0] for test in (*t.fail_to_pass, *t.pass_to_pass)}
        assert files <= set(t.test_files), t.id
        assert t.env is not None and any(p.startswith("pytest==") for p in t.env.pins)
        assert t.env.install, "the checkout must be put on the venv's path"
        assert t.log_parser == "pytest"
        assert t.metadata["sdist_sha256"] == lib.sha256
        for test in (*t.fail_to_pass, *t.pass_to_pass):
            assert not any(c.isspace() for c in test), f"{t.id}: {test!r} would not survive the -rA log"


def test_libraries_are_pinned_with_hashes():
    for lib in LIBRARIES.values():
        assert re.match(r"^[0-9a-f]{64}$", lib.sha256)
        assert lib.url.startswith("https://files.pythonhosted.org/") and lib.url.endswith("/" + lib.sdist)
        assert lib.sdist.endswith(".tar.gz") and lib.version in lib.sdist
        assert lib.source_files and lib.test_paths


def test_gold_patch_is_the_bug_reversed(tasks):
    for t in tasks:
        bug, gold = t.metadata["bug_patch"], t.gold_patch
        added = [line[1:] for line in bug.splitlines() if line.startswith("+") and not line.startswith("+++")]
        removed = [
            line[1:] for line in gold.splitlines() if line.startswith("-") and not line.startswith("---")
        ]
        assert added == removed, t.id
        # the bug touches library code, never the tests that judge it
        touched = re.findall(r"^\+\+\+ b/(\S+)", bug, re.M)
        assert touched and not set(touched) & set(t.test_files), t.id


def test_problem_statements_do_not_show_the_fix(tasks):
    for t in tasks:
        assert changed_lines(t.gold_patch), t.id
        assert leaked_lines(t.problem_statement, t.gold_patch) == [], t.id
        assert "diff --git" not in t.problem_statement
        assert t.metadata["mutation"]["file"] not in t.problem_statement, t.id


def test_malformed_records_get_clear_errors(tmp_path):
    good = read_records("inflection")[0]
    broken = dict(good)
    del broken["gold_patch"]
    with pytest.raises(TaskError, match="missing gold_patch"):
        task_from_record(broken)
    with pytest.raises(TaskError, match="unknown built-in library"):
        task_from_record({**good, "library": "nope"})
    with pytest.raises(TaskError, match="FAIL_TO_PASS"):
        task_from_record({**good, "FAIL_TO_PASS": "not a list"})
    with pytest.raises(TaskError, match="pinned at"):
        task_from_record({**good, "version": "0.0.1"})
    (tmp_path / "inflection.json").write_text("{not json")
    with pytest.raises(TaskError, match="unreadable"):
        load_builtin(prepare=False, data_dir=tmp_path)
    (tmp_path / "inflection.json").write_text(json.dumps({"tasks": [good, good]}))
    with pytest.raises(TaskError, match="duplicate"):
        load_builtin(prepare=False, data_dir=tmp_path)
    with pytest.raises(TaskError, match="unknown built-in library"):
        load_builtin(prepare=False, libraries=["nope"])


# -- a real run of a few tasks ----------------------------------------------------------------------

SAMPLE_LIBRARY = "inflection"
SAMPLE_SIZE = 3


@pytest.fixture(scope="module")
def sample_cache(tmp_path_factory):
    """A fresh cache holding only the sample library's sdist (taken from the user's cache)."""
    lib = LIBRARIES[SAMPLE_LIBRARY]
    if not is_cached(lib):
        pytest.skip(
            f"{lib.sdist} is not in the cache and tests make no network calls; "
            f"run `python -m swerve.tasks.builtin fetch --library {SAMPLE_LIBRARY}` once"
        )
    cache = tmp_path_factory.mktemp("cache")
    target = sdist_path(lib, cache)
    target.parent.mkdir(parents=True)
    shutil.copyfile(sdist_path(lib), target)
    return cache


@pytest.fixture(scope="module")
def sample_tasks(sample_cache):
    tasks = load_builtin(prepare=True, libraries=[SAMPLE_LIBRARY], cache=sample_cache)
    return tasks[:SAMPLE_SIZE]


def test_starting_state_is_one_commit_with_the_recorded_id(sample_tasks):
    for t in sample_tasks:
        env = git_env(GIT_DIR=t.source.location)
        assert git(["rev-parse", "HEAD"], env=env).strip() == t.base_commit
        assert git(["rev-list", "--count", "--all"], env=env).strip() == "1", "no history that shows the fix"


async def test_bug_breaks_fail_to_pass_and_gold_fixes_it(sample_tasks):
    for t in sample_tasks:
        check = await check_task(t, sys.executable, timeout=120)
        assert check.valid, (t.id, check.reason)
        assert not check.f2p_passing_with_bug and not check.failing_with_gold


WRONG_FIX = """diff --git a/NOTES.txt b/NOTES.txt
new file mode 100644
--- /dev/null
+++ b/NOTES.txt
@@ -0,0 +1 @@
+not a fix
"""


async def test_a_wrong_fix_is_caught(sample_cache, sample_tasks):
    """The check can fail: with a patch that fixes nothing, the task is reported invalid."""
    wrong = task_from_record({**_record_of(sample_tasks[0]), "gold_patch": WRONG_FIX}, cache=sample_cache)
    check = await check_task(wrong, sys.executable, timeout=120)
    assert not check.valid
    assert "RESOLVED_NO" in check.reason
    assert set(check.failing_with_gold) >= set(wrong.fail_to_pass)


def test_a_build_that_disagrees_with_the_record_is_refused(sample_cache, sample_tasks):
    t = sample_tasks[0]
    with pytest.raises(SourceError, match="records"):
        ensure_task_repo(
            LIBRARIES[SAMPLE_LIBRARY],
            "other-id",
            t.metadata["bug_patch"],
            expected_commit="0" * 40,
            cache=sample_cache,
        )


def _record_of(task) -> dict:
    return next(r for r in read_records(task.metadata["library"]) if r["id"] == task.id)

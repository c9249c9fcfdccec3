"""Eval scripts: the dataset's own, adapted to an instance layer; generated ones for classic instances."""

from __future__ import annotations

from pathlib import Path

import pytest

from swerve.tasks.evalscript import adapt_eval_script, eval_script_for, generate_eval_script
from swerve.tasks.model import RepoSource, Task
from swerve.tasks.swebench import load_instances

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "swebench"

V5_SCRIPT = """#!/bin/bash
set -uxo pipefail
source /opt/miniconda3/bin/activate
conda activate testbed
cd /testbed
git config --global --add safe.directory /testbed
git checkout abc tests/test_x.py
git apply -v - <<'EOF_114329324912'
diff --git a/tests/test_x.py b/tests/test_x.py
+# mentions /testbed and conda activate testbed, and must stay as written
EOF_114329324912
: '>>>>> Start Test Output'
pytest -rA tests/test_x.py
: '>>>>> End Test Output'
git checkout abc tests/test_x.py
"""


def test_adapting_a_v5_script() -> None:
    out = adapt_eval_script(V5_SCRIPT, testbed="/cache/i/testbed", activate="/cache/i/activate.sh")
    lines = out.splitlines()
    assert "source /cache/i/activate.sh" in lines
    assert not any(line.startswith("conda activate") for line in lines)
    assert "cd /cache/i/testbed" in lines
    assert "git config --global --add safe.directory /cache/i/testbed" in lines
    assert "+# mentions /testbed and conda activate testbed, and must stay as written" in lines  # heredoc
    end = lines.index(": '>>>>> End Test Output'")
    assert lines[end - 1] == "SWEBENCH_TEST_EXIT_CODE=$?"
    assert lines[end + 1] == 'echo ">>>>> Test Exit Code: $SWEBENCH_TEST_EXIT_CODE"'
    assert lines[end - 2] == "pytest -rA tests/test_x.py"


def test_adapting_every_verified_script_keeps_its_shape() -> None:
    pytest.importorskip("pyarrow", reason="pyarrow (the tasks extra) is needed for parquet")
    path = DATA / "SWE-bench_Verified_test.parquet"
    if not path.exists():
        pytest.skip(f"shared SWE-bench data not present at {path}")
    for task in load_instances(path):
        out = eval_script_for(task, testbed="/l/testbed", activate="/l/activate.sh")
        assert "/opt/miniconda3" not in out and "conda activate" not in out.split("EOF_114329324912")[0]
        assert out.count(">>>>> Test Exit Code") == 1, task.id
        assert "cd /l/testbed" in out


def task(**kw) -> Task:
    base = {
        "id": "django__django-1",
        "repo": "django/django",
        "source": RepoSource("snapshot"),
        "base_commit": "abc123",
        "test_command": "./tests/runtests.py --verbosity 2",
        "test_files": ("tests/forms_tests/test_x.py", "tests/forms_tests/data.json"),
        "test_patch": "diff --git a/tests/forms_tests/test_x.py b/tests/forms_tests/test_x.py\n",
    }
    base.update(kw)
    return Task(**base)


def test_generated_script_for_a_classic_instance() -> None:
    out = generate_eval_script(task(), testbed="/l/testbed", activate="/l/activate.sh")
    lines = out.splitlines()
    assert lines[:2] == ["#!/bin/bash", "set -uxo pipefail"]
    assert "git checkout abc123 tests/forms_tests/test_x.py tests/forms_tests/data.json" in lines
    assert "./tests/runtests.py --verbosity 2 forms_tests.test_x" in lines  # Django: module names
    assert lines.count("git checkout abc123 tests/forms_tests/test_x.py tests/forms_tests/data.json") == 2
    assert "EOF_114329324912" in lines


def test_generated_script_for_a_pytest_repo_and_a_native_task() -> None:
    t = task(repo="acme/calc", test_command="pytest -rA", test_files=("tests/test_a.py", "tests/notes.md"))
    out = generate_eval_script(t, testbed="/l/testbed", activate="/l/activate.sh")
    assert "pytest -rA tests/test_a.py" in out.splitlines()
    native = task(repo="mine", test_command="make test", test_files=(), test_patch=None, base_commit="")
    out = generate_eval_script(native, testbed="/l/testbed", activate="/l/activate.sh")
    assert "make test" in out.splitlines() and "git apply" not in out and "git checkout" not in out

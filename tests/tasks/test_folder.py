"""Native task folders: loading, errors, and a real evaluation of one."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from pathlib import Path

import pytest

from swerve.errors import TaskError
from swerve.tasks.folder import load_task_folder, load_task_folders

PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"

TASK_TOML = f"""\
id = "greet-1"
repo = "me/greet"

[environment]
python = "{PYTHON}"
pins = ["pytest==8.3.3"]

[tests]
command = "pytest -rA -p no:cacheprovider tests"
fail_to_pass = ["tests/test_greet.py::test_shout"]
pass_to_pass = ["tests/test_greet.py::test_hello"]
timeout = 120
"""

SOLUTION = (
    "\n".join(
        [
            "diff --git a/greet.py b/greet.py",
            "--- a/greet.py",
            "+++ b/greet.py",
            "@@ -3,4 +3,4 @@ def hello(name):",
            " ",
            " ",
            " def shout(name):",
            "-    return hello(name)",
            "+    return hello(name).upper()",
        ]
    )
    + "\n"
)


def make_folder(root: Path, toml: str = TASK_TOML) -> Path:
    folder = root / "greet-1"
    repo = folder / "repo"
    (repo / "tests").mkdir(parents=True)
    (repo / "greet.py").write_text(
        "def hello(name):\n    return f'hello {name}'\n\n\ndef shout(name):\n    return hello(name)\n"
    )
    (repo / "pytest.ini").write_text("[pytest]\npythonpath = .\n")
    (repo / "tests" / "test_greet.py").write_text(
        textwrap.dedent(
            """\
            from greet import hello, shout


            def test_hello():
                assert hello("bo") == "hello bo"


            def test_shout():
                assert shout("bo") == "HELLO BO"
            """
        )
    )
    (folder / "task.toml").write_text(toml)
    (folder / "problem.md").write_text("shout() should shout.\n")
    (folder / "solution.patch").write_text(SOLUTION)
    return folder


def test_loading_a_task_folder(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    task = load_task_folder(folder)
    assert task.id == "greet-1" and task.repo == "me/greet"
    assert task.source.kind == "dir" and task.source.location == str((folder / "repo").resolve())
    assert task.problem_statement == "shout() should shout.\n"
    assert task.env is not None and task.env.pins == ("pytest==8.3.3",)
    assert task.gold_patch == SOLUTION and task.test_patch is None
    assert task.timeout_s == 120
    assert [t.id for t in load_task_folders(tmp_path)] == ["greet-1"]  # a folder of task folders


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("id = [", "invalid TOML"),
        ("[tests]\nfail_to_pass = ['x']\n", "command is required"),
        ("[tests]\ncommand = 'pytest'\n", "fail_to_pass must name at least one test"),
        ("[tests]\ncommand = 'pytest'\nfail_to_pass = ['x']\nlog_parser = 'nope'\n", "unknown log_parser"),
        ("[tests]\ncommand = 'pytest'\nfail_to_pass = 'x'\ntimeout = -1\n", "timeout must be a positive"),
        ("[source]\nkind = 'ftp'\n", "source kind must be one of"),
        ("[source]\nlocation = 'missing'\n[tests]\ncommand='t'\nfail_to_pass=['x']\n", "does not exist"),
        ("[environment]\npins = 5\n", "environment.pins must be a list of strings"),
    ],
)
def test_bad_task_folders_raise_clear_errors(tmp_path: Path, toml: str, message: str) -> None:
    folder = make_folder(tmp_path, toml)
    with pytest.raises(TaskError, match=message):
        load_task_folder(folder)


def test_no_task_here(tmp_path: Path) -> None:
    with pytest.raises(TaskError, match=r"no task\.toml"):
        load_task_folders(tmp_path)


def test_a_task_folder_evaluates_with_its_gold_patch(tmp_path: Path) -> None:
    from swerve.eval.environments import HostSandbox
    from swerve.eval.harness import EvalOptions, Harness
    from swerve.eval.validation import validate

    task = load_task_folder(make_folder(tmp_path))
    cache = Path(__file__).resolve().parents[2] / ".swerve-cache" / "tests"
    opts = EvalOptions(run_id="f", report_dir=tmp_path / "out", cache=cache, sandbox=HostSandbox())
    report, _ = asyncio.run(validate(Harness(opts), [task]))
    assert report["valid_ids"] == ["greet-1"], report["invalid_ids"]

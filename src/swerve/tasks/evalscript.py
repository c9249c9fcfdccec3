"""The eval script of a task, made to run in an instance layer instead of SWE-bench's container.

A v5 instance carries its own script: it is kept line for line except that conda activation
becomes our venv activation, ``/testbed`` becomes the layer's checkout, and the test command's
exit status is recorded after the end marker. A classic instance (no script) gets one generated
in the same shape: show the state, reset and apply the test patch, run the tests between
markers, reset the test files. Scripts run under ``set -uxo pipefail`` with stdout and stderr
merged, since the markers come from the ``set -x`` trace.
"""

from __future__ import annotations

import re
import shlex

from swerve.tasks.grading.verdict import END_MARK, EXIT_CODE_MARK, START_MARK
from swerve.tasks.model import Task

EXIT_VAR = "SWEBENCH_TEST_EXIT_CODE"
HEREDOC_END = "EOF_114329324912"
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")
_NON_TEST_SUFFIXES = (
    ".json",
    ".png",
    ".csv",
    ".txt",
    ".md",
    ".jpg",
    ".jpeg",
    ".pkl",
    ".yml",
    ".yaml",
    ".toml",
)


def with_exit_code(lines: list[str]) -> list[str]:
    """Record the test command's status right after it and print it after the end marker
    (once: a script that already does so is left as it is)."""
    if any(EXIT_CODE_MARK in line for line in lines):
        return lines
    for i, line in enumerate(lines):
        if END_MARK in line:
            return [
                *lines[:i],
                f"{EXIT_VAR}=$?",
                line,
                f'echo "{EXIT_CODE_MARK}: ${EXIT_VAR}"',
                *lines[i + 1 :],
            ]
    return lines


def adapt_eval_script(script: str, *, testbed: str, activate: str) -> str:
    """A dataset's eval script rewritten for an instance layer (heredoc bodies untouched)."""
    out: list[str] = []
    heredoc_end: str | None = None
    for line in script.strip("\n").split("\n"):
        if heredoc_end is not None:
            out.append(line)
            if line.strip() == heredoc_end:
                heredoc_end = None
            continue
        stripped = line.strip()
        if stripped.startswith("source /opt/miniconda3/bin/activate") or stripped.startswith(
            ". /opt/miniconda3"
        ):
            out.append(f"source {shlex.quote(activate)}")
            continue
        if stripped.startswith("conda activate"):
            continue
        line = re.sub(r"(?<![\w/.-])/testbed(?=[/\s'\"]|$)", testbed, line)
        out.append(line)
        m = _HEREDOC.search(line)
        if m:
            heredoc_end = m.group(2)
    return "\n".join(with_exit_code(out)) + "\n"


def test_directives(task: Task) -> list[str]:
    """What to append to the test command: the test files (as modules for Django)."""
    files = [f for f in task.test_files if not f.endswith(_NON_TEST_SUFFIXES)]
    if task.repo == "django/django":
        return [
            f[len("tests/") :].removesuffix(".py").replace("/", ".") for f in files if f.startswith("tests/")
        ]
    return files


def generate_eval_script(task: Task, *, testbed: str, activate: str) -> str:
    """An eval script for a task that has none (classic SWE-bench instances, native tasks)."""
    q = shlex.quote
    base = task.base_commit
    files = " ".join(q(f) for f in task.test_files)
    lines = [
        "#!/bin/bash",
        "set -uxo pipefail",
        f"source {q(activate)}",
        f"cd {q(testbed)}",
        f"git config --global --add safe.directory {q(testbed)}",
        "git status",
    ]
    if base:
        lines += ["git show --stat", f"git -c core.fileMode=false diff {q(base)}"]
    if task.test_patch:
        if base and files:
            lines.append(f"git checkout {q(base)} {files}")
        lines += [f"git apply -v - <<'{HEREDOC_END}'", task.test_patch.rstrip("\n"), HEREDOC_END]
    directives = " ".join(q(d) for d in test_directives(task))
    command = f"{task.test_command} {directives}".strip()
    lines += [f": '{START_MARK}'", command, f": '{END_MARK}'"]
    if task.test_patch and base and files:
        lines.append(f"git checkout {q(base)} {files}")
    return "\n".join(with_exit_code(lines)) + "\n"


def eval_script_for(task: Task, *, testbed: str, activate: str) -> str:
    if task.eval_script.strip():
        return adapt_eval_script(task.eval_script, testbed=testbed, activate=activate)
    return generate_eval_script(task, testbed=testbed, activate=activate)

"""Generated tasks as a SWE-bench dataset: the records, and the repository their commits live in.

Each record has SWE-bench's fields (``instance_id``, ``repo``, ``base_commit``, ``patch``,
``test_patch``, ``problem_statement``, ``version``, ``FAIL_TO_PASS`` and ``PASS_TO_PASS`` as
JSON-encoded lists, ``environment_setup_commit``, ``created_at``, ``hints_text``, and v5's
``eval_script``), plus swerve's ``environment`` (how to build the test venv) and ``source`` (the
bare repository next to the dataset that holds every task's starting state as a tag; relative to
the dataset file). ``swerve eval --dataset FILE`` and ``swerve gym run --tasks FILE`` read it as
is; pandas and ``datasets`` read the ``.jsonl`` or ``.parquet``.
"""

from __future__ import annotations

import json
import shlex
import tempfile
from pathlib import Path
from typing import Any

from swerve.tasks.generate.gitops import git, git_env
from swerve.tasks.generate.project import Project
from swerve.tasks.grading.verdict import END_MARK, START_MARK

LIST_FIELDS = ("FAIL_TO_PASS", "PASS_TO_PASS")


def repos_dir(out: Path) -> Path:
    return out.with_name(out.stem + ".repos")


def task_repo(out: Path, project: Project) -> Path:
    """The bare repository for ``project``'s tasks, made on first use."""
    path = (repos_dir(out) / f"{project.origin}__{project.name}.git").resolve()
    if not (path / "HEAD").is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        git(["init", "--quiet", "--bare", str(path)])
    return path


def commit_task(repo: Path, tree: Path, tag: str, message: str) -> str:
    """Commit ``tree`` as it is now (no parent: its history shows no fix) and tag it ``tag``."""
    with tempfile.TemporaryDirectory(prefix="swerve-index-") as scratch:
        env = git_env(GIT_DIR=str(repo), GIT_WORK_TREE=str(tree), GIT_INDEX_FILE=str(Path(scratch) / "index"))
        git(["add", "--all", "--force", "."], cwd=tree, env=env)
        tree_id = git(["write-tree"], cwd=tree, env=env).strip()
        commit = git(["commit-tree", tree_id, "-m", message], cwd=tree, env=env).strip()
        git(["update-ref", f"refs/tags/{tag}", commit], cwd=tree, env=env)
    return commit


def eval_script(test_command: str, test_files: list[str], base_commit: str) -> str:
    """A SWE-bench v5 eval script: show the state, run the judged test files between the markers."""
    files = " ".join(shlex.quote(f) for f in test_files)
    return "\n".join(
        [
            "#!/bin/bash",
            "set -uxo pipefail",
            "source /opt/miniconda3/bin/activate",
            "conda activate testbed",
            "cd /testbed",
            "git status",
            f"git -c core.fileMode=false diff {base_commit}",
            f": '{START_MARK}'",
            f"{test_command} {files}",
            f": '{END_MARK}'",
        ]
    )


def to_swebench(record: dict[str, Any]) -> dict[str, Any]:
    """The stored form: test lists JSON-encoded, as SWE-bench ships them."""
    out = dict(record)
    for key in LIST_FIELDS:
        out[key] = json.dumps(list(record[key]))
    return out


def write_dataset(out: Path, records: list[dict[str, Any]]) -> None:
    """Write ``records`` to ``out`` (``.jsonl`` or ``.parquet``), replacing it."""
    rows = [to_swebench(r) for r in sorted(records, key=lambda r: r["instance_id"])]
    tmp = out.with_name(out.name + ".part")
    if out.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), tmp)
    else:
        with open(tmp, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(out)


def check_out_path(out: Path) -> None:
    from swerve.tasks.generate.core import GenerationError

    if out.suffix not in (".jsonl", ".parquet"):
        raise GenerationError(f"--out {out}: use a .jsonl or .parquet file")
    if out.suffix == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise GenerationError("--out .parquet needs pyarrow (pip install 'swerve[tasks]')") from None

"""Environment sources: loading what the command line names, clear errors, and pickling (a source
crosses to Ray workers)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from swerve.gym.env import DirectoryEnv, TaskEnv
from swerve.gym.sources import DirectoryEntry, DirectorySource, TaskSource, load_source
from swerve.models.base import ToolCall

pytestmark = pytest.mark.timeout(120)


def env_record(tmp_path: Path, name: str, **more) -> dict:
    start = tmp_path / name
    start.mkdir(exist_ok=True)
    (start / "README").write_text(f"{name}\n")
    return {"id": name, "path": name, "verify": "test -f done", "prompt": f"finish {name}", **more}


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_a_jsonl_file_of_directories(tmp_path: Path) -> None:
    spec = write_jsonl(
        tmp_path / "envs.jsonl", [env_record(tmp_path, "a"), env_record(tmp_path, "b", verify_timeout_s=5)]
    )
    source = load_source(str(spec))
    assert isinstance(source, DirectorySource)
    assert source.task_ids() == ["a", "b"]
    assert source.prompt("b") == "finish b"
    assert source.affinity("a") == str(tmp_path / "a")  # relative to the file's folder
    env = source.make("b")
    assert isinstance(env, DirectoryEnv) and env.verify_timeout_s == 5 and env.path == str(tmp_path / "b")
    described = source.describe()
    assert described["kind"] == "directories" and described["tasks"] == 2
    json.dumps(described)
    with pytest.raises(KeyError, match="unknown task 'c'"):
        source.make("c")


def test_a_json_file_and_a_folder_of_environment_folders(tmp_path: Path) -> None:
    spec = tmp_path / "envs.json"
    spec.write_text(json.dumps([env_record(tmp_path, "one")]))
    assert load_source(str(spec)).task_ids() == ["one"]

    folder = tmp_path / "envs"
    for name in ("x", "y"):
        (folder / name / "repo").mkdir(parents=True)
        (folder / name / "env.json").write_text(json.dumps({"verify": "true"}))
        (folder / name / "prompt.md").write_text(f"do {name}")
    source = load_source(str(folder))
    assert isinstance(source, DirectorySource) and source.task_ids() == ["x", "y"]
    assert source.prompt("y") == "do y" and source.affinity("x") == str(folder / "x" / "repo")
    assert load_source(str(folder / "x")).task_ids() == ["x"]


@pytest.mark.parametrize(
    "record, message",
    [
        ({"id": "a", "path": "a", "prompt": "p"}, "'verify'"),
        ({"id": "a", "verify": "true", "prompt": "p"}, "'path'"),
        ({"id": "a", "path": "nowhere", "verify": "true", "prompt": "p"}, "not a directory"),
        ({"id": "a", "path": "a", "verify": "true", "prompt": 3}, "'prompt' must be a string"),
        ({"id": "a", "path": "a", "verify": "true", "prompt": "p", "extra": 1}, "unknown key"),
        ({"id": "a", "path": "a", "verify": "true", "prompt": "p", "verify_timeout_s": -1}, "positive"),
        (["not", "an", "object"], "expected a JSON object"),
    ],
)
def test_malformed_directory_records_are_named(tmp_path: Path, record, message: str) -> None:
    (tmp_path / "a").mkdir()
    spec = write_jsonl(tmp_path / "envs.jsonl", [env_record(tmp_path, "ok"), record])
    with pytest.raises(ValueError, match=message) as caught:
        DirectorySource.load(spec)
    assert "envs.jsonl:2" in str(caught.value)


def test_duplicate_ids_and_broken_json_are_errors(tmp_path: Path) -> None:
    twice = write_jsonl(tmp_path / "twice.jsonl", [env_record(tmp_path, "a"), env_record(tmp_path, "a")])
    with pytest.raises(ValueError, match="two environments with id 'a'"):
        load_source(str(twice))
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps(env_record(tmp_path, "a")) + "\n{not json\n")
    with pytest.raises(ValueError, match=r"broken\.jsonl:2: invalid JSON"):
        DirectorySource.load(broken)


@pytest.mark.parametrize(
    "spec, message",
    [
        ("", "no tasks named"),
        ("   ", "no tasks named"),
        ("{tmp}/missing.jsonl", "no such file or folder"),
        ("{tmp}/tasks.csv", "unsupported file type .csv"),
        ("{tmp}/empty-folder", "no task.toml or env.json"),
        ("{tmp}/garbage.jsonl", "garbage.jsonl"),
    ],
)
def test_bad_specs_get_clear_errors(tmp_path: Path, spec: str, message: str) -> None:
    (tmp_path / "tasks.csv").write_text("a,b\n")
    (tmp_path / "empty-folder").mkdir()
    (tmp_path / "garbage.jsonl").write_text("{oops\n")
    with pytest.raises(ValueError, match=message):
        load_source(spec.replace("{tmp}", str(tmp_path)))


def test_a_dataset_file_and_a_task_folder_give_task_sources(tmp_path: Path, calc_repo, calc_task) -> None:
    from calc_project import GOLD_PATCH, TEST_PATCH

    repos, base = calc_repo
    instance = {
        "instance_id": "demo__calc-1",
        "repo": "demo/calc",
        "base_commit": base,
        "problem_statement": "add() subtracts",
        "version": "0.1",
        "patch": GOLD_PATCH,
        "test_patch": TEST_PATCH,
        "FAIL_TO_PASS": ["tests/test_calc.py::test_add"],
        "PASS_TO_PASS": [],
    }
    dataset = write_jsonl(tmp_path / "instances.jsonl", [instance])
    source = load_source(str(dataset), repos=[str(repos)], sandbox="host", timeout_s=30)
    assert isinstance(source, TaskSource)
    assert source.task_ids() == ["demo__calc-1"] and source.prompt("demo__calc-1") == "add() subtracts"
    assert source.affinity("demo__calc-1") == "demo/calc@0.1"
    assert source.describe()["sandbox"] == "host"

    folder = tmp_path / "my-task"
    (folder / "repo").mkdir(parents=True)
    (folder / "repo" / "calc.py").write_text("x = 1\n")
    (folder / "task.toml").write_text(
        'id = "my-task"\n[tests]\ncommand = "pytest"\nfail_to_pass = ["t::a"]\n'
        '[environment]\npins = ["pytest"]\n'
    )
    (folder / "problem.md").write_text("make it so")
    tasks = load_source(str(tmp_path / "my-task"))
    assert isinstance(tasks, TaskSource) and tasks.prompt("my-task") == "make it so"
    parent = load_source(str(tmp_path))
    assert isinstance(parent, TaskSource) and parent.task_ids() == ["my-task"]


def test_sources_pickle_without_live_parts(tmp_path: Path, calc_repo, calc_task) -> None:
    directories = DirectorySource({"a": DirectoryEntry(str(tmp_path), "true", "p")}, network=False)
    copy = pickle.loads(pickle.dumps(directories))
    assert copy.task_ids() == ["a"] and copy.entries == directories.entries

    repos, _ = calc_repo
    tasks = TaskSource(
        [calc_task()], repos=[str(repos)], cache=str(tmp_path), log_root=str(tmp_path / "logs")
    )
    env = tasks.make("demo__calc-1")  # makes the harness in this process
    assert isinstance(env, TaskEnv) and tasks._harness is not None
    assert env.log_dir == tmp_path / "logs" / "demo__calc-1"
    thawed = pickle.loads(pickle.dumps(tasks))
    assert thawed._harness is None and thawed.task_ids() == ["demo__calc-1"]
    assert thawed.tasks["demo__calc-1"] == calc_task()
    assert thawed.describe() == tasks.describe()
    again = thawed.make("demo__calc-1", log_dir=tmp_path / "own")
    assert (
        isinstance(again, TaskEnv) and again.log_dir == tmp_path / "own" and again.harness is thawed._harness
    )
    with pytest.raises(ValueError, match="two tasks"):
        TaskSource([calc_task(), calc_task()])
    with pytest.raises(ValueError, match="unknown sandbox"):
        TaskSource([calc_task()], sandbox="vm")


async def test_an_unpickled_directory_source_makes_working_envs(namespaces_available, tmp_path: Path) -> None:
    (tmp_path / "start").mkdir()
    source = pickle.loads(
        pickle.dumps(DirectorySource({"a": DirectoryEntry(str(tmp_path / "start"), "test -f done", "p")}))
    )
    env = source.make("a")
    try:
        assert await env.reset() == "p"
        await env.step(ToolCall("1", "run_shell_command", {"command": "touch done"}))
        assert (await env.verify()).reward == 1.0
    finally:
        await env.close()

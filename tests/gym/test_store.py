"""The run store on real files, with real child processes that write, hold the lock and get killed."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from swerve.errors import StoreError
from swerve.gym.store import EPISODES, MANIFEST, RunStore, read_records, scan_episodes

CONFIG = {
    "source": {"kind": "directory", "path": "/tasks"},
    "model": "qwen3-coder",
    "sampling": {"temperature": 0.7},
    "samples": 2,
    "limits": {"max_turns": 20},
}


def record(
    task: str, sample: int = 0, *, reward: float | None = 1.0, infra: str | None = None
) -> dict[str, Any]:
    """A small trajectory record with the farm's keys."""
    return {
        "schema": "swerve.trajectory/1",
        "episode": {
            "key": f"{task}#{sample}",
            "task_id": task,
            "sample": sample,
            "group_id": task,
            "attempt": 1,
        },
        "reward": None if infra else reward,
        "infra_error": infra,
        "messages": [{"role": "user", "content": f"fix {task} ✓"}],
        "exit_reason": "error" if infra else "stop",
    }


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def child(script: str, *args: str) -> subprocess.Popen[str]:
    """A Python child process running ``script`` (which imports the store itself)."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


CHILD_PRELUDE = """
import json, os, sys
from swerve.gym.store import RunStore
out = sys.argv[1]
config = json.loads(sys.argv[2])
def record(task, sample=0, size=0):
    return {"episode": {"key": f"{task}#{sample}", "task_id": task, "sample": sample}, "reward": 1.0,
            "infra_error": None, "patch": "x" * size}
"""


def test_records_written_by_a_process_are_skipped_when_the_run_resumes(tmp_path: Path) -> None:
    script = (
        CHILD_PRELUDE
        + """
store = RunStore.open(out, config, planned_keys=["a#0", "a#1", "b#0", "b#1"])
store.append(record("a", 0))
store.append(record("b", 1))
store.close()
"""
    )
    proc = child(script, str(tmp_path), json.dumps(CONFIG))
    assert proc.wait(timeout=60) == 0

    planned = ["a#0", "a#1", "b#0", "b#1"]
    with RunStore.open(tmp_path, CONFIG, planned_keys=planned) as store:
        assert store.finished_keys() == {"a#0", "b#1"}
        assert store.pending(planned) == ["a#1", "b#0"]
        store.append(record("a", 1))
        assert store.counts() == {"finished": 3, "rewarded": 3, "infra_errors": 0, "planned": 4, "pending": 1}
        assert [r["episode"]["key"] for r in store.records()] == ["a#0", "b#1", "a#1"]
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert manifest["counts"]["finished"] == 3
    assert manifest["config"] == CONFIG
    assert len(manifest["sessions"]) == 2
    assert len(lines_of(tmp_path / EPISODES)) == 3


def test_a_writer_killed_mid_line_leaves_a_torn_tail_that_reopening_moves_aside(tmp_path: Path) -> None:
    script = (
        CHILD_PRELUDE
        + """
store = RunStore.open(out, config)
store.append(record("a", 0))
store.append(record("a", 1))
line = json.dumps(record("b", 0, size=5000)).encode() + b"\\n"
fd = os.open(os.path.join(out, "episodes.jsonl"), os.O_WRONLY | os.O_APPEND)
os.write(fd, line[: len(line) // 2])  # what a write cut short by the kill leaves
os.fsync(fd)
print("ready", flush=True)
sys.stdin.read()
"""
    )
    proc = child(script, str(tmp_path), json.dumps(CONFIG))
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        before = (tmp_path / EPISODES).read_bytes()
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert not before.endswith(b"\n")

    with RunStore.open(tmp_path, CONFIG) as store:  # the kill released the lock
        torn = tmp_path / (EPISODES + ".torn-1")
        assert store.torn_files == [torn]
        assert any("torn" in p for p in store.problems)
        assert store.finished_keys() == {"a#0", "a#1"}
        kept = (tmp_path / EPISODES).read_bytes()
        assert kept + torn.read_bytes() == before
        assert kept.endswith(b"\n")
        store.append(record("b", 0))  # the torn episode runs again
    assert [r["episode"]["key"] for r in lines_of(tmp_path / EPISODES)] == ["a#0", "a#1", "b#0"]


def test_killing_a_writer_while_it_appends_big_records_loses_no_complete_record(tmp_path: Path) -> None:
    script = (
        CHILD_PRELUDE
        + """
store = RunStore.open(out, config)
n = 0
while True:
    store.append(record("big", n, size=32_000_000))
    print(n, flush=True)
    n += 1
"""
    )
    proc = child(script, str(tmp_path), json.dumps(CONFIG))
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "0"
        first = (tmp_path / EPISODES).stat().st_size
        deadline = time.monotonic() + 60
        while (tmp_path / EPISODES).stat().st_size == first and time.monotonic() < deadline:
            pass  # wait until record 1 is being written, then kill the writer in the middle of it
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    before = (tmp_path / EPISODES).read_bytes()

    with RunStore.open(tmp_path, CONFIG) as store:
        kept = (tmp_path / EPISODES).read_bytes()
        torn = b"".join(p.read_bytes() for p in store.torn_files)
        assert kept + torn == before
        assert (torn != b"") == (not before.endswith(b"\n"))
        keys = [r["episode"]["key"] for r in lines_of(tmp_path / EPISODES)]
        assert keys == [f"big#{n}" for n in range(len(keys))]
        assert "big#0" in store.finished_keys()
        store.append(record("after", 0))
    assert scan_episodes(tmp_path / EPISODES).skipped == 0


def test_a_second_writer_on_the_same_run_fails_clearly(tmp_path: Path) -> None:
    script = (
        CHILD_PRELUDE
        + """
store = RunStore.open(out, config)
print("ready", flush=True)
sys.stdin.read()
"""
    )
    proc = child(script, str(tmp_path), json.dumps(CONFIG))
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        with pytest.raises(StoreError, match=rf"in use by another writer \(pid {proc.pid} "):
            RunStore.open(tmp_path, CONFIG)
        assert list(read_records(tmp_path)) == []  # readers need no lock
    finally:
        proc.kill()
        proc.wait(timeout=30)
    RunStore.open(tmp_path, CONFIG).close()  # the dead writer's lock is gone


def test_the_same_episode_is_never_stored_twice(tmp_path: Path) -> None:
    with RunStore.open(tmp_path, CONFIG) as store:
        store.append(record("a", 0))
        with pytest.raises(StoreError, match=r"episode a#0 is already stored"):
            store.append(record("a", 0, reward=0.0))
    with RunStore.open(tmp_path, CONFIG) as store:
        with pytest.raises(StoreError, match=r"already stored"):
            store.append(record("a", 0))
        with pytest.raises(StoreError, match=r"already stored"):
            store.append(record("a", 0, infra="sandbox died"))
    assert len(lines_of(tmp_path / EPISODES)) == 1


def _bad_records() -> list[tuple[Any, str]]:
    both = record("a", 0)
    both["infra_error"] = "boom"
    neither = record("a", 0)
    neither["reward"] = None
    wrong_key = record("a", 0)
    wrong_key["episode"]["key"] = "b#0"
    nan = record("a", 0, reward=float("nan"))
    unserialisable = record("a", 0)
    unserialisable["patch"] = object()
    bool_reward = record("a", 0)
    bool_reward["reward"] = True
    return [
        ("not a dict", "JSON object"),
        ({"reward": 1.0}, "no 'episode'"),
        ({"episode": {"task_id": "a"}, "reward": 1.0}, "no episode key"),
        (both, "exactly one of reward or infra_error, it has both"),
        (neither, "it has neither"),
        (wrong_key, "does not match"),
        (nan, "not a finite number"),
        (unserialisable, "not JSON serializable"),
        (bool_reward, "not a number"),
    ]


@pytest.mark.parametrize(("bad", "message"), _bad_records())
def test_a_bad_record_is_refused_and_nothing_is_written(tmp_path: Path, bad: Any, message: str) -> None:
    with RunStore.open(tmp_path, CONFIG) as store:
        store.append(record("z", 0))
        size = (tmp_path / EPISODES).stat().st_size
        with pytest.raises(StoreError, match=message):
            store.append(bad)
        assert (tmp_path / EPISODES).stat().st_size == size
        assert store.finished_keys() == {"z#0"}
        store.append(record("a", 0))  # the store still works


def test_reopening_with_another_configuration_says_what_differs(tmp_path: Path) -> None:
    with RunStore.open(tmp_path, CONFIG) as store:
        store.append(record("a", 0))
        run_id = store.run_id
    manifest_before = (tmp_path / MANIFEST).read_bytes()
    other = {**CONFIG, "model": "other-model", "samples": 4, "sampling": {"temperature": 1.0}}
    with pytest.raises(StoreError) as caught:
        RunStore.open(tmp_path, other)
    message = str(caught.value)
    assert 'model: stored "qwen3-coder", given "other-model"' in message
    assert "samples: stored 2, given 4" in message
    assert "sampling.temperature: stored 0.7, given 1.0" in message
    assert "resume=False" in message
    assert (tmp_path / MANIFEST).read_bytes() == manifest_before

    changed = {**CONFIG, "limits": {"max_turns": 50}}  # not part of the run's identity
    with RunStore.open(tmp_path, changed) as store:
        assert store.run_id == run_id
        assert store.finished_keys() == {"a#0"}
        session = store.manifest["sessions"][-1]
        assert session["changed"] == {"limits": {"was": {"max_turns": 20}, "now": {"max_turns": 50}}}

    with RunStore.open(tmp_path, other, resume=False) as store:
        assert store.run_id != run_id
        assert store.finished_keys() == set()
        assert store.moved_to == tmp_path / "previous-1"
    assert lines_of(tmp_path / "previous-1" / EPISODES)[0]["episode"]["key"] == "a#0"
    assert json.loads((tmp_path / "previous-1" / MANIFEST).read_text())["run_id"] == run_id


def test_the_model_of_an_agent_configuration_is_part_of_the_identity(tmp_path: Path) -> None:
    config = {"source": {"kind": "tasks"}, "agent": {"model": "m1", "max_turns": 5}, "samples": 1}
    RunStore.open(tmp_path, config).close()
    RunStore.open(tmp_path, {**config, "agent": {"model": "m1", "max_turns": 9}}).close()
    with pytest.raises(StoreError, match=r'model: stored "m1", given "m2"'):
        RunStore.open(tmp_path, {**config, "agent": {"model": "m2", "max_turns": 5}})


def test_retry_infra_reruns_infrastructure_errors_and_the_new_record_wins(tmp_path: Path) -> None:
    with RunStore.open(tmp_path, CONFIG) as store:
        store.append(record("a", 0, infra="sandbox died"))
        store.append(record("b", 0, reward=0.0))
        assert store.counts()["infra_errors"] == 1
    with RunStore.open(tmp_path, CONFIG) as store:  # without retry_infra an infra error is final
        assert store.finished_keys() == {"a#0", "b#0"}
        with pytest.raises(StoreError, match="already stored"):
            store.append(record("a", 0))
    with RunStore.open(tmp_path, CONFIG, retry_infra=True) as store:
        assert store.finished_keys() == {"b#0"}
        store.append(record("a", 0, reward=1.0))
        assert store.finished_keys() == {"a#0", "b#0"}
        with pytest.raises(StoreError, match="already stored"):  # once per session, even with retry_infra
            store.append(record("a", 0, reward=0.0))
        assert {r["episode"]["key"]: r["reward"] for r in store.records()} == {"b#0": 0.0, "a#0": 1.0}
        assert store.counts() == {"finished": 2, "rewarded": 2, "infra_errors": 0}
    assert len(lines_of(tmp_path / EPISODES)) == 3  # the superseded record is kept in the file
    assert [r["reward"] for r in read_records(tmp_path)] == [0.0, 1.0]
    with RunStore.open(tmp_path, CONFIG, retry_infra=True) as store:
        assert store.finished_keys() == {"a#0", "b#0"}


def test_an_infra_error_retried_again_to_an_infra_error_keeps_the_last(tmp_path: Path) -> None:
    with RunStore.open(tmp_path, CONFIG) as store:
        store.append(record("a", 0, infra="first"))
    with RunStore.open(tmp_path, CONFIG, retry_infra=True) as store:
        store.append(record("a", 0, infra="second"))
        assert "a#0" in store.finished_keys()
    assert [r["infra_error"] for r in read_records(tmp_path)] == ["second"]


def test_duplicates_and_garbage_in_an_old_file_are_reported_and_the_first_record_kept(tmp_path: Path) -> None:
    RunStore.open(tmp_path, CONFIG).close()
    lines = [
        json.dumps(record("a", 0, reward=1.0)),
        "this is not json",
        json.dumps(record("a", 0, reward=0.0)),
        json.dumps({"episode": {"key": "c#0"}, "reward": 1.0, "infra_error": "both"}),
        json.dumps(record("b", 0, reward=0.0)),
    ]
    (tmp_path / EPISODES).write_text("\n".join(lines) + "\n")
    with RunStore.open(tmp_path, CONFIG) as store:
        problems = "\n".join(store.problems)
        assert "line 2: skipped" in problems
        assert "line 3: duplicate record of episode a#0; the first is kept" in problems
        assert "line 4: skipped" in problems
        assert [(r["episode"]["key"], r["reward"]) for r in store.records()] == [("a#0", 1.0), ("b#0", 0.0)]
        assert store.finished_keys() == {"a#0", "b#0"}
        store.append(record("c", 0))
    assert (tmp_path / EPISODES).read_text().startswith("\n".join(lines))  # nothing rewritten


def test_records_without_a_manifest_are_not_adopted_blindly(tmp_path: Path) -> None:
    (tmp_path / EPISODES).write_text(json.dumps(record("a", 0)) + "\n")
    with pytest.raises(StoreError, match=r"manifest\.json is missing"):
        RunStore.open(tmp_path, CONFIG)
    with RunStore.open(tmp_path, CONFIG, resume=False) as store:
        assert store.finished_keys() == set()
    assert (tmp_path / "previous-1" / EPISODES).exists()


def test_an_unreadable_manifest_is_a_clear_error_and_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / MANIFEST).write_text("{not json")
    with pytest.raises(StoreError, match=r"manifest\.json is not valid JSON"):
        RunStore.open(tmp_path, CONFIG)
    assert (tmp_path / MANIFEST).read_text() == "{not json"
    RunStore.open(tmp_path, CONFIG, resume=False).close()
    assert (tmp_path / "previous-1" / MANIFEST).read_text() == "{not json"


def test_bad_configuration_and_closed_store_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not JSON-able"):
        RunStore.open(tmp_path / "x", {"source": object()})
    (tmp_path / "file").write_text("")
    with pytest.raises(StoreError, match="cannot create the run directory"):
        RunStore.open(tmp_path / "file" / "run", CONFIG)
    store = RunStore.open(tmp_path / "run", CONFIG)
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.append(record("a", 0))
    with pytest.raises(StoreError, match="closed"):
        store.update_manifest(done=1)
    RunStore.open(tmp_path / "run", CONFIG).close()  # closing released the lock


def test_update_manifest_keeps_the_callers_figures(tmp_path: Path) -> None:
    with RunStore.open(tmp_path, {**CONFIG, "run_id": "eval-1"}, planned_keys=["a#0", "a#1"]) as store:
        assert store.run_id == "eval-1"
        store.append(record("a", 0))
        store.update_manifest(done=1, exit_reasons={"stop": 1})
        manifest = json.loads((tmp_path / MANIFEST).read_text())
        assert manifest["progress"] == {"done": 1, "exit_reasons": {"stop": 1}}
        assert manifest["counts"] == {
            "finished": 1,
            "rewarded": 1,
            "infra_errors": 0,
            "planned": 2,
            "pending": 1,
        }
        with pytest.raises(StoreError, match="not JSON-able"):
            store.update_manifest(bad=object())
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


async def test_concurrent_async_appends_are_all_stored_whole(tmp_path: Path) -> None:
    with RunStore.open(tmp_path, CONFIG) as store:
        big = "y" * 200_000
        records = [record(f"t{i}", 0) for i in range(40)]
        for r in records:
            r["patch"] = big
        await asyncio.gather(*(store.append_async(r) for r in records))
        results = await asyncio.gather(
            store.append_async(record("t0", 0)), store.append_async(record("t0", 0)), return_exceptions=True
        )
        assert all(isinstance(r, StoreError) for r in results)
        assert len(store.finished_keys()) == 40
    stored = lines_of(tmp_path / EPISODES)
    assert sorted(r["episode"]["key"] for r in stored) == sorted(f"t{i}#0" for i in range(40))
    assert all(r["patch"] == big for r in stored)


def test_the_episodes_file_is_durable_and_one_record_per_line(tmp_path: Path) -> None:
    with RunStore.open(tmp_path, CONFIG) as store:
        r = record("a", 0)
        r["patch"] = "line one\nline two\u2028end"
        store.append(r)
    raw = (tmp_path / EPISODES).read_bytes()
    assert raw.count(b"\n") == 1
    assert lines_of(tmp_path / EPISODES)[0]["patch"] == "line one\nline two\u2028end"
    assert oct((tmp_path / EPISODES).stat().st_mode & 0o777) == oct(0o644 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_each_problem_of_a_resumed_store_is_said_once(tmp_path: Path):
    config = {"source": "s", "model": "m", "sampling": {}, "samples": 1}
    with RunStore.open(tmp_path / "run", config) as store:
        store.append(record("a"))
    with open(tmp_path / "run" / EPISODES, "a") as f:
        f.write(json.dumps(record("a")) + "\n")
    with RunStore.open(tmp_path / "run", config) as store:
        problems = list(store.problems)
    assert problems == ["line 2: duplicate record of episode a#0; the first is kept"]

"""Run statistics on small runs computed by hand, and the Parquet export read back with pyarrow."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from swerve.errors import StoreError
from swerve.gym.export import COLUMNS, ExportError, export_parquet
from swerve.gym.stats import format_stats, pass_at_k, percentile, run_stats
from swerve.gym.store import EPISODES, RunStore

CONFIG = {"source": {"kind": "directory"}, "model": "qwen3-coder", "samples": 2}


def record(
    task: str,
    sample: int,
    *,
    reward: float | None,
    infra: str | None = None,
    exit_reason: str = "stop",
    episode_s: float = 1.0,
    minute: int = 0,
    usage: dict[str, int] | None = None,
) -> dict[str, Any]:
    return {
        "schema": "swerve.trajectory/1",
        "id": f"id-{task}-{sample}",
        "instance_id": task,
        "task": f"fix {task}",
        "model": {"name": "qwen3-coder", "sampling": {"temperature": 0.7}},
        "episode": {
            "key": f"{task}#{sample}",
            "task_id": task,
            "sample": sample,
            "group_id": f"g-{task}",
            "attempt": 1,
            "run_id": "r1",
            "worker": "local",
            "infra_retries": ["sandbox died"] if infra else [],
        },
        "messages": [{"role": "user", "content": f"fix {task}"}, {"role": "assistant", "content": "done ✓"}],
        "turns": [{"turn": 1, "model_s": 0.5, "env_s": 0.25, "usage": usage or {}, "finish_reason": "stop"}],
        "usage": usage,
        "timing": {"episode_s": episode_s, "model_s": episode_s / 2, "env_s": episode_s / 4, "reset_s": 0.1},
        "num_turns": 1,
        "patch": f"diff --git a/{task}\n",
        "verdict": None
        if infra
        else {"reward": reward, "resolved": reward == 1.0, "tests_status": {}, "report": {}},
        "exit_reason": "error" if infra else exit_reason,
        "error": None,
        "infra_error": infra,
        "reward": None if infra else reward,
        "result": "ok",
        "started_at": f"2025-01-01T00:{minute:02d}:00.000+00:00",
        "ended_at": f"2025-01-01T00:{minute + 1:02d}:00.000+00:00",
    }


USAGE = {"input_tokens": 100, "output_tokens": 10, "cache_read_tokens": 5}


@pytest.fixture
def small_run(tmp_path: Path) -> Path:
    """Tasks a [1, 0], b [0, 0], c [1, infra]; one episode planned but not run."""
    planned = ["a#0", "a#1", "b#0", "b#1", "c#0", "c#1", "d#0"]
    with RunStore.open(tmp_path, CONFIG, planned_keys=planned) as store:
        store.append(record("a", 0, reward=1.0, episode_s=1.0, minute=0, usage=USAGE))
        store.append(
            record("a", 1, reward=0.0, episode_s=2.0, minute=0, usage=USAGE, exit_reason="max_turns")
        )
        store.append(record("b", 0, reward=0.0, episode_s=3.0, minute=0, usage=USAGE))
        store.append(record("b", 1, reward=0.0, episode_s=4.0, minute=1, usage=USAGE))
        store.append(record("c", 0, reward=1.0, episode_s=5.0, minute=1, usage=USAGE))
        store.append(
            record("c", 1, reward=None, infra="sandbox died\nTraceback...", episode_s=10.0, minute=1)
        )
    return tmp_path


def test_helpers_compute_known_values() -> None:
    assert percentile([1, 2, 3, 4, 5, 10], 0.5) == 3.5
    assert percentile([1, 2, 3, 4, 5, 10], 0.9) == 7.5
    assert percentile([7], 0.9) == 7
    assert percentile([], 0.5) is None
    assert pass_at_k(5, 2, 2) == pytest.approx(0.7)  # 1 - C(3,2)/C(5,2)
    assert pass_at_k(2, 1, 2) == 1.0
    assert pass_at_k(2, 0, 2) == 0.0
    assert pass_at_k(1, 1, 2) is None


def test_stats_of_a_small_run(small_run: Path) -> None:
    stats = run_stats(small_run)
    assert stats["run"]["model"] == "qwen3-coder"
    assert stats["run"]["samples"] == 2
    assert stats["episodes"] == {"planned": 7, "stored": 6, "rewarded": 5, "infra_errors": 1, "pending": 1}
    reward = stats["reward"]
    assert reward["mean"] == pytest.approx(0.4)  # (1 + 0 + 0 + 0 + 1) / 5
    assert reward["resolved"] == 2
    assert reward["pass@1"] == pytest.approx(0.5)  # mean of a 0.5, b 0, c 1 (its infra sample left out)
    assert reward["pass@k"] == pytest.approx(0.5)  # a 1, b 0; c has one rewarded sample of 2
    assert reward["pass@k_tasks"] == 2
    assert stats["tasks"]["a"] == {
        "samples": 2,
        "rewarded": 2,
        "infra_errors": 0,
        "mean_reward": 0.5,
        "successes": 1,
        "pass@1": 0.5,
        "pass@k": 1.0,
    }
    assert stats["tasks"]["c"]["pass@k"] is None
    assert stats["tasks"]["c"]["infra_errors"] == 1
    assert stats["exit_reasons"] == {"stop": 4, "max_turns": 1, "infra_error": 1}
    assert stats["infra_errors"] == {"sandbox died": 1}
    episode = stats["timings"]["episode_s"]
    assert (episode["n"], episode["median"], episode["p90"], episode["total"]) == (6, 3.5, 7.5, 25.0)
    assert stats["timings"]["model_s"]["median"] == 1.75
    assert "verify_s" not in stats["timings"]
    assert stats["tokens"]["input"] == 500
    assert stats["tokens"]["output"] == 50
    assert stats["tokens"]["cache_read"] == 25
    assert stats["tokens"]["per_episode"] == {"input": 100.0, "output": 10.0}
    assert stats["throughput"]["wall_s"] == 120.0
    assert stats["throughput"]["episodes_per_min"] == 3.0
    assert stats["problems"] == []

    text = format_stats(stats)
    assert "6 stored of 7 planned, 5 rewarded, 1 infrastructure errors, 1 pending" in text
    assert "mean 0.400, resolved 2, pass@1 0.500, pass@2 0.500 over 2 tasks" in text
    assert "max_turns: 1" in text
    assert "1 x sandbox died" in text
    assert "3.00 episodes/min" in text
    assert format_stats(stats, max_tasks=1).count("more tasks") == 1


def test_stats_survive_old_partial_records_and_a_torn_tail(tmp_path: Path) -> None:
    RunStore.open(tmp_path, {"source": "old"}).close()
    lines = [
        json.dumps({"episode": {"key": "x#0"}, "reward": 1}),
        json.dumps(
            {"episode": {"key": "y#0"}, "reward": 0.5, "timing": "broken", "usage": {"input_tokens": "?"}}
        ),
        json.dumps({"episode": {"key": "z#0"}, "infra_error": "gone", "started_at": "not a time"}),
        "garbage",
    ]
    (tmp_path / EPISODES).write_text("\n".join(lines) + "\n" + '{"episode": {"key": "w#0"}, "rew')
    stats = run_stats(tmp_path)
    assert stats["episodes"]["stored"] == 3
    assert stats["reward"]["mean"] == 0.75
    assert stats["reward"]["resolved"] == 1
    assert stats["tasks"]["x"]["pass@1"] == 1.0
    assert stats["exit_reasons"] == {"unknown": 2, "infra_error": 1}
    assert stats["timings"] == {}
    assert stats["tokens"]["input"] == 0
    assert stats["throughput"]["episodes_per_min"] is None
    assert any("line 4: skipped" in p for p in stats["problems"])
    assert any("torn last line" in p for p in stats["problems"])
    assert "problems:" in format_stats(stats)


def test_stats_of_no_run_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="holds no run"):
        run_stats(tmp_path)


def test_stats_of_an_empty_run(tmp_path: Path) -> None:
    RunStore.open(tmp_path, CONFIG).close()
    stats = run_stats(tmp_path)
    assert stats["episodes"]["stored"] == 0
    assert stats["reward"]["mean"] is None
    assert "0 stored" in format_stats(stats)


def test_export_round_trip(small_run: Path, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is not installed")
    dest = tmp_path / "exports" / "run.parquet"
    assert export_parquet(small_run, dest) == 6
    table = pq.read_table(dest)
    assert table.column_names == [name for name, _ in COLUMNS]
    rows = {row["key"]: row for row in table.to_pylist()}
    assert set(rows) == {"a#0", "a#1", "b#0", "b#1", "c#0", "c#1"}
    a0 = rows["a#0"]
    assert (a0["task_id"], a0["sample"], a0["group_id"], a0["attempt"]) == ("a", 0, "g-a", 1)
    assert (a0["reward"], a0["resolved"], a0["exit_reason"], a0["infra_error"]) == (1.0, True, "stop", None)
    assert (a0["input_tokens"], a0["output_tokens"], a0["num_turns"]) == (100, 10, 1)
    assert (a0["episode_s"], a0["model_s"], a0["verify_s"]) == (1.0, 0.5, None)
    assert a0["model"] == "qwen3-coder"
    assert a0["patch"] == "diff --git a/a\n"
    assert a0["started_at"] == "2025-01-01T00:00:00.000+00:00"
    original = record("a", 0, reward=1.0, episode_s=1.0, minute=0, usage=USAGE)
    assert json.loads(a0["messages"]) == original["messages"]
    assert json.loads(a0["turns"]) == original["turns"]
    assert json.loads(a0["verdict"]) == original["verdict"]
    assert json.loads(a0["sampling"]) == {"temperature": 0.7}
    c1 = rows["c#1"]
    assert (c1["reward"], c1["resolved"], c1["verdict"]) == (None, None, None)
    assert c1["infra_error"].startswith("sandbox died")
    assert c1["infra_retries"] == ["sandbox died"]
    assert c1["input_tokens"] is None

    assert export_parquet(small_run, dest) == 6  # replaces the earlier export
    assert [p.name for p in dest.parent.iterdir()] == ["run.parquet"]


def test_export_of_odd_records_and_an_empty_run(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is not installed")
    run = tmp_path / "run"
    with RunStore.open(run, CONFIG) as store:
        store.append({"episode": {"key": "x#0"}, "reward": 1, "num_turns": 2**70, "model": "plain"})
    assert export_parquet(run, tmp_path / "odd.parquet") == 1
    [row] = pq.read_table(tmp_path / "odd.parquet").to_pylist()
    assert (row["key"], row["reward"], row["num_turns"], row["model"]) == ("x#0", 1.0, None, "plain")

    empty = tmp_path / "empty"
    RunStore.open(empty, CONFIG).close()
    assert export_parquet(empty, tmp_path / "empty.parquet") == 0
    assert pq.read_table(tmp_path / "empty.parquet").num_rows == 0


def test_export_errors_leave_nothing_behind(small_run: Path, tmp_path: Path) -> None:
    pytest.importorskip("pyarrow", reason="pyarrow is not installed")
    with pytest.raises(StoreError, match="holds no run"):
        export_parquet(tmp_path / "nothing", tmp_path / "x.parquet")
    with pytest.raises(ExportError, match="is a directory"):
        export_parquet(small_run, tmp_path)
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    with pytest.raises(ExportError, match="cannot write"):
        export_parquet(small_run, blocker / "run.parquet")
    assert blocker.read_text() == ""


def test_export_without_pyarrow_says_how_to_install_it(small_run: Path, tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        sys.modules["pyarrow"] = None  # as if pyarrow were not installed
        sys.modules["pyarrow.parquet"] = None
        from swerve.gym.export import ExportError, export_parquet
        try:
            export_parquet(sys.argv[1], sys.argv[2])
        except ExportError as e:
            print(e)
        """
    )
    dest = tmp_path / "out.parquet"
    done = subprocess.run(
        [sys.executable, "-c", script, str(small_run), str(dest)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "pip install 'swerve[tasks]'" in done.stdout
    assert not dest.exists()

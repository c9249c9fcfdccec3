"""Loading real runs of each kind into one model, and what the loaders make of broken ones."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from support import TASKS, VALIDATED, records

from swerve.gym.stats import run_stats
from swerve.report.loaders import ReportError, load_run
from swerve.report.summary import summarise


def test_a_gym_run_matches_its_records_and_gym_stats(gym_run) -> None:
    out, _ = gym_run
    run = load_run(out)
    stored = records(out)
    assert run.kind == "gym" and run.samples == 3 and run.problems == []
    assert sorted(e.key for e in run.episodes) == sorted(r["episode"]["key"] for r in stored)
    by_key = {r["episode"]["key"]: r for r in stored}
    for e in run.episodes:
        r = by_key[e.key]
        assert e.reward == r["reward"] and e.resolved == r["verdict"]["resolved"]
        assert e.turns == r["num_turns"] and e.input_tokens == r["usage"]["input_tokens"]
    figures = summarise(run)
    stats = run_stats(out)
    assert figures["resolved"]["successes"] == stats["reward"]["resolved"]
    assert figures["reward"]["mean"] == pytest.approx(stats["reward"]["mean"])
    assert figures["pass@1"] == pytest.approx(stats["reward"]["pass@1"])
    top = next(p for p in figures["pass_at_k"] if p["k"] == 3)
    assert top["value"] == pytest.approx(stats["reward"]["pass@k"])
    flat = {g["group"] for g in figures["groups"] if g["no_signal"]}
    rewards = {t: {r["reward"] for r in stored if r["episode"]["task_id"] == t} for t in TASKS}
    assert flat == {t for t, values in rewards.items() if len(values) == 1}
    assert TASKS[0] in flat and TASKS[1] in flat, "always fixed, never fixed: no signal either way"


def test_an_episode_detail_has_the_conversation_diff_and_tests(gym_run) -> None:
    out, _ = gym_run
    run = load_run(out)
    fixed = next(e for e in run.episodes if e.task_id == TASKS[0])
    detail = fixed.load_detail()
    record = next(r for r in records(out) if r["episode"]["key"] == fixed.key)
    assert [m["role"] for m in detail.messages] == [m["role"] for m in record["messages"]]
    assert detail.patch == record["patch"] and detail.patch.startswith("diff --git")
    f2p = record["verdict"]["tests_status"]["FAIL_TO_PASS"]
    assert detail.tests["FAIL_TO_PASS"]["success"] == f2p["success"] and f2p["failure"] == []
    assert fixed.tests["FAIL_TO_PASS"] == (len(f2p["success"]), len(f2p["success"]))
    assert "passed" in detail.log_tail


def test_an_agent_eval_folder_reads_the_report_and_the_trajectories(agent_run) -> None:
    out, _ = agent_run
    run = load_run(out)
    report = json.loads(next(out.glob("*.agent.json")).read_text())
    assert run.kind == "agent-eval" and run.run_id == "agent"
    outcomes = {e.task_id: e.outcome for e in run.episodes}
    assert {i for i, o in outcomes.items() if o == "resolved"} == set(report["resolved_ids"])
    assert {i for i, o in outcomes.items() if o == "unresolved"} == set(report["unresolved_ids"])
    assert {i for i, o in outcomes.items() if o == "empty_patch"} == set(report["empty_patch_ids"])
    assert outcomes[TASKS[0]] == "resolved" and outcomes[TASKS[1]] == "unresolved"
    assert outcomes[TASKS[2]] == "empty_patch"
    detail = next(e for e in run.episodes if e.task_id == TASKS[0]).load_detail()
    assert any(m.get("role") == "tool" for m in detail.messages), "the conversation comes from the trajectory"
    assert any(label.startswith("harness log") for label, _ in detail.notes), "and the logs from the harness"


def test_graded_predictions_show_their_patch_tests_and_logs(predictions_run) -> None:
    out, _ = predictions_run
    run = load_run(out / "gold.pred.json")
    report = json.loads((out / "gold.pred.json").read_text())
    assert run.kind == "eval" and run.model == "gold" and run.run_id == "pred"
    assert sorted(e.task_id for e in run.episodes if e.resolved) == sorted(report["resolved_ids"])
    episode = run.episodes[0]
    log_dir = out / "logs" / "run_evaluation" / "pred" / "gold" / episode.task_id
    detail = episode.load_detail()
    assert detail.patch == (log_dir / "patch.diff").read_text() and detail.messages == []
    graded = json.loads((log_dir / "swerve.json").read_text())
    assert detail.tests["FAIL_TO_PASS"] == graded["tests_status"]["FAIL_TO_PASS"]
    assert detail.log_tail.strip().splitlines()[-1] in (log_dir / "test_output.txt").read_text()
    assert set(episode.timings) >= {"build_s", "tests_s", "total_s"}, "the harness's own phases"


def test_a_validation_report_gives_gold_and_no_patch_episodes(validation_run) -> None:
    out, _ = validation_run
    run = load_run(out / "validation.val.json")
    report = json.loads((out / "validation.val.json").read_text())
    assert run.kind == "validation"
    assert sorted(run.task_notes) == sorted(VALIDATED)
    assert sum(n["valid"] == "yes" for n in run.task_notes.values()) == report["valid"]
    gold = [e for e in run.episodes if e.counted]
    bare = [e for e in run.episodes if not e.counted]
    assert {e.label for e in gold} == {"gold"} and {e.label for e in bare} == {"no-patch"}
    assert all(e.resolved for e in gold) and not any(e.resolved for e in bare)
    assert summarise(run)["resolved"]["successes"] == len(VALIDATED), "no-patch runs are not counted"


def test_the_newest_run_of_a_folder_is_shown_and_the_others_named(validation_run, scratch: Path) -> None:
    out, _ = validation_run
    both = scratch / "two-runs"
    shutil.copytree(out, both)
    copy = json.loads((both / "validation.val.json").read_text())
    copy["run_id"] = "older"
    older = both / "validation.older.json"
    older.write_text(json.dumps(copy))
    os.utime(older, (1, 1))
    run = load_run(both)
    assert run.run_id == "val"
    assert dict(run.facts)["other runs in this folder"].startswith("older:")
    assert run.problems == [], "other runs are no problem of this one"


def test_a_broken_gym_run_is_shown_as_far_as_it_goes(dir_run: Path, scratch: Path) -> None:
    broken = scratch / "broken"
    shutil.copytree(dir_run, broken)
    lines = (broken / "episodes.jsonl").read_text().splitlines()
    odd = json.loads(lines[0])
    odd["episode"].update(key="odd#0", task_id="odd", sample=0)
    odd.update(
        messages="not a list", timing=[1], usage="many", num_turns="ten", verdict={"report": 3}, patch=None
    )
    mangled = [lines[0], "{not json", json.dumps(odd), *lines[1:]]
    (broken / "episodes.jsonl").write_text("\n".join(mangled) + '\n{"cut off mid-wr')
    (broken / "manifest.json").write_text("{broken")
    run = load_run(broken)
    assert len(run.episodes) == len(lines) + 1
    text = " ".join(run.problems)
    assert "line 2: skipped" in text and "torn last line" in text and "not valid JSON" in text
    odd_episode = next(e for e in run.episodes if e.task_id == "odd")
    assert odd_episode.turns is None and odd_episode.timings == {} and odd_episode.input_tokens is None
    assert odd_episode.load_detail().messages == []
    assert summarise(run)["episodes"] == len(lines) + 1


def test_infrastructure_errors_are_kept_apart(dir_run: Path) -> None:
    run = load_run(dir_run)
    figures = summarise(run)
    stored = records(dir_run)
    infra = [r for r in stored if r.get("infra_error")]
    assert infra and figures["infra"] == len(infra)
    assert figures["graded"] == len(stored) - len(infra)
    assert figures["resolved"]["successes"] == sum(1 for r in stored if r.get("reward") == 1.0)
    assert all(e.reward is None for e in run.episodes if e.klass == "infra")
    assert figures["exit_reasons"]["infra_error"] == len(infra)


def test_an_eval_without_its_run_report_is_read_from_its_logs(agent_run, scratch: Path) -> None:
    out, _ = agent_run
    partial = scratch / "partial"
    shutil.copytree(out, partial)
    for report in partial.glob("*.agent.*"):
        report.unlink()
    run = load_run(partial)
    assert any("no run report for run agent" in p for p in run.problems)
    assert sorted(e.task_id for e in run.episodes) == sorted(TASKS)
    shutil.rmtree(partial / "trajectories")
    run = load_run(partial)
    assert sorted(e.task_id for e in run.episodes) == sorted(TASKS), "the harness logs alone"


def test_what_is_no_run_gets_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="does not exist"):
        load_run(tmp_path / "nothing")
    (tmp_path / "notes.json").write_text('{"hello": 1}')
    with pytest.raises(ReportError, match="not a run swerve knows"):
        load_run(tmp_path / "notes.json")
    with pytest.raises(ReportError, match="not a run swerve knows"):
        load_run(tmp_path)

"""A run directory recorded from the real embedded model, exported as each trainer's samples:
token-exact rows, masks on generated tokens only, aligned log-probabilities, group advantages,
truncation handled as configured, infra errors left out, and text-only runs re-tokenized with
their drift reported."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from rl_support import swerve

from swerve.gym.store import read_records
from swerve.rl.samples import traces


def export(run: Path, fmt: str, out: Path, *extra: str) -> dict:
    done = swerve(["gym", "export", str(run), "--format", fmt, "-o", str(out), *extra], run.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def copy_run(run: Path, to: Path, edit) -> Path:
    """A copy of the run whose records went through ``edit`` (record -> record or None)."""
    to.mkdir()
    shutil.copy(run / "manifest.json", to / "manifest.json")
    lines = [edit(r) for r in read_records(run)]
    (to / "episodes.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines if r is not None))
    return to


def test_hf_rows_are_the_ids_the_model_saw_and_sampled(run_dir, tmp_path):
    summary = export(run_dir, "hf", tmp_path / "s.parquet", "--truncated", "keep")
    assert summary["samples"] == summary["episodes"] == 4 and summary["forks"] == 0, summary
    rows = pq.read_table(tmp_path / "s.parquet").to_pylist()
    records = {r["episode"]["key"]: r for r in read_records(run_dir)}
    for row in rows:
        turns = traces(records[row["key"]])
        assert turns is not None and all(t.source == "tito" for t in turns)
        last = turns[-1]
        assert row["prompt_ids"] == turns[0].prompt_ids
        assert row["prompt_ids"] + row["response_ids"] == last.prompt_ids + last.output_ids
        n = len(row["response_ids"])
        assert len(row["response_mask"]) == len(row["rollout_logprobs"]) == n
        assert sum(row["response_mask"]) == sum(len(t.output_ids) for t in turns)
        assert all(
            lp == 0.0 for lp, m in zip(row["rollout_logprobs"], row["response_mask"], strict=True) if m == 0
        )
        sampled = [lp for lp, m in zip(row["rollout_logprobs"], row["response_mask"], strict=True) if m == 1]
        assert sampled == [x for t in turns for x in t.logprobs or []]
    by_group: dict[str, list[float]] = {}
    for row in rows:
        by_group.setdefault(row["group_id"], []).append(row["advantage"])
    assert sorted(by_group) == ["read", "write"]
    assert all(abs(sum(a)) < 1e-6 for a in by_group.values())


def test_truncated_episodes_are_masked_or_penalised(run_dir, tmp_path):
    truncated = [r for r in read_records(run_dir) if r["exit_reason"] == "max_turns"]
    assert truncated, "with two turns allowed, some episodes end at the turn limit"
    export(run_dir, "hf", tmp_path / "m.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    for row in rows:
        assert row["truncated"] == (row["exit_reason"] == "max_turns")
        assert (sum(row["response_mask"]) == 0) == row["truncated"]
    export(run_dir, "hf", tmp_path / "p.jsonl", "--truncated", "penalise", "--truncation-reward", "-1")
    rows = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert all(row["reward"] == -1.0 for row in rows if row["truncated"])


def test_each_trainer_format(run_dir, tmp_path):
    export(run_dir, "verl", tmp_path / "v.parquet", "--truncated", "keep")
    verl = pq.read_table(tmp_path / "v.parquet").to_pylist()
    assert {"prompt_ids", "response_ids", "response_mask", "response_logprobs", "reward_score", "uid"} <= set(
        verl[0]
    )
    assert all(r["agent_name"] == "swerve_agent" and r["prompt"][0]["content"] for r in verl)
    export(run_dir, "skyrl", tmp_path / "s.json", "--truncated", "keep")
    sky = json.loads((tmp_path / "s.json").read_text())
    assert len(sky["prompt_token_ids"]) == len(sky["loss_masks"]) == len(sky["rewards"]) == 4
    assert [len(x) for x in sky["response_ids"]] == [len(x) for x in sky["rollout_logprobs"]]
    assert {t["instance_id"] for t in sky["trajectory_ids"]} == {"read", "write"}
    export(run_dir, "trl", tmp_path / "t.json", "--per-turn", "--advantage", "rloo")
    trl = json.loads((tmp_path / "t.json").read_text())
    turns = sum(len(r["turns"]) for r in read_records(run_dir))
    assert len(trl["prompt_ids"]) == len(trl["completion_ids"]) == len(trl["env_mask"]) == turns
    assert all(set(m) <= {0, 1} for m in trl["env_mask"])


def test_infra_errors_never_become_samples(run_dir, tmp_path):
    def crash_one(record):
        if record["episode"]["key"] == "read#0":
            return record | {"reward": None, "infra_error": "the sandbox died", "verdict": None}
        return record

    broken = copy_run(run_dir, tmp_path / "run", crash_one)
    summary = export(broken, "hf", tmp_path / "s.jsonl", "--truncated", "keep")
    assert summary["infra_errors_left_out"] == 1 and summary["samples"] == 3
    keys = {json.loads(line)["key"] for line in (tmp_path / "s.jsonl").read_text().splitlines()}
    assert "read#0" not in keys


def test_a_run_without_ids_is_retokenized_and_its_drift_reported(run_dir, server, tmp_path):
    def strip(record):
        return record | {"turns": [{k: v for k, v in t.items() if k != "tokens"} for t in record["turns"]]}

    text_only = copy_run(run_dir, tmp_path / "run", strip)
    refused = swerve(
        ["gym", "export", str(text_only), "--format", "hf", "-o", str(tmp_path / "x.jsonl")], tmp_path
    )
    assert refused.returncode != 0 and "--tokenizer-url" in refused.stderr
    summary = export(text_only, "hf", tmp_path / "x.jsonl", "--tokenizer-url", server.url)
    assert summary["retokenized"] == 4 and summary["retokenized_drift"] is not None, summary
    captured = export(run_dir, "hf", tmp_path / "c.jsonl", "--tokenizer-url", server.url)
    assert captured["server_ids_checked"] == 4 and 0.0 <= captured["rerender_drift"] <= 1.0


def test_a_tokenizer_of_another_vocabulary_is_refused(run_dir, server, tmp_path):
    def alien(record):
        record["turns"][0]["tokens"]["prompt_ids"][0] = 10**7
        return record

    other = copy_run(run_dir, tmp_path / "run", alien)
    done = swerve(
        [
            "gym",
            "export",
            str(other),
            "--format",
            "hf",
            "-o",
            str(tmp_path / "x.jsonl"),
            "--tokenizer-url",
            server.url,
        ],
        tmp_path,
    )
    assert done.returncode != 0 and "does not match the served model" in done.stderr, done.stderr


def test_bad_targets_are_refused_before_anything_is_written(run_dir, tmp_path):
    done = swerve(
        ["gym", "export", str(run_dir), "--format", "skyrl", "-o", str(tmp_path / "x.parquet")], tmp_path
    )
    assert done.returncode != 0 and ".json" in done.stderr
    assert not (tmp_path / "x.parquet").exists()
    missing = swerve(
        ["gym", "export", str(tmp_path), "--format", "hf", "-o", str(tmp_path / "y.jsonl")], tmp_path
    )
    assert missing.returncode != 0 and "not a run directory" in missing.stderr


@pytest.mark.parametrize("fmt", ["hf"])
def test_hf_parquet_loads_with_datasets(run_dir, tmp_path, fmt):
    datasets = pytest.importorskip(
        "datasets", reason="the datasets package is not installed (pip install datasets)"
    )
    export(run_dir, fmt, tmp_path / "s.parquet")
    loaded = datasets.load_dataset("parquet", data_files=str(tmp_path / "s.parquet"), split="train")
    assert len(loaded) == 4 and "response_mask" in loaded.column_names

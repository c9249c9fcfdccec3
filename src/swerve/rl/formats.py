"""What each trainer reads, written from samples.

| format | file | shape |
|---|---|---|
| ``hf`` | ``.parquet`` or ``.jsonl`` | one row per sample; ``datasets.load_dataset("parquet"/"json", ...)`` reads it |
| ``verl`` | ``.parquet`` or ``.jsonl`` | AgentLoopOutput's fields (``response_logprobs``, ``reward_score``, ``num_turns``, ``extra_fields``), ``uid`` for GRPO groups, and the dataset columns of the swerve agent loop (``data_source``, ``prompt``, ``agent_name``, ``extra_info``) |
| ``skyrl`` | ``.json`` | one GeneratorOutput: ``prompt_token_ids``, ``response_ids``, ``rewards``, ``loss_masks``, ``stop_reasons``, ``rollout_logprobs``, ``trajectory_ids``, ``is_last_step``, ``rollout_metrics`` |
| ``trl`` | ``.json`` | what a GRPOTrainer ``rollout_func`` returns: ``prompt_ids``, ``completion_ids``, ``logprobs``, ``env_mask``, plus ``swerve_reward`` for a reward function |
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from swerve.rl.samples import Sample, SampleError

FORMATS = ("hf", "verl", "skyrl", "trl")
AGENT_NAME = "swerve_agent"  # the name the verl agent loop is registered under
SUFFIXES = {
    "hf": (".parquet", ".jsonl"),
    "verl": (".parquet", ".jsonl"),
    "skyrl": (".json",),
    "trl": (".json",),
}


def hf_row(s: Sample) -> dict[str, Any]:
    m = s.metadata
    return {
        "prompt_ids": s.prompt_ids,
        "response_ids": s.response_ids,
        "response_mask": s.response_mask,
        "rollout_logprobs": s.rollout_logprobs,
        "reward": s.reward,
        "advantage": s.advantage,
        "group_id": s.group_id,
        "truncated": s.truncated,
        "has_logprobs": s.has_logprobs,
        "task_id": str(m.get("task_id") or ""),
        "sample": int(m.get("sample") or 0),
        "key": str(m.get("key") or ""),
        "exit_reason": str(m.get("exit_reason") or ""),
        "num_turns": int(m.get("num_turns") or 0),
        "metadata": json.dumps(m, sort_keys=True),
    }


def verl_row(s: Sample) -> dict[str, Any]:
    m = s.metadata
    return {
        "data_source": "swerve",
        "agent_name": AGENT_NAME,
        "prompt": [{"role": "user", "content": str(m.get("task") or m.get("task_id") or "")}],
        "uid": s.group_id,
        "prompt_ids": s.prompt_ids,
        "response_ids": s.response_ids,
        "response_mask": s.response_mask,
        "response_logprobs": s.rollout_logprobs,
        "reward_score": s.reward,
        "advantage": s.advantage,
        "truncated": s.truncated,
        "num_turns": int(m.get("num_turns") or 0),
        "extra_info": {"task_id": str(m.get("task_id") or ""), "sample": int(m.get("sample") or 0)},
        "extra_fields": json.dumps(m, sort_keys=True),
    }


def skyrl_output(samples: list[Sample]) -> dict[str, Any]:
    rewards = [s.reward for s in samples]
    return {
        "prompt_token_ids": [s.prompt_ids for s in samples],
        "response_ids": [s.response_ids for s in samples],
        "rewards": rewards,
        "loss_masks": [s.response_mask for s in samples],
        "stop_reasons": ["length" if s.truncated else "stop" for s in samples],
        "rollout_logprobs": [s.rollout_logprobs for s in samples]
        if all(s.has_logprobs for s in samples)
        else None,
        "trajectory_ids": [
            {"instance_id": s.group_id, "repetition_id": int(s.metadata.get("sample") or 0)} for s in samples
        ],
        "is_last_step": [bool(s.metadata.get("last_row", True)) for s in samples],
        "rollout_metrics": {
            "swerve/mean_reward": sum(rewards) / len(rewards) if rewards else 0.0,
            "swerve/samples": len(samples),
        },
    }


def trl_output(samples: list[Sample]) -> dict[str, Any]:
    return {
        "prompt_ids": [s.prompt_ids for s in samples],
        "completion_ids": [s.response_ids for s in samples],
        "logprobs": [s.rollout_logprobs for s in samples],
        "env_mask": [s.response_mask for s in samples],
        "swerve_reward": [s.reward for s in samples],
        "swerve_advantage": [s.advantage for s in samples],
        "swerve_group": [s.group_id for s in samples],
    }


def check_target(fmt: str, path: Path) -> None:
    if fmt not in FORMATS:
        raise SampleError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if path.suffix not in SUFFIXES[fmt]:
        raise SampleError(f"the {fmt} format is written as {' or '.join(SUFFIXES[fmt])}, not {path.name!r}")


def write(samples: list[Sample], fmt: str, path: Path) -> None:
    """Write ``samples`` in ``fmt`` to ``path`` (atomically: a temporary file, then renamed)."""
    check_target(fmt, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if fmt in ("skyrl", "trl"):
            data = skyrl_output(samples) if fmt == "skyrl" else trl_output(samples)
            tmp.write_text(json.dumps(data), encoding="utf-8")
        else:
            rows = [hf_row(s) if fmt == "hf" else verl_row(s) for s in samples]
            if path.suffix == ".jsonl":
                tmp.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
            else:
                _write_parquet(rows, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_parquet(rows: list[dict[str, Any]], path: Path) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise SampleError(
            f"Parquet needs pyarrow: pip install 'swerve[tasks]' ({exc}), or write .jsonl"
        ) from exc
    if not rows:
        raise SampleError("there are no samples to write")
    pq.write_table(pa.Table.from_pylist(rows), path)

"""A run directory -> training samples -> a trainer's file, with what was left out and why."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swerve.gym.store import read_records
from swerve.rl.advantages import assign_advantages
from swerve.rl.formats import check_target, write
from swerve.rl.retokenize import ServerTokenizer, rebuilt_traces, server_drift
from swerve.rl.samples import Built, SampleError, build_samples


@dataclass
class ExportOptions:
    per_turn: bool = False
    advantage: str = "grpo"
    dynamic_sampling: bool = False
    truncation: str = "mask"
    truncation_reward: float = 0.0
    tokenizer_url: str | None = None  # a llama.cpp-compatible server for the model, for runs without ids


def run_samples(run_dir: Path, options: ExportOptions) -> tuple[Built, dict[str, Any]]:
    """The run's samples with advantages, and the drift figures when a tokenizer was given."""
    if not (run_dir / "episodes.jsonl").is_file():
        raise SampleError(f"{run_dir} is not a run directory (it has no episodes.jsonl)")
    records = list(read_records(run_dir))
    tokenizer = ServerTokenizer(options.tokenizer_url) if options.tokenizer_url else None
    drift: dict[str, Any] = {}
    try:
        if tokenizer is not None:
            found = (server_drift(r, tokenizer) for r in records if r.get("reward") is not None)
            checked = [d for d in found if d is not None]
            if checked:
                drift["server_ids_checked"] = len(checked)
                drift["rerender_drift"] = round(sum(checked) / len(checked), 4)
        built = build_samples(
            records,
            per_turn_rows=options.per_turn,
            truncation=options.truncation,
            truncation_reward=options.truncation_reward,
            rebuild=(lambda r: rebuilt_traces(r, tokenizer)) if tokenizer is not None else None,
        )
    finally:
        if tokenizer is not None:
            tokenizer.close()
    tasks = {r.get("id"): r.get("task") or "" for r in records}
    for sample in built.samples:
        sample.metadata["task"] = tasks.get(sample.metadata.get("trajectory_id"), "")
    assign_advantages(built, options.advantage, dynamic_sampling=options.dynamic_sampling)
    return built, drift


def export_run(run_dir: Path, fmt: str, out: Path, options: ExportOptions) -> dict[str, Any]:
    """Write the run's samples as ``fmt`` to ``out``; the summary of what went in and what not."""
    check_target(fmt, out)
    built, drift = run_samples(run_dir, options)
    if built.without_tokens and not built.samples:
        raise SampleError(
            f"{built.without_tokens} episodes of {run_dir} carry no token ids (the endpoint returned"
            " none, or the run had no --capture-tokens); give --tokenizer-url of a llama.cpp-compatible"
            " server for the same model to re-tokenize them (the drift is reported)"
        )
    if not built.samples:
        raise SampleError(f"{run_dir} has no episode that can be a sample ({built.summary()})")
    write(built.samples, fmt, out)
    return built.summary() | drift | {"format": fmt, "out": str(out)}

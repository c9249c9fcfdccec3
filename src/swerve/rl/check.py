"""Training-inference mismatch: every generated token's log-probability recomputed by the
trainer-side model, against the one the sampler recorded.

|Δ| per token is |recomputed - recorded|, over tokens with mask 1 and a recorded log-probability,
reported overall and per turn position (turn 1, 2, ... of the episode): mean, max, and the share
over 0.1. The recomputation divides the logits by the run's temperature, as the sampler did. What
it cannot reproduce is said: a repetition penalty (the server's ``penalized`` log-probabilities
include it) and quantization (a GGUF is dequantized for transformers; llama.cpp computes with
the quantized weights).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swerve.rl.export import ExportOptions, run_samples
from swerve.rl.policy import Policy, check_ids, response_logprobs
from swerve.rl.samples import Sample, SampleError

THRESHOLD = 0.1


@dataclass
class Mismatch:
    """|Δ logprob| figures of a set of tokens."""

    deltas: list[float] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        n = len(self.deltas)
        return {
            "tokens": n,
            "mean_abs": round(sum(self.deltas) / n, 5) if n else None,
            "max_abs": round(max(self.deltas), 5) if n else None,
            "share_over_0.1": round(sum(d > THRESHOLD for d in self.deltas) / n, 5) if n else None,
        }


def sample_deltas(policy: Policy, sample: Sample) -> list[tuple[int, float]]:
    """(turn, |Δ|) of each generated token of the sample."""
    import torch

    temperature = float((sample.metadata.get("sampling") or {}).get("temperature") or 0.0)
    with torch.no_grad():
        recomputed = response_logprobs(policy, [sample], temperature)[0].tolist()
    return [
        (turn, abs(new - old))
        for new, old, mask, turn in zip(
            recomputed, sample.rollout_logprobs, sample.response_mask, sample.turn_of_token, strict=True
        )
        if mask
    ]


def check_run(run_dir: Path, policy: Policy, *, limit: int | None = None) -> dict[str, Any]:
    """The mismatch of a run's episodes (the first ``limit`` of them) under ``policy``."""
    built, _ = run_samples(run_dir, ExportOptions(truncation="keep"))
    samples = [s for s in built.samples if s.has_logprobs and any(s.response_mask)]
    if not samples:
        raise SampleError(
            f"{run_dir} has no episode recorded with log-probabilities (run it with --capture-tokens)"
        )
    samples = samples[:limit] if limit else samples
    check_ids(policy, samples)
    overall, by_turn = Mismatch(), defaultdict(Mismatch)
    for sample in samples:
        for turn, delta in sample_deltas(policy, sample):
            overall.deltas.append(delta)
            by_turn[turn + 1].deltas.append(delta)
    sampling = samples[0].metadata.get("sampling") or {}
    notes = []
    penalty = sampling.get("repetition_penalty")
    if penalty not in (None, 1.0):
        notes.append(
            f"the run sampled with repetition_penalty {penalty}; recorded log-probabilities include it"
        )
    if policy.gguf:
        notes.append(
            "the GGUF was dequantized for transformers; llama.cpp sampled with its quantized weights"
        )
    return {
        "episodes": len(samples),
        "model": policy.source,
        "temperature": sampling.get("temperature"),
        "overall": overall.to_json(),
        "per_turn": {str(k): v.to_json() for k, v in sorted(by_turn.items())},
        "notes": notes,
    }


def format_check(result: dict[str, Any]) -> str:
    lines = [f"{result['episodes']} episodes, model {result['model']}, temperature {result['temperature']}"]
    lines.append(f"{'turn':>6} {'tokens':>7} {'mean|Δ|':>9} {'max|Δ|':>9} {'>0.1':>7}")
    for name, row in [("all", result["overall"]), *result["per_turn"].items()]:
        lines.append(
            f"{name:>6} {row['tokens']:>7} {row['mean_abs']:>9.4f} {row['max_abs']:>9.4f} {row['share_over_0.1']:>7.3f}"
        )
    lines += [f"note: {n}" for n in result["notes"]]
    return "\n".join(lines)

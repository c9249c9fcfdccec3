"""The trainer side on CPU with the real embedded model, dequantized into transformers: one GRPO
step on recorded episodes moves log-probabilities the right way (checked by a second forward
pass), and ``swerve rl check`` prints the training-inference mismatch of a real run."""

from __future__ import annotations

import importlib.util
import json
import re

import pytest
from rl_support import swerve

from swerve.models.base import Sampling
from swerve.models.tito import TokenInTokenOutModel
from swerve.rl.advantages import assign_advantages
from swerve.rl.samples import Built, Sample, Trace, merge

NEEDED = ("torch", "transformers", "gguf", "accelerate")
PROMPT = [{"role": "user", "content": "Pick a number from 1 to 10. Answer with the number only."}]


@pytest.fixture(scope="module")
def trainer_stack() -> None:
    missing = [m for m in NEEDED if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"the trainer side needs {', '.join(missing)}: pip install 'swerve[rl]' (torch==2.13.0)")


@pytest.fixture(scope="module")
def policy(trainer_stack, model_path):
    from swerve.rl.policy import load_policy

    return load_policy(model_path)


def even_reward(text: str) -> float:
    found = re.findall(r"\d+", text)
    return 1.0 if found and int(found[0]) % 2 == 0 else 0.0


async def recorded_group(server, n: int) -> list[Sample]:
    """n one-turn episodes of one task, sampled at temperature 1 with exact ids and log-probabilities."""
    samples = []
    for seed in range(n):
        model = TokenInTokenOutModel("rl", server.base_url, context_window=4096)
        try:
            turn = await model.complete(
                PROMPT, [], sampling=Sampling(temperature=1.0, max_tokens=6, seed=seed)
            )
        finally:
            await model.aclose()
        t = turn.tokens
        assert t is not None
        row = merge([Trace(t.prompt_ids, t.output_ids, t.output_logprobs, t.source)])[0]
        samples.append(
            Sample(
                row.prompt_ids,
                row.response_ids,
                row.response_mask,
                row.rollout_logprobs,
                even_reward(turn.raw_text),
                "pick",
                False,
                turn_of_token=row.turn_of_token,
                metadata={"key": f"pick#{seed}", "text": turn.raw_text},
            )
        )
    if len({s.reward for s in samples}) == 1:  # no signal by chance: alternate, so the step has one
        for i, s in enumerate(samples):
            s.reward = float(i % 2)
    return samples


@pytest.mark.timeout(1200)  # a 0.5B model in fp32 on a few CPU cores: minutes, not seconds
async def test_one_grpo_step_raises_positive_and_lowers_negative_logprobs(policy, server):
    from swerve.rl.policy import grpo_step, mean_logprobs

    samples = assign_advantages(Built(await recorded_group(server, 4)), "grpo").samples
    before = mean_logprobs(policy, samples, temperature=1.0)
    recorded = [sum(s.rollout_logprobs) / len(s.rollout_logprobs) for s in samples]
    assert all(abs(a - b) < 0.5 for a, b in zip(before, recorded, strict=True)), (before, recorded)
    grpo_step(policy, samples, lr=1e-4, temperature=1.0)
    after = mean_logprobs(policy, samples, temperature=1.0)
    moved = [a - b for a, b in zip(after, before, strict=True)]
    up = [d for d, s in zip(moved, samples, strict=True) if s.advantage > 0]
    down = [d for d, s in zip(moved, samples, strict=True) if s.advantage < 0]
    assert up and down
    assert sum(up) / len(up) > 0, (moved, [s.advantage for s in samples])
    assert sum(down) / len(down) < 0, (moved, [s.advantage for s in samples])


@pytest.mark.timeout(1200)
def test_rl_check_prints_the_mismatch(trainer_stack, run_dir, model_path, tmp_path):
    done = swerve(
        ["rl", "check", str(run_dir), "--model", str(model_path), "--limit", "1", "--json"], tmp_path
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["episodes"] == 1 and result["overall"]["tokens"] > 0
    assert "1" in result["per_turn"]
    # the sampler and the trainer read the same weights (quantized there, dequantized here)
    assert result["overall"]["mean_abs"] < 0.5, result
    assert any("dequantized" in note for note in result["notes"])


def test_rl_check_refuses_bad_input(tmp_path, run_dir):
    not_run = swerve(["rl", "check", str(tmp_path), "--model", str(tmp_path / "m.gguf")], tmp_path)
    assert not_run.returncode == 2 and "not a run directory" in not_run.stderr
    no_model = swerve(["rl", "check", str(run_dir), "--model", str(tmp_path / "absent.gguf")], tmp_path)
    assert no_model.returncode == 2 and "no model at" in no_model.stderr, no_model.stderr

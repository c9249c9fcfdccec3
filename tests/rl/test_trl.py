"""The TRL adapter against the real GRPOTrainer on CPU: one training step whose completions are
swerve episodes run in sandboxes against the embedded model, rewarded by their verification.
The trained policy is a tiny randomly initialised Qwen2 with the served model's vocabulary (the
data path is what is tested: ids, masks, log-probabilities and rewards through TRL's loss)."""

from __future__ import annotations

import importlib.util
import json

import pytest

from swerve.config import AgentConfig

NEEDED = ("torch", "transformers", "gguf", "accelerate", "trl", "datasets")
pytestmark = pytest.mark.timeout(1200)


@pytest.fixture(scope="module")
def trl_stack() -> None:
    missing = [m for m in NEEDED if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"the TRL adapter test needs {', '.join(missing)}: pip install 'swerve[rl]' trl datasets")


def test_grpo_trainer_trains_on_swerve_episodes(trl_stack, server, model_path, tmp_path, namespaces_ok):
    import torch
    from datasets import Dataset
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM
    from trl import GRPOConfig, GRPOTrainer

    from swerve.gym.sources import load_source
    from swerve.rl.trl_rollout import swerve_reward, swerve_rollout_func

    start = tmp_path / "start"
    start.mkdir()
    (start / "notes.txt").write_text("first line\n")
    tasks = tmp_path / "tasks.jsonl"
    task = {
        "id": "read",
        "path": str(start),
        "verify": "test -f notes.txt",
        "prompt": "Say what notes.txt holds.",
    }
    tasks.write_text(json.dumps(task) + "\n")
    agent = AgentConfig(
        model="rl",
        base_url=server.base_url,
        api_key="none",
        max_turns=1,
        sampling={"temperature": 1.0, "max_tokens": 16},
        server_kind="llama.cpp",
        context_window=4096,
    )
    tokenizer = AutoTokenizer.from_pretrained(str(model_path.parent), gguf_file=model_path.name)
    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=8192,
    )  # fmt: skip
    policy = Qwen2ForCausalLM(config)
    calls = []
    rollout = swerve_rollout_func(load_source(str(tasks)), agent, truncation="keep")  # one turn: often cut

    def recording_rollout(prompts, trainer):
        out = rollout(prompts, trainer)
        calls.append(out)
        return out

    args = GRPOConfig(
        output_dir=str(tmp_path / "out"), max_steps=1, per_device_train_batch_size=2, num_generations=2,
        max_completion_length=64, logging_steps=1, report_to="none", save_strategy="no", use_cpu=True,
        learning_rate=1e-3,
    )  # fmt: skip
    trainer = GRPOTrainer(
        model=policy,
        reward_funcs=[swerve_reward],
        args=args,
        train_dataset=Dataset.from_list([{"prompt": "read"}] * 2),
        processing_class=tokenizer,
        rollout_func=recording_rollout,
    )
    before = [p.detach().clone() for p in policy.parameters()]
    trainer.train()
    assert trainer.state.global_step == 1
    assert calls and len(calls[0]["completion_ids"]) == 2  # num_generations episodes for the one prompt
    out = calls[0]
    assert all(r == 1.0 for r in out["swerve_reward"]), out["swerve_reward"]  # notes.txt is there
    for ids, mask, lps in zip(out["completion_ids"], out["env_mask"], out["logprobs"], strict=True):
        assert len(ids) == len(mask) == len(lps) and sum(mask) > 0
    logged = [h for h in trainer.state.log_history if "reward" in h]
    assert logged and logged[0]["reward"] == pytest.approx(1.0)
    changed = any(not torch.equal(a, b) for a, b in zip(before, policy.parameters(), strict=True))
    assert isinstance(changed, bool)  # equal rewards give zero advantages; the step ran either way

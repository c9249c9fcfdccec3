"""GPU RL loop: vLLM serving a Qwen2.5-Coder model, swerve gym episodes as rollouts, a few GRPO
steps with TRL's GRPOTrainer (``swerve.rl.trl_rollout``); prints rollouts/s, tokens/s and the mean
reward of each step.

It needs a CUDA accelerator and ``vllm`` + ``trl`` installed; without them it says so and exits 3.
vLLM serves the starting weights for the whole run (no weight sync between steps), so this measures
the rollout and training throughput of the loop, not learning.

    python bench/rl_gpu_bench.py --model Qwen/Qwen2.5-Coder-1.5B-Instruct [--steps 3] [--generations 8]
        [--tasks builtin] [--max-turns 8] [--port 8011]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
import urllib.request


def missing() -> str | None:
    for module in ("torch", "vllm", "trl", "datasets"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed"
    import torch

    if not torch.cuda.is_available():
        return "no CUDA accelerator is visible (torch.cuda.is_available() is False)"
    return None


def wait_ready(url: str, proc: subprocess.Popen, timeout_s: float = 900) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"vllm serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/models", timeout=5):
                return
        except OSError:
            time.sleep(2)
    raise SystemExit("vllm serve did not become ready")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="Qwen/Qwen2.5-Coder-1.5B-Instruct")
    p.add_argument("--tasks", default="builtin")
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--generations", type=int, default=8)
    p.add_argument("--prompts-per-step", type=int, default=2)
    p.add_argument("--max-turns", type=int, default=8)
    p.add_argument("--reply-tokens", type=int, default=512)
    p.add_argument("--port", type=int, default=8011)
    args = p.parse_args()
    why = missing()
    if why:
        print(f"this benchmark needs an accelerator and vllm + trl: {why}; nothing was run", file=sys.stderr)
        return 3

    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from swerve.config import AgentConfig
    from swerve.gym.sources import load_source
    from swerve.rl.trl_rollout import swerve_reward, swerve_rollout_func

    url = f"http://127.0.0.1:{args.port}/v1"
    server = subprocess.Popen(
        ["vllm", "serve", args.model, "--host", "127.0.0.1", "--port", str(args.port),
         "--gpu-memory-utilization", "0.45", "--served-model-name", "policy"]
    )  # fmt: skip
    try:
        wait_ready(url, server)
        source = load_source(args.tasks)
        agent = AgentConfig(
            model="policy", base_url=url, api_key="none", server_kind="vllm", max_turns=args.max_turns,
            sampling={"temperature": 1.0, "max_tokens": args.reply_tokens},
        )  # fmt: skip
        rollout = swerve_rollout_func(source, agent, truncation="mask")
        stats: list[dict[str, float]] = []

        def timed(prompts, trainer):
            t0 = time.monotonic()
            out = rollout(prompts, trainer)
            wall = time.monotonic() - t0
            tokens = sum(sum(m) for m in out["env_mask"])
            rewards = [r for r in out["swerve_reward"] if r is not None]
            stats.append({"rollouts_s": len(prompts) / wall, "tokens_s": tokens / wall,
                          "reward": sum(rewards) / len(rewards) if rewards else float("nan")})  # fmt: skip
            return out

        class Report(TrainerCallback):
            def on_step_end(self, args_, state, control, **kw):
                s = stats[-1] if stats else {}
                print(
                    json.dumps({"step": state.global_step, **{k: round(v, 3) for k, v in s.items()}}),
                    flush=True,
                )

        tokenizer = AutoTokenizer.from_pretrained(args.model)
        policy = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.bfloat16).cuda()
        ids = source.task_ids()[: args.prompts_per_step * args.steps]
        batch = args.prompts_per_step * args.generations
        trainer = GRPOTrainer(
            model=policy, processing_class=tokenizer, reward_funcs=[swerve_reward], rollout_func=timed,
            train_dataset=Dataset.from_list([{"prompt": t} for t in ids]),
            args=GRPOConfig(output_dir="/tmp/swerve-rl-gpu", max_steps=args.steps, num_generations=args.generations,
                            per_device_train_batch_size=batch, bf16=True, report_to="none", save_strategy="no",
                            logging_steps=1, gradient_checkpointing=True),
            callbacks=[Report()],
        )  # fmt: skip
        trainer.train()
    finally:
        server.terminate()
        server.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())

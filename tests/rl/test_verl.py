"""The verl adapter against the real installed verl: ``SwerveAgentLoop`` (an ``AgentLoopBase``
registered as ``swerve_agent``) runs a swerve episode whose LLM calls go through a server manager
with verl's ``generate`` signature, here over the real local server's ``/completion`` (verl's own
managers need Ray and GPU engines), and returns an ``AgentLoopOutput`` that verl turns into tensors."""

from __future__ import annotations

import importlib.util
import json

import httpx
import pytest

NEEDED = ("verl", "torch", "transformers", "gguf", "omegaconf")
pytestmark = pytest.mark.timeout(1200)


@pytest.fixture(scope="module")
def verl_stack() -> None:
    missing = [m for m in NEEDED if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(
            f"the verl adapter test needs {', '.join(missing)} (pip install --no-deps verl; docs/rl.md)"
        )
    try:
        import verl.experimental.agent_loop.agent_loop
        import verl.trainer.ppo.ray_trainer  # noqa: F401  (compute_advantage)
    except ImportError as exc:
        pytest.skip(f"verl's agent loop or trainer does not import here: {exc} (docs/rl.md)")


class LocalServerManager:
    """verl's ``server_manager.generate(request_id, *, prompt_ids, sampling_params) -> TokenOutput``
    over llama.cpp's ``/completion`` of the local server."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.requests: list[str] = []

    async def generate(self, request_id, *, prompt_ids, sampling_params, **_):
        from verl.workers.rollout.replica import TokenOutput

        self.requests.append(request_id)
        body = {
            "prompt": prompt_ids, "n_predict": sampling_params["max_tokens"], "n_probs": 1,
            "return_tokens": True, "temperature": sampling_params.get("temperature", 1.0),
        }  # fmt: skip
        async with httpx.AsyncClient(base_url=self.url, timeout=600) as http:
            data = (await http.post("/completion", json=body)).json()
        probs = [p["logprob"] for p in data["completion_probabilities"]]
        return TokenOutput(token_ids=data["tokens"], log_probs=probs, stop_reason="completed")


@pytest.fixture(scope="module")
def tokenizer(verl_stack, model_path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(model_path.parent), gguf_file=model_path.name)


def agent_loop(tokenizer, manager, tasks, **settings):
    from omegaconf import OmegaConf
    from verl.experimental.agent_loop.agent_loop import DictConfigWrap

    from swerve.rl.verl_loop import SwerveAgentLoop

    config = OmegaConf.create(
        {"actor_rollout_ref": {"rollout": {"prompt_length": 4096, "response_length": 256}}}
    )
    return SwerveAgentLoop(
        trainer_config=DictConfigWrap(config), server_manager=manager, tokenizer=tokenizer, processor=None,
        dataset_cls=None, data_config=DictConfigWrap(OmegaConf.create({})), tasks=str(tasks), **settings,
    )  # fmt: skip


async def test_swerve_agent_loop_returns_agent_loop_output(
    verl_stack, server, tokenizer, tmp_path, namespaces_ok
):
    from verl.experimental.agent_loop.agent_loop import AgentLoopOutput, _agent_loop_registry

    import swerve.rl.verl_loop  # noqa: F401  (registers the loop)

    assert _agent_loop_registry["swerve_agent"]["_target_"] == "swerve.rl.verl_loop.SwerveAgentLoop"
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
    manager = LocalServerManager(server.url)
    loop = agent_loop(tokenizer, manager, tasks, max_turns=2)
    out = await loop.run(
        {"temperature": 1.0, "max_tokens": 24}, extra_info={"task_id": "read"}, agent_name="swerve_agent"
    )
    assert isinstance(out, AgentLoopOutput)
    assert out.extra_fields["swerve_infra_error"] is None and out.reward_score == 1.0
    assert len(out.response_ids) == len(out.response_mask) == len(out.response_logprobs) <= 256
    assert sum(out.response_mask) > 0
    assert all(lp == 0.0 for lp, m in zip(out.response_logprobs, out.response_mask, strict=True) if m == 0)
    assert manager.requests and len(set(manager.requests)) == 1  # one request id: sticky routing
    rendered = tokenizer.apply_chat_template(
        [{"role": "system", "content": "x"}], add_generation_prompt=False, tokenize=False
    )
    assert rendered  # the policy's own template renders the prompts
    tensors = out.as_dict()  # verl's own conversion to its batch
    assert tensors["responses"].shape == tensors["response_mask"].shape


async def test_an_episode_whose_environment_fails_is_retried_then_holds_a_place_with_no_mask(
    verl_stack, tokenizer, tmp_path
):
    start = tmp_path / "start"
    start.mkdir()
    tasks = tmp_path / "tasks.jsonl"
    gone = {"id": "gone", "path": str(start), "verify": "true", "prompt": "Say hi."}
    tasks.write_text(json.dumps(gone) + "\n")
    manager = LocalServerManager("http://127.0.0.1:9")  # never called: no environment, no turn
    loop = agent_loop(tokenizer, manager, tasks, max_turns=2)
    start.rmdir()  # the task's directory is gone by the time its episode starts
    out = await loop.run(
        {"temperature": 1.0, "max_tokens": 24}, extra_info={"task_id": "gone"}, agent_name="swerve_agent"
    )
    assert out.extra_fields["swerve_infra_error"]
    assert len(out.extra_fields["swerve_infra_retries"]) == 2  # the default, as the farm's
    assert sum(out.response_mask) == 0 and out.reward_score == 0.0 and not manager.requests


def advantage_batch(rewards, trained):
    """A verl ``DataProto`` of one-token responses: the reward on the last token, groups by ``uid``."""
    import numpy as np
    import torch
    from verl import DataProto

    rows = [(uid, r) for uid, rs in rewards.items() for r in rs]
    scores = torch.zeros(len(rows), 3)
    scores[:, -1] = torch.tensor([r for _, r in rows])
    mask = torch.tensor([[1.0, 1.0, 1.0] if t else [0.0, 0.0, 0.0] for t in trained])
    return DataProto.from_dict(
        tensors={"token_level_rewards": scores, "response_mask": mask},
        non_tensors={"uid": np.array([uid for uid, _ in rows], dtype=object)},
    )


@pytest.mark.parametrize(
    ("ours", "verls", "std"),
    [("swerve_grpo", "grpo", True), ("swerve_grpo", "grpo", False), ("swerve_rloo", "rloo", True)],
)
def test_swerve_estimators_leave_a_sample_with_no_mask_out_of_its_group(verl_stack, ours, verls, std):
    import torch
    from verl.trainer.config import AlgoConfig
    from verl.trainer.ppo.ray_trainer import compute_advantage

    import swerve.rl.verl_loop  # noqa: F401  (registers the estimators in verl)

    # task a: three episodes and one lost to an infrastructure error (reward 0.0, nothing sampled)
    rewards = {"a": [1.0, 0.0, 1.0, 0.0], "b": [0.0, 1.0]}
    trained = [True, True, True, False, True, True]
    algo = AlgoConfig(adv_estimator=ours, norm_adv_by_std_in_grpo=std)
    flag = {"norm_adv_by_std_in_grpo": std}  # what verl's trainer passes beside its config
    got = compute_advantage(advantage_batch(rewards, trained), ours, config=algo, **flag).batch["advantages"]
    clean = {"a": [1.0, 0.0, 1.0], "b": [0.0, 1.0]}
    plain = AlgoConfig(adv_estimator=verls, norm_adv_by_std_in_grpo=std)
    want = compute_advantage(advantage_batch(clean, [True] * 5), verls, config=plain, **flag).batch[
        "advantages"
    ]
    assert torch.allclose(got[[0, 1, 2, 4, 5]], want, atol=1e-5)
    assert torch.count_nonzero(got[3]) == 0
    # verl's own estimator counts the lost episode's 0.0 in its group: the siblings move
    theirs = compute_advantage(advantage_batch(rewards, trained), verls, config=plain, **flag).batch[
        "advantages"
    ]
    assert not torch.allclose(theirs[[0, 1, 2]], want[[0, 1, 2]], atol=1e-3)


RAY_WORKER_ESTIMATORS = """
import json, os, sys
import ray
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
import verl.trainer.main_ppo as main_ppo

with initialize_config_dir(config_dir=os.path.join(os.path.dirname(main_ppo.__file__), "config"), version_base=None):
    config = compose(config_name="ppo_trainer", overrides=sys.argv[1:])
ray.init(runtime_env=OmegaConf.to_container(config.ray_kwargs.ray_init.get("runtime_env") or {}), num_cpus=1,
         include_dashboard=False)

@ray.remote
def estimators():
    from verl.trainer.ppo import core_algos
    return sorted(name for name in core_algos.ADV_ESTIMATOR_REGISTRY if name.startswith("swerve"))

print(json.dumps(ray.get(estimators.remote())))
"""


@pytest.mark.parametrize("hooked", [True, False], ids=["setup-hook", "no-hook"])
def test_the_documented_setup_hook_registers_the_estimators_in_verls_ray_workers(
    verl_stack, tmp_path, hooked
):
    import os
    import shutil
    import subprocess
    import sys
    import tempfile

    overrides = ["algorithm.adv_estimator=swerve_grpo"]  # verl's own config, with the override of docs/rl.md
    if hooked:
        overrides.append(
            "+ray_kwargs.ray_init.runtime_env.worker_process_setup_hook=swerve.rl.verl_loop.register_estimators"
        )
    ray_dir = tempfile.mkdtemp(prefix="swr-", dir="/tmp")  # Unix socket paths below it must stay short
    env = os.environ | {"RAY_TMPDIR": ray_dir, "RAY_USAGE_STATS_ENABLED": "0", "HOME": str(tmp_path)}
    try:
        ran = subprocess.run(
            [sys.executable, "-c", RAY_WORKER_ESTIMATORS, *overrides],
            capture_output=True, text=True, env=env, timeout=600,
        )  # fmt: skip
    finally:
        shutil.rmtree(ray_dir, ignore_errors=True)
    assert ran.returncode == 0, ran.stderr[-3000:]
    names = json.loads(ran.stdout.strip().splitlines()[-1])
    assert names == (["swerve_dr_grpo", "swerve_grpo", "swerve_rloo"] if hooked else [])

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
        import verl.experimental.agent_loop.agent_loop  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"verl's agent loop does not import here: {exc}")


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


async def test_swerve_agent_loop_returns_agent_loop_output(
    verl_stack, server, model_path, tmp_path, namespaces_ok
):
    from omegaconf import OmegaConf
    from transformers import AutoTokenizer
    from verl.experimental.agent_loop.agent_loop import AgentLoopOutput, DictConfigWrap, _agent_loop_registry

    from swerve.rl.verl_loop import SwerveAgentLoop

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
    config = OmegaConf.create(
        {"actor_rollout_ref": {"rollout": {"prompt_length": 4096, "response_length": 256}}}
    )
    tokenizer = AutoTokenizer.from_pretrained(str(model_path.parent), gguf_file=model_path.name)
    manager = LocalServerManager(server.url)
    loop = SwerveAgentLoop(
        trainer_config=DictConfigWrap(config), server_manager=manager, tokenizer=tokenizer, processor=None,
        dataset_cls=None, data_config=DictConfigWrap(OmegaConf.create({})), tasks=str(tasks), max_turns=2,
    )  # fmt: skip
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

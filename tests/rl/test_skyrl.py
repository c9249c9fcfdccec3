"""The SkyRL environment against the installed skyrl-gym: ``skyrl_gym.make("swerve", ...)`` gives a
``BaseTextEnv`` whose steps run the model's tool calls in a real sandbox and end with the verified
reward; the actions come from the real embedded model through its chat endpoint, as a SkyRL
generator's would."""

from __future__ import annotations

import importlib.util
import json

import pytest

from swerve.models.base import Sampling, ToolSpec
from swerve.models.openai_chat import OpenAIChatModel

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def skyrl_gym_installed() -> None:
    if importlib.util.find_spec("skyrl_gym") is None:
        pytest.skip("skyrl-gym is not installed (pip install skyrl-gym)")


async def test_swerve_env_steps_and_rewards(skyrl_gym_installed, server, tmp_path, namespaces_ok):
    import skyrl_gym
    from skyrl_gym.envs.base_text_env import BaseTextEnv

    import swerve.rl.skyrl_env  # noqa: F401  (registers "swerve")

    start = tmp_path / "start"
    start.mkdir()
    (start / "notes.txt").write_text("first line\n")
    tasks = tmp_path / "tasks.jsonl"
    task = {"id": "read", "path": str(start), "verify": "test -f notes.txt", "prompt": "Read notes.txt."}
    tasks.write_text(json.dumps(task) + "\n")
    env = skyrl_gym.make(
        "swerve", env_config={"tasks": str(tasks), "max_turns": 2}, extras={"task_id": "read"}
    )
    assert isinstance(env, BaseTextEnv)
    model = OpenAIChatModel("rl", server.base_url, context_window=4096)
    try:
        messages, info = env.init([])
        tools = [
            ToolSpec(t["function"]["name"], t["function"]["description"], t["function"]["parameters"])
            for t in info["tools"]
        ]
        assert messages[-1]["content"] and "read_file" in {t.name for t in tools}
        outputs = []
        for _ in range(2):
            turn = await model.complete(messages, tools, sampling=Sampling(temperature=0, max_tokens=48))
            out = env.step(turn.raw_text)
            outputs.append(out)
            messages += [{"role": "assistant", "content": turn.raw_text}] + [
                {"role": "user", "content": o["content"]} for o in out["observations"]
            ]
            if out["done"]:
                break
    finally:
        await model.aclose()
        env.close()
    last = outputs[-1]
    assert last["done"] and last["reward"] == 1.0 and "infra_error" not in last["metadata"], last
    assert all(o["role"] == "tool" for out in outputs for o in out["observations"])
    assert env.env is None  # closed: the sandbox is gone

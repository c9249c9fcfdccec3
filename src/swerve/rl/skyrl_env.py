"""SkyRL: a skyrl-gym text environment over a swerve environment (``skyrl_gym.make("swerve", ...)``).

SkyRL's generator owns the loop and the token ids (it samples the action, tokenizes the
observations, keeps the loss mask); this env is the environment side of it. ``init`` resets a
fresh sandbox for the row's task and returns the agent's system prompt and the task statement;
``step(action)`` reads the tool calls in the model's text (Hermes ``<tool_call>`` blocks, fenced
or bare JSON, as swerve's agent does), runs them in the sandbox and returns their output as
``tool`` messages; with no call, or at ``max_turns``, the final state is verified and the episode
ends with its reward. An environment that stopped working ends the episode with
``metadata["infra_error"]`` set, so a trainer can leave it out.

    env = skyrl_gym.make("swerve", env_config={"tasks": "builtin", "max_turns": 20},
                         extras={"task_id": "builtin__inflection-484df7bd"})
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any

from skyrl_gym.envs.base_text_env import BaseTextEnv, BaseTextEnvStepOutput
from skyrl_gym.envs.registration import register

from swerve.agent.prompts import system_prompt
from swerve.gym.sources import load_source
from swerve.models.salvage import salvage_json_calls

ENV_ID = "swerve"


class SwerveTextEnv(BaseTextEnv):
    """One swerve episode's environment, stepped by a SkyRL generator."""

    def __init__(self, env_config: Any = None, extras: dict[str, Any] | None = None) -> None:
        super().__init__()
        config = dict(env_config or {})
        extras = dict(extras or {})
        self.source = load_source(str(config.get("tasks") or extras.get("tasks") or "builtin"))
        self.task_id = str(extras.get("task_id") or (extras.get("extra_info") or {}).get("task_id") or "")
        self.max_turns = int(config.get("max_turns") or 20)
        self.env: Any = None
        self._loop = asyncio.new_event_loop()  # the sandbox's async work, off SkyRL's own loop
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def _run(self, work: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result()

    def init(self, prompt: Any = None) -> tuple[list[dict[str, str]], dict[str, Any]]:
        self.env = self.source.make(self.task_id)
        statement = self._run(self.env.reset())
        messages = [
            {"role": "system", "content": system_prompt(self.env.workspace.root)},
            {"role": "user", "content": statement},
        ]
        return messages, {"tools": [s.openai() for s in self.env.tools.specs()], "task_id": self.task_id}

    def step(self, action: str) -> BaseTextEnvStepOutput:
        self.turns += 1
        specs = {s.name: s for s in self.env.tools.specs()}
        _, calls = salvage_json_calls(action, specs)
        observations = []
        for call in calls:
            result = self._run(self.env.tools.call(call, self.env.context))
            observations.append({"role": "tool", "content": result.output})
        if calls and self.turns < self.max_turns:
            return BaseTextEnvStepOutput(
                observations=observations, reward=0.0, done=False, metadata={"tool_calls": len(calls)}
            )
        if not self._run(self.env.healthy()):
            return BaseTextEnvStepOutput(
                observations=[], reward=0.0, done=True,
                metadata={"infra_error": "the environment stopped working during the episode"},
            )  # fmt: skip
        verdict = self._run(self.env.verify())
        return BaseTextEnvStepOutput(
            observations=observations, reward=float(verdict.reward), done=True,
            metadata={"verdict": verdict.to_json(), "turns": self.turns},
        )  # fmt: skip

    def close(self) -> None:
        if self.env is not None:
            self._run(self.env.close())
            self.env = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


register(id=ENV_ID, entry_point="swerve.rl.skyrl_env:SwerveTextEnv")

"""verl: an agent loop (``AgentLoopBase``, registered as ``swerve_agent``) that runs one swerve
episode per dataset row, its LLM calls through verl's ``server_manager.generate``.

The episode is the farm's own (a sandbox, the agent, verification); its model is token-in-token-out
over verl's engine: prompts rendered once with the policy's tokenizer and chat template, every
later prompt the previous ids + the sampled ids + the new messages' ids, all turns with one
request id (verl routes them to the same server, for its prefix cache). The output is verl's
``AgentLoopOutput``: ``response_mask`` 1 on sampled tokens, ``response_logprobs`` from the engine,
``reward_score`` the verified reward, cut to ``rollout.response_length``.

Rows name their task in ``extra_info.task_id`` (``swerve gym export --format verl`` writes such rows)
and pick this loop with ``agent_name: swerve_agent``. The loop's own settings (``tasks``, ``max_turns``)
come through ``agent_loop_config_path``::

    - name: swerve_agent
      _target_: swerve.rl.verl_loop.SwerveAgentLoop
      tasks: builtin
      max_turns: 20

An infrastructure error is retried (``infra_retries``, 2 by default, as the farm does). An episode
that still ends on one comes back with its mask all zero and ``extra_fields.swerve_infra_error``
set: it holds its place in the batch and teaches nothing. verl's own ``grpo`` counts its 0.0 in the
group's mean; the estimators registered here (``algorithm.adv_estimator=swerve_grpo``,
``swerve_dr_grpo``, ``swerve_rloo``) leave samples with no sampled token out of their group. verl
computes advantages in its own Ray worker: ``register_estimators`` is the setup hook that imports
them there (``+ray_kwargs.ray_init.runtime_env.worker_process_setup_hook=swerve.rl.verl_loop.register_estimators``).
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from typing import Any

from verl.experimental.agent_loop.agent_loop import AgentLoopBase, AgentLoopMetrics, AgentLoopOutput, register
from verl.trainer.ppo.core_algos import register_adv_est

from swerve.config import AgentConfig
from swerve.gym.base import Episode
from swerve.gym.episode import EpisodeRunner, Gates, PoolLimits
from swerve.gym.sources import load_source
from swerve.models.base import ToolSpec
from swerve.models.tito import TokenInTokenOutModel
from swerve.rl.advantages import episode_advantages
from swerve.rl.samples import build_samples

AGENT_NAME = "swerve_agent"


class ServerManagerModel(TokenInTokenOutModel):
    """Token-in-token-out over verl's ``server_manager`` and the policy's own tokenizer."""

    def __init__(
        self,
        server_manager: Any,
        tokenizer: Any,
        request_id: str,
        sampling: dict[str, Any],
        context_window: int,
    ) -> None:
        super().__init__("verl-policy", "http://verl.invalid", context_window=context_window)
        self.server_manager, self.tokenizer, self.request_id = server_manager, tokenizer, request_id
        self.engine_sampling = dict(sampling)
        self._eos_text = str(tokenizer.eos_token or "")
        self._eos_ids = tokenizer.encode(self._eos_text, add_special_tokens=False) if self._eos_text else []
        self.logprobs_mode = "verl rollout"

    async def _facts(self) -> None:
        return None

    async def render(self, messages: list[Any], tools: list[ToolSpec], *, generation: bool) -> str:
        return str(
            self.tokenizer.apply_chat_template(
                [_with_object_arguments(m) for m in messages],
                tools=[t.openai() for t in tools] or None,
                add_generation_prompt=generation,
                tokenize=False,
            )
        )

    async def tokenize(self, text: str, *, add_special: bool = False) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=add_special))

    async def generate(self, body: dict[str, Any]) -> dict[str, Any]:
        params = self.engine_sampling | {"max_tokens": body["n_predict"], "logprobs": True}
        out = await self.server_manager.generate(
            self.request_id, prompt_ids=body["prompt"], sampling_params=params
        )
        ids = [int(t) for t in out.token_ids]
        ended = bool(self._eos_ids) and ids[-len(self._eos_ids) :] == self._eos_ids
        logprobs = out.log_probs if out.log_probs is not None and len(out.log_probs) == len(ids) else None
        return {
            "content": self.tokenizer.decode(ids, skip_special_tokens=True),
            "tokens": ids,
            "completion_probabilities": [{"logprob": float(x)} for x in logprobs] if logprobs else None,
            "stop_type": "eos" if ended else "limit",
            "tokens_evaluated": len(body["prompt"]),
            "tokens_predicted": len(ids),
        }


def _with_object_arguments(message: dict[str, Any]) -> dict[str, Any]:
    """Tool-call arguments as objects, as chat templates expect them (``tojson`` in the template)."""
    calls = message.get("tool_calls")
    if not calls:
        return message
    fixed = []
    for call in calls:
        fn = dict(call.get("function") or {})
        try:
            fn["arguments"] = json.loads(fn.get("arguments") or "{}")
        except (TypeError, ValueError):
            pass
        fixed.append({**call, "function": fn})
    return {**message, "tool_calls": fixed}


@register(AGENT_NAME)
class SwerveAgentLoop(AgentLoopBase):
    """One swerve episode per row, through verl's inference engine."""

    def __init__(
        self,
        *args: Any,
        tasks: str = "builtin",
        max_turns: int = 20,
        infra_retries: int = PoolLimits.infra_retries,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.source = load_source(tasks)
        self.max_turns = max_turns
        self.limits = PoolLimits(envs=1, model_calls=1, infra_retries=max(0, infra_retries))

    async def run(self, sampling_params: dict[str, Any], **kwargs: Any) -> AgentLoopOutput:
        extra = kwargs.get("extra_info") or {}
        task = str(extra.get("task_id") or kwargs.get("task_id") or "")
        limit = int(self.rollout_config.response_length)
        context = int(self.rollout_config.prompt_length) + limit
        request_id = uuid.uuid4().hex
        runner = EpisodeRunner(
            self.source,
            AgentConfig(model="verl-policy", max_turns=self.max_turns, capture_tokens=True),
            run_id="verl",
            model_factory=lambda: ServerManagerModel(
                self.server_manager, self.tokenizer, request_id, sampling_params, context
            ),
        )
        gates, retries = Gates(self.limits), self.limits.infra_retries
        failed: list[str] = []  # the infrastructure errors of the attempts before the last
        for attempt in range(1, retries + 2):
            episode = Episode(task, int(extra.get("sample") or 0), group_id=task, attempt=attempt)
            record = await runner.run(episode, gates)
            if not record.get("infra_error") or attempt > retries:
                break
            failed.append(str(record["infra_error"]))
        samples = build_samples([record], truncation="keep").samples
        timing = record.get("timing") or {}
        metrics = AgentLoopMetrics(
            generate_sequences=float(timing.get("model_s") or 0.0),
            tool_calls=float(timing.get("env_s") or 0.0),
        )
        fields = {
            "swerve_task": task,
            "swerve_exit_reason": record.get("exit_reason"),
            "swerve_infra_error": record.get("infra_error"),
            "swerve_infra_retries": failed,
        }
        if not samples:
            eos = int(self.tokenizer.eos_token_id or 0)
            return AgentLoopOutput(
                prompt_ids=[eos], response_ids=[eos], response_mask=[0], response_logprobs=[0.0],
                reward_score=0.0, num_turns=0, metrics=metrics, extra_fields=fields,
            )  # fmt: skip
        last = samples[-1]
        return AgentLoopOutput(
            prompt_ids=last.prompt_ids,
            response_ids=last.response_ids[:limit],
            response_mask=last.response_mask[:limit],
            response_logprobs=last.rollout_logprobs[:limit],
            reward_score=last.reward,
            num_turns=2 * len(record.get("turns") or []) + 1,
            metrics=metrics,
            extra_fields=fields | {"swerve_truncated": last.truncated or len(last.response_ids) > limit},
        )


def _group_estimator(estimator: str) -> Any:
    def compute(
        token_level_rewards: Any, response_mask: Any, index: Any, config: Any = None, **_: Any
    ) -> tuple[Any, Any]:
        """verl's advantage estimator signature: (advantages, returns), both (batch, response)."""
        import torch

        kind = estimator
        if kind == "grpo" and config is not None and not config.get("norm_adv_by_std_in_grpo", True):
            kind = "dr_grpo"  # as verl's grpo reads the flag
        scores = token_level_rewards.sum(dim=-1)
        trained = (response_mask.sum(dim=-1) > 0).tolist()
        groups: dict[Any, list[int]] = defaultdict(list)
        for row, key in enumerate(index):
            if trained[row]:  # a sample with no sampled token (an infrastructure error) has no place
                groups[key].append(row)
        advantages = torch.zeros_like(scores)
        with torch.no_grad():
            for rows in groups.values():
                rewards = [float(scores[row]) for row in rows]
                for row, advantage in zip(rows, episode_advantages(rewards, kind), strict=True):
                    advantages[row] = advantage
            advantages = advantages.unsqueeze(-1) * response_mask
        return advantages, advantages

    compute.__name__ = f"swerve_{estimator}_advantage"
    return compute


ESTIMATORS = {
    f"swerve_{name}": register_adv_est(f"swerve_{name}")(_group_estimator(name))
    for name in ("grpo", "dr_grpo", "rloo")
}


def register_estimators() -> None:
    """A Ray ``worker_process_setup_hook``: importing this module registered the estimators."""

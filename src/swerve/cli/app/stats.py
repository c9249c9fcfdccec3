"""Token, cost and time statistics for /stats, per model."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from swerve.models.base import Pricing, Usage


@dataclass
class ModelStats:
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    model_s: float = 0.0
    cost: float = 0.0


@dataclass
class SessionStats:
    started: float = field(default_factory=time.monotonic)
    models: dict[str, ModelStats] = field(default_factory=dict)
    tool_calls: int = 0
    tool_errors: int = 0
    tool_s: float = 0.0
    prompts: int = 0
    agent_s: float = 0.0

    def add_reply(self, model: str, usage: Usage, seconds: float, pricing: Pricing) -> None:
        s = self.models.setdefault(model, ModelStats())
        s.requests += 1
        s.input_tokens += usage.input_tokens
        s.output_tokens += usage.output_tokens
        s.cached_tokens += usage.cache_read_tokens
        s.model_s += seconds
        s.cost += pricing.cost(usage)

    def add_tool(self, seconds: float, is_error: bool) -> None:
        self.tool_calls += 1
        self.tool_errors += int(is_error)
        self.tool_s += seconds

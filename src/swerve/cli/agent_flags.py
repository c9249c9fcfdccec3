"""Model and agent flags shared by the commands that run the agent many times (gym, eval)."""

from __future__ import annotations

import argparse
import os
from typing import Any


def add_model_flags(p: argparse.ArgumentParser, timeout_flag: str = "--timeout") -> None:
    p.add_argument("-m", "--model", help="model name, or replay:PATH (default: from settings)")
    p.add_argument("--provider", choices=("openai", "anthropic"))
    p.add_argument("--base-url")
    p.add_argument("--api-key")
    p.add_argument("--tool-protocol", choices=("native", "qwen-xml"))
    p.add_argument("--max-turns", type=int)
    p.add_argument("--max-tokens", type=int)
    p.add_argument(timeout_flag, type=float, dest="wall_clock_s", help="agent wall-clock limit per episode")
    p.add_argument("--context-window", type=int)
    p.add_argument("--temperature", type=float)
    p.add_argument("--top-p", type=float)
    p.add_argument("--top-k", type=int)


def agent_config_from(args: argparse.Namespace, default_turns: int = 50, *, required: bool = True) -> Any:
    """The agent's settings: flags over environment over settings files (as for ``swerve -p``).
    Without a model anywhere: ValueError with help, or None when not ``required``."""
    from swerve.config import MISSING_MODEL_HELP, ConfigError, resolve
    from swerve.gym.episode import AgentConfig

    flags = {
        "model": args.model,
        "provider": args.provider,
        "base_url": args.base_url,
        "api_key": args.api_key,
        "tool_protocol": args.tool_protocol,
        "max_turns": args.max_turns,
        "max_tokens": args.max_tokens,
        "wall_clock_s": args.wall_clock_s,
        "context_window": args.context_window,
        "sampling": {"temperature": args.temperature, "top_p": args.top_p, "top_k": args.top_k},
    }
    try:
        settings = resolve(os.getcwd(), flags)
    except ConfigError as exc:
        raise ValueError(str(exc)) from None
    if not settings.model:
        if not required:
            return None
        raise ValueError(MISSING_MODEL_HELP)
    return AgentConfig(
        model=settings.model,
        provider=settings.provider,
        base_url=settings.base_url,
        api_key=settings.api_key,
        tool_protocol=settings.tool_protocol,
        context_window=settings.context_window,
        sampling=dict(settings.sampling),
        max_turns=args.max_turns
        or (settings.max_turns if "max_turns" in settings.sources else default_turns),
        max_tokens=settings.max_tokens,
        wall_clock_s=settings.wall_clock_s,
    )

"""The models behind the gateway: each built by swerve's model layer from settings (so Qwen3-Coder
XML parsing, argument repair and retries come with it), with the gateway's own retry budget
(short: a client retries too) and a cap on output tokens that the backend can take."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from swerve.config import AgentConfig, Settings, settings_from_mapping
from swerve.errors import ConfigError
from swerve.models.base import Model, Sampling
from swerve.models.retry import RetryPolicy

# Copies of an HTTP backend's model, each with its own connection pool: httpx's pool does work
# proportional to requests x connections on every event, so hundreds of concurrent streams
# through one pool cost quadratically; spread over eight pools they cost an eighth of that.
POOLS = 8

# what a backend request gets unless $SWERVE_RETRY_* say otherwise: three tries within seconds
GATEWAY_RETRY_DEFAULTS = {
    "SWERVE_RETRY_MAX_ATTEMPTS": "3",
    "SWERVE_RETRY_BASE_DELAY": "0.5",
    "SWERVE_RETRY_MAX_DELAY": "4",
    "SWERVE_RETRY_MAX_RETRY_AFTER": "30",
}


def gateway_retry_policy(env: dict[str, str] | None = None) -> RetryPolicy:
    merged = {**GATEWAY_RETRY_DEFAULTS, **(os.environ if env is None else env)}
    return RetryPolicy.from_env(merged)


@dataclass
class Backend:
    """One model the gateway can route to, under a name of its own."""

    name: str
    model: Model
    config: AgentConfig
    max_output_tokens: int | None = None
    copies: list[Model] = field(default_factory=list)  # the model and its copies (own pools)
    _active: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.copies = self.copies or [self.model]
        self._active = [0] * len(self.copies)

    def lease(self) -> tuple[Model, Callable[[], None]]:
        """The copy with the fewest requests in flight, and the call that gives it back."""
        i = min(range(len(self.copies)), key=self._active.__getitem__)
        self._active[i] += 1
        done = False

        def release() -> None:
            nonlocal done
            if not done:
                done = True
                self._active[i] -= 1

        return self.copies[i], release

    @property
    def model_name(self) -> str:
        return self.model.name

    def sampling(self, client: Sampling) -> Sampling:
        """The client's sampling with ``max_tokens`` no higher than this backend's cap."""
        cap = self.max_output_tokens
        if cap and (client.max_tokens is None or client.max_tokens > cap):
            return client.merged(max_tokens=cap)
        return client

    def describe(self) -> str:
        where = self.config.base_url or self.config.provider or ""
        protocol = f", {self.config.tool_protocol} tools" if self.config.tool_protocol != "native" else ""
        return f"{self.name}: {self.model_name} at {where}{protocol}"

    async def aclose(self) -> None:
        for model in self.copies:
            await model.aclose()


def _retry_holders(model: Any) -> list[Any]:
    """The model and the models it wraps (QwenXMLModel wraps a chat model)."""
    out = []
    while model is not None and model not in out:
        out.append(model)
        model = getattr(model, "inner", None)
    return out


def build_backend(name: str, settings: Settings, policy: RetryPolicy | None = None) -> Backend:
    """A Backend from resolved settings; ConfigError when they name no usable model."""
    config = AgentConfig.from_settings(settings)
    try:
        first = config.build_model()
        copies = [first, *(config.build_model() for _ in range(POOLS - 1))] if _pooled(first) else [first]
    except ValueError as exc:
        raise ConfigError(f"backend {name}: {exc}") from None
    for model in copies:
        for holder in _retry_holders(model):
            if hasattr(holder, "retry_policy"):
                holder.retry_policy = policy or gateway_retry_policy()
    cap = config.effective_sampling().get("max_tokens")
    return Backend(name, copies[0], config, int(cap) if cap else None, copies)


def _pooled(model: Model) -> bool:
    """Whether copies of ``model`` are independent HTTP clients (a replay script is not)."""
    return any(hasattr(holder, "_http") for holder in _retry_holders(model))


def backend_settings(name: str, entry: Any, env: dict[str, str] | None = None) -> Settings:
    """Settings of one ``gateway.backends`` entry: settings.json keys (``model``, ``provider``,
    ``baseUrl``, ``apiKey``, ``toolProtocol``, ``contextWindow``, ``sampling``), and
    ``apiKeyEnv``, the variable that holds the key."""
    if not isinstance(entry, dict):
        raise ConfigError(f"gateway backend {name!r} must be an object of settings, not {entry!r}")
    entry = dict(entry)
    key_var = entry.pop("apiKeyEnv", None)
    if key_var is not None:
        value = (os.environ if env is None else env).get(str(key_var))
        if not value:
            raise ConfigError(f"gateway backend {name!r}: ${key_var} (its apiKeyEnv) is not set")
        entry["apiKey"] = value
    if not entry.get("model"):
        raise ConfigError(f"gateway backend {name!r} names no model")
    return settings_from_mapping(entry, f"gateway backend {name!r}")


def backend_flags(spec: str | None) -> dict[str, Any]:
    """Settings fields for ``--backend``: ``local`` or ``local:NAME`` (the embedded model),
    ``anthropic`` or ``anthropic:URL``, an ``http(s)://`` URL of an OpenAI-compatible server,
    or ``replay:PATH``."""
    if not spec:
        return {}
    if spec == "local" or spec.startswith("local:") or spec.startswith("replay:"):
        return {"model": spec}
    if spec == "anthropic":
        return {"provider": "anthropic"}
    if spec.startswith("anthropic:"):
        return {"provider": "anthropic", "base_url": spec.partition(":")[2]}
    if spec.startswith(("http://", "https://")):
        return {"provider": "openai", "base_url": spec}
    raise ConfigError(
        f"--backend {spec!r} is not one of: local, local:NAME, anthropic, anthropic:URL, "
        "an http(s):// URL of an OpenAI-compatible server, replay:PATH"
    )

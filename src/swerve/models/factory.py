"""Build a Model from settings: a model name, a provider, an endpoint, a key, a tool protocol."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING

from swerve.models.base import Model, Sampling, default_sampling

if TYPE_CHECKING:
    from swerve.models.retry import Retry

PROVIDERS = ("openai", "anthropic")
TOOL_PROTOCOLS = ("native", "qwen-xml")
OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_CONTEXT_WINDOW = 131072

# (substring of the lower-cased model name, context window); the first match wins.
KNOWN_CONTEXT_WINDOWS: tuple[tuple[str, int], ...] = (
    ("qwen3-coder", 262144),
    ("qwen2.5-coder", 32768),
    ("qwen3", 131072),
    ("claude", 200000),
    ("gpt-4.1", 1047576),
    ("gpt-5", 400000),
    ("gpt-4o", 128000),
    ("gpt-4-turbo", 128000),
    ("gpt-3.5", 16385),
    ("gemini", 1048576),
    ("deepseek", 128000),
    ("kimi-k2", 131072),
    ("glm-4", 131072),
    ("devstral", 131072),
    ("llama-3", 131072),
)


def known_context_window(model: str) -> int:
    """The context window of a model family, or 131072 when the family is not known."""
    name = model.lower().rsplit("/", 1)[-1]
    for key, size in KNOWN_CONTEXT_WINDOWS:
        if key in name:
            return size
    if name.startswith(("o1", "o3", "o4")):  # OpenAI reasoning models
        return 200000
    return DEFAULT_CONTEXT_WINDOW


# public endpoints that answer nothing without a key: fail at once instead of retrying a 401
KEYED_HOSTS = ("api.openai.com", "api.anthropic.com", "openrouter.ai", "dashscope", "api.deepseek.com")


def _require_key(url: str, key: str | None, variable: str) -> None:
    """A ValueError naming the variable to set when ``url`` needs a key and none is configured."""
    from swerve.models.urls import is_loopback

    if key or is_loopback(url):
        return
    if any(host in url for host in KEYED_HOSTS):
        raise ValueError(
            f"no API key is configured for {url}: set {variable} (or apiKey in settings, or --api-key)"
        )


def default_max_tokens(context_window: int) -> int:
    """Output tokens per request when nothing says otherwise: an eighth of the window, between 1,024
    and 16,384, so a runaway reply stops long before it fills the context."""
    return min(16384, max(1024, context_window // 8))


def effective_sampling(model: str, sampling: Sampling | None, context_window: int) -> Sampling:
    """What a request carries: the model family's defaults, the settings over them, and a bounded
    ``max_tokens`` always."""
    defaults = default_sampling(model)
    merged = defaults.merged(**asdict(sampling)) if sampling else defaults
    if merged.max_tokens is None:
        merged = merged.merged(max_tokens=default_max_tokens(context_window))
    return merged


def guess_provider(model: str, base_url: str | None) -> str:
    """``anthropic`` for Claude models and Anthropic-style endpoints, else ``openai``."""
    if base_url and "anthropic" in base_url.lower():
        return "anthropic"
    return "anthropic" if model.lower().startswith("claude") else "openai"


def extra_headers_for(base_url: str) -> dict[str, str]:
    """Headers some services ask clients to identify themselves with."""
    if "openrouter.ai" in base_url:
        return {"X-Title": "swerve"}
    return {}


def create_model(
    model: str,
    *,
    provider: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    tool_protocol: str = "native",
    context_window: int | None = None,
    sampling: Sampling | None = None,
    env: Mapping[str, str] | None = None,
    server_kind: str | None = None,
    on_retry: Callable[[Retry], None] | None = None,
    capture_tokens: bool = False,
) -> Model:
    """The Model for these settings. ``model`` ``replay:PATH`` or ``replay:demo`` gives a
    ReplayModel. Raises ValueError for settings that cannot work (the message says which)."""
    model = (model or "").strip()
    if not model:
        raise ValueError("no model name given")
    if tool_protocol not in TOOL_PROTOCOLS:
        raise ValueError(f"tool protocol {tool_protocol!r} is not one of {', '.join(TOOL_PROTOCOLS)}")
    window = context_window or known_context_window(model)
    if model.startswith("replay:"):
        from swerve.models.replay import ReplayModel

        source = model[len("replay:") :]
        if not source:
            raise ValueError("replay: needs a script path, or 'demo' (replay:demo)")
        return ReplayModel(source, name=model, context_window=window)

    chosen = provider or guess_provider(model, base_url)
    if chosen not in PROVIDERS:
        raise ValueError(f"provider {chosen!r} is not one of {', '.join(PROVIDERS)}")
    merged = effective_sampling(model, sampling, window)
    env = os.environ if env is None else env

    if chosen == "anthropic":
        if tool_protocol != "native":
            raise ValueError(
                "the qwen-xml tool protocol needs an OpenAI-compatible endpoint (provider openai)"
            )
        from swerve.models.anthropic_messages import DEFAULT_BASE_URL, AnthropicMessagesModel

        auth_token = None
        token_env = env.get("ANTHROPIC_AUTH_TOKEN")
        if token_env and not env.get("ANTHROPIC_API_KEY") and api_key in (None, token_env):
            api_key, auth_token = None, token_env
        _require_key(base_url or DEFAULT_BASE_URL, api_key or auth_token, "ANTHROPIC_API_KEY")
        return AnthropicMessagesModel(
            model,
            base_url or DEFAULT_BASE_URL,
            api_key,
            auth_token=auth_token,
            context_window=window,
            sampling=merged,
            on_retry=on_retry,
        )

    from swerve.models.openai_chat import OpenAIChatModel

    url = base_url or OPENAI_DEFAULT_BASE_URL
    _require_key(url, api_key, "OPENAI_API_KEY")
    if capture_tokens and server_kind in ("llama.cpp", "vllm") and tool_protocol == "native":
        # exact ids: token ids in, token ids out
        from swerve.models.tito import TokenInTokenOutModel

        tito: type[TokenInTokenOutModel] = TokenInTokenOutModel
        if server_kind == "vllm":
            from swerve.models.tito_vllm import VLLMTokenInTokenOutModel

            tito = VLLMTokenInTokenOutModel
        return tito(model, url, api_key, context_window=window, sampling=merged, on_retry=on_retry)
    inner = OpenAIChatModel(
        model,
        url,
        api_key,
        context_window=window,
        sampling=merged,
        extra_headers=extra_headers_for(url),
        server_kind=server_kind,
        on_retry=on_retry,
        capture_tokens=capture_tokens,
    )
    if tool_protocol == "qwen-xml":
        from swerve.models.qwen_xml import QwenXMLModel

        return QwenXMLModel(inner)
    return inner

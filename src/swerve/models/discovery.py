"""What an OpenAI-compatible server says about itself: which models it serves, its context size,
and which kind of server it is (llama.cpp, vLLM, SGLang, or another), so that swerve needs no
model name when the server serves one, never assumes a context window the server contradicts,
and sends sampling fields the server actually reads.

Read from ``GET {base}/models`` (vLLM's ``max_model_len``, llama.cpp's ``meta.n_ctx_train``,
``owned_by``) and, where it answers, llama.cpp's ``GET /props`` (``default_generation_settings.n_ctx``,
the context the server really runs with). Each base URL is asked once per process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ServerKind = Literal["llama.cpp", "vllm", "sglang", "openai", "unknown"]
DISCOVERY_TIMEOUT_S = 3.0

_cache: dict[tuple[str, bool], ServerInfo | None] = {}


@dataclass
class ServerInfo:
    """What the server said; ``context_window`` is None when it did not say."""

    base_url: str
    kind: ServerKind
    models: list[str] = field(default_factory=list)
    context_window: int | None = None
    context_source: str = ""  # where the context size came from, for the user

    def describe(self) -> str:
        served = ", ".join(self.models) if self.models else "no model list"
        ctx = (
            f"context {self.context_window} ({self.context_source})"
            if self.context_window
            else "context not given"
        )
        return f"{self.kind} server at {self.base_url}: serves {served}; {ctx}"


def discover(base_url: str, api_key: str | None = None, *, refresh: bool = False) -> ServerInfo | None:
    """Ask the server at ``base_url`` (an OpenAI ``/v1`` base) about itself; None when it does not
    answer ``/models`` with a model list. Never raises."""
    key = (base_url.rstrip("/"), bool(api_key))
    if not refresh and key in _cache:
        return _cache[key]
    try:
        info = _ask(key[0], api_key)
    except Exception:  # a dead or odd server: nothing discovered, the caller goes on without
        info = None
    _cache[key] = info
    return info


def _ask(base: str, api_key: str | None) -> ServerInfo | None:
    import httpx

    from swerve.models.urls import is_loopback

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    with httpx.Client(
        timeout=DISCOVERY_TIMEOUT_S, headers=headers, trust_env=not is_loopback(base)
    ) as client:
        response = client.get(base + "/models")
        if response.status_code != 200:
            return None
        data = response.json()
        entries = (
            [e for e in (data.get("data") or []) if isinstance(e, dict)] if isinstance(data, dict) else []
        )
        if not entries:
            return None
        models = [str(e["id"]) for e in entries if e.get("id")]
        owners = {str(e.get("owned_by", "")).lower() for e in entries}
        info = ServerInfo(base, _kind(owners, base), models)
        first = entries[0]
        meta: dict[str, Any] = first["meta"] if isinstance(first.get("meta"), dict) else {}
        if isinstance(first.get("max_model_len"), int):
            info.context_window, info.context_source = first["max_model_len"], "max_model_len in /models"
        elif isinstance(meta.get("n_ctx"), int):
            info.context_window, info.context_source = meta["n_ctx"], "meta.n_ctx in /models"
        props = _props(client, base) if info.kind in ("llama.cpp", "unknown") or meta else None
        if props is not None:
            info.kind = "llama.cpp"
            n_ctx = _int(props.get("default_generation_settings", {}).get("n_ctx")) or _int(
                props.get("n_ctx")
            )
            if n_ctx:
                info.context_window, info.context_source = n_ctx, "n_ctx in /props"
        if info.context_window is None and isinstance(meta.get("n_ctx_train"), int):
            info.context_window, info.context_source = meta["n_ctx_train"], "n_ctx_train in /models"
        return info


def _props(client: Any, base: str) -> dict[str, Any] | None:
    root = base[: -len("/v1")] if base.endswith("/v1") else base
    try:
        response = client.get(root + "/props")
        data = response.json() if response.status_code == 200 else None
    except Exception:
        return None
    if isinstance(data, dict) and isinstance(data.get("default_generation_settings"), dict):
        return data
    return None


def _kind(owners: set[str], base: str) -> ServerKind:
    if owners & {"llamacpp", "llama.cpp"}:
        return "llama.cpp"
    if "vllm" in owners:
        return "vllm"
    if "sglang" in owners:
        return "sglang"
    if "api.openai.com" in base or owners & {"openai", "system", "openai-internal"}:
        return "openai"
    return "unknown"


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None

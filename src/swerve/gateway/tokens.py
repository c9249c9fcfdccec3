"""``count_tokens`` with the backend's own tokenizer where the server offers one: vLLM's and
SGLang's ``/tokenize`` (chat messages in, a count out), llama.cpp's and swerve's local server's
``/apply-template`` then ``/tokenize``. Anything else, or any failure, is the size estimate."""

from __future__ import annotations

from typing import Any

import httpx

from swerve.gateway.backends import Backend
from swerve.gateway.turns import TurnRequest, estimate_tokens
from swerve.models.openai_chat import wire_messages
from swerve.models.urls import is_loopback

TIMEOUT_S = 10.0


def _root(base_url: str) -> str:
    base = base_url.rstrip("/")
    return base[: -len("/v1")] if base.endswith("/v1") else base


def _wire(request: TurnRequest, backend: Backend) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    if backend.config.tool_protocol == "qwen-xml":
        from swerve.models.qwen_xml import render_history

        return wire_messages(render_history(request.messages, request.tools)), []
    return wire_messages(request.messages), [t.openai() for t in request.tools]


async def count_tokens(request: TurnRequest, backend: Backend) -> tuple[int, str]:
    """(input tokens, how they were counted: ``tokenizer`` or ``estimate``)."""
    kind, base = backend.config.server_kind, backend.config.base_url
    if kind in ("vllm", "sglang", "llama.cpp") and base:
        messages, tools = _wire(request, backend)
        headers = {"Authorization": f"Bearer {backend.config.api_key}"} if backend.config.api_key else {}
        try:
            async with httpx.AsyncClient(
                timeout=TIMEOUT_S, headers=headers, trust_env=not is_loopback(base)
            ) as http:
                root = _root(base)
                if kind == "llama.cpp":
                    body: dict[str, Any] = {"messages": messages, **({"tools": tools} if tools else {})}
                    prompt = (
                        (await http.post(f"{root}/apply-template", json=body))
                        .raise_for_status()
                        .json()["prompt"]
                    )
                    done = await http.post(f"{root}/tokenize", json={"content": prompt, "add_special": True})
                    return len(done.raise_for_status().json()["tokens"]), "tokenizer"
                body = {
                    "model": backend.model_name,
                    "messages": messages,
                    **({"tools": tools} if tools else {}),
                }
                return int(
                    (await http.post(f"{root}/tokenize", json=body)).raise_for_status().json()["count"]
                ), "tokenizer"
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            pass
    return estimate_tokens(request.messages, request.tools), "estimate"

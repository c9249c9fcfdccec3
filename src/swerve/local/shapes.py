"""Response pieces shared by the generation endpoints: ids, usage, log-probability entries."""

from __future__ import annotations

import secrets
import time
from typing import Any

from swerve.httpd import HTTPError
from swerve.local.llama import LlamaModel
from swerve.local.scheduler import Finished, Token


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(12)}"


def now() -> int:
    return int(time.time())


def usage(done: Finished) -> dict[str, Any]:
    return {
        "prompt_tokens": done.prompt_n,
        "completion_tokens": done.generated_n,
        "total_tokens": done.prompt_n + done.generated_n,
        "prompt_tokens_details": {"cached_tokens": done.cached_n},
    }


def finish_reason(done: Finished, has_calls: bool = False) -> str:
    """OpenAI's finish_reason; a cut-off reply stays "length" even if calls were parsed."""
    if done.reason == "length":
        return "length"
    return "tool_calls" if has_calls else "stop"


def raise_if_failed(done: Finished) -> None:
    if done.reason == "error":
        raise HTTPError(500, f"generation failed: {done.error}", type="server_error")


def error_event(done: Finished) -> dict[str, Any]:
    """What a stream sends when generation fails after its headers went out."""
    return {"error": {"code": 500, "message": f"generation failed: {done.error}", "type": "server_error"}}


def _token_text(model: LlamaModel, token: int) -> tuple[str, list[int]]:
    data = model.piece(token, special=True)
    return data.decode("utf-8", "replace"), list(data)


def openai_logprob(model: LlamaModel, event: Token) -> dict[str, Any]:
    """One ``logprobs.content[]`` entry of the chat API."""
    text, data = _token_text(model, event.token)
    top = []
    for token, logprob in event.top:
        alt, alt_bytes = _token_text(model, token)
        top.append({"token": alt, "logprob": logprob, "bytes": alt_bytes})
    return {"token": text, "logprob": event.logprob, "bytes": data, "top_logprobs": top}


def llama_probability(model: LlamaModel, event: Token) -> dict[str, Any]:
    """One ``completion_probabilities[]`` entry of llama.cpp's /completion."""
    text, data = _token_text(model, event.token)
    top = []
    for token, logprob in event.top:
        alt, alt_bytes = _token_text(model, token)
        top.append({"id": token, "token": alt, "bytes": alt_bytes, "logprob": logprob})
    return {"id": event.token, "token": text, "bytes": data, "logprob": event.logprob, "top_logprobs": top}

"""Request fields -> generation settings, in llama.cpp's and the OpenAI/vLLM dialects.

Both servers' names are read: ``repeat_penalty`` (llama.cpp) and ``repetition_penalty`` (vLLM),
``max_tokens`` / ``max_completion_tokens`` (OpenAI) and ``n_predict`` (llama.cpp), ``logprobs``
+ ``top_logprobs`` (chat), an integer ``logprobs`` (legacy completions) and ``n_probs``
(llama.cpp). A length limit is always bounded: with none given (or llama.cpp's ``-1``) a
request gets :data:`DEFAULT_MAX_TOKENS`, never "until the context is full". A field of the wrong
type or out of range is a 400 naming the field; unknown fields are ignored, as both servers do.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from swerve.httpd import HTTPError
from swerve.local.sampling import SamplingParams

DEFAULT_MAX_TOKENS = 2048
MAX_TOP_LOGPROBS = 20
MAX_STOP_STRINGS = 16


@dataclass
class Generation:
    """What one request asks of the generator."""

    params: SamplingParams
    max_tokens: int
    stop: list[str]
    logprobs: bool = False
    stream: bool = False
    include_usage: bool = False
    return_token_ids: bool = False
    cache_prompt: bool = True
    ignore_eos: bool = False

    def settings(self) -> dict[str, Any]:
        """llama.cpp's ``params`` as /slots and ``generation_settings`` show them."""
        return {
            **self.params.as_dict(),
            "n_predict": self.max_tokens,
            "stop": list(self.stop),
            "stream": self.stream,
            "cache_prompt": self.cache_prompt,
        }


def _bad(field: str, message: str) -> HTTPError:
    return HTTPError(400, f"'{field}' {message}")


def number(
    body: dict[str, Any], field: str, default: float, low: float | None = None, high: float | None = None
) -> float:
    value = body.get(field)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(field, f"must be a number, not {type(value).__name__}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise _bad(field, f"must be between {low} and {high}, not {value}")
    return float(value)


def integer(
    body: dict[str, Any], field: str, default: int, low: int | None = None, high: int | None = None
) -> int:
    value = body.get(field)
    if value is None:
        return default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(field, f"must be an integer, not {type(value).__name__}")
    if (low is not None and value < low) or (high is not None and value > high):
        bound = f"at least {low}" if high is None else f"between {low} and {high}"
        raise _bad(field, f"must be {bound}, not {value}")
    return value


def flag(body: dict[str, Any], field: str, default: bool = False) -> bool:
    value = body.get(field)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _bad(field, f"must be true or false, not {value!r}")
    return value


def _stop(body: dict[str, Any]) -> list[str]:
    value = body.get("stop")
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise _bad("stop", "must be a string or a list of strings")
    if len(value) > MAX_STOP_STRINGS:
        raise _bad("stop", f"may hold at most {MAX_STOP_STRINGS} strings")
    return [s for s in value if s]


def _max_tokens(body: dict[str, Any]) -> int:
    for field in ("max_completion_tokens", "max_tokens", "n_predict"):
        if body.get(field) is None:
            continue
        value = integer(body, field, DEFAULT_MAX_TOKENS, low=-1)
        if value == -1:
            return DEFAULT_MAX_TOKENS
        if value == 0:
            raise _bad(field, "must be positive (or -1 for the server's default)")
        return value
    return DEFAULT_MAX_TOKENS


def sampling(body: dict[str, Any], defaults: SamplingParams) -> SamplingParams:
    """Sampling fields of a request over the server's defaults."""
    repeat = body.get("repeat_penalty")
    repeat_field = "repeat_penalty" if repeat is not None else "repetition_penalty"
    seed = body.get("seed")
    return dataclasses.replace(
        defaults,
        temperature=number(body, "temperature", defaults.temperature, 0.0, 100.0),
        top_k=integer(body, "top_k", defaults.top_k),
        top_p=number(body, "top_p", defaults.top_p, 0.0, 1.0) or 1.0,
        min_p=number(body, "min_p", defaults.min_p, 0.0, 1.0),
        repeat_penalty=number(body, repeat_field, defaults.repeat_penalty, 0.0, 100.0) or 1.0,
        repeat_last_n=integer(body, "repeat_last_n", defaults.repeat_last_n, -1),
        presence_penalty=number(body, "presence_penalty", defaults.presence_penalty, -2.0, 2.0),
        frequency_penalty=number(body, "frequency_penalty", defaults.frequency_penalty, -2.0, 2.0),
        seed=-1 if seed is None else integer(body, "seed", -1, -1, 2**63 - 1),
    )


def _n_probs(body: dict[str, Any], dialect: str) -> tuple[bool, int]:
    """(log-probabilities wanted, how many alternatives) for each dialect."""
    if dialect == "chat":
        wanted = flag(body, "logprobs")
        top = integer(body, "top_logprobs", 0, 0, MAX_TOP_LOGPROBS)
        if top and not wanted:
            raise _bad("top_logprobs", "needs 'logprobs': true")
        return wanted, top
    if dialect == "completions":
        value = body.get("logprobs")
        if value is None or value is False:
            return False, 0
        if value is True:
            return True, 0
        return True, integer(body, "logprobs", 0, 0, MAX_TOP_LOGPROBS)
    top = integer(body, "n_probs", 0, 0, MAX_TOP_LOGPROBS)
    return top > 0, top


def generation(body: dict[str, Any], defaults: SamplingParams, dialect: str) -> Generation:
    """``dialect``: "chat" (/v1/chat/completions), "completions" (/v1/completions), "llama" (/completion)."""
    if integer(body, "n", 1, 1) != 1:
        raise _bad("n", "must be 1: this server returns one choice per request")
    params = sampling(body, defaults)
    logprobs, top = _n_probs(body, dialect)
    params.n_probs = top
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise _bad("stream_options", "must be an object")
    stream = flag(body, "stream")
    return Generation(
        params=params,
        max_tokens=_max_tokens(body),
        stop=_stop(body),
        logprobs=logprobs,
        stream=stream,
        include_usage=bool(options and flag(options, "include_usage")),
        return_token_ids=flag(body, "return_token_ids") or flag(body, "return_tokens"),
        cache_prompt=flag(body, "cache_prompt", True),
        ignore_eos=flag(body, "ignore_eos"),
    )

"""The Model contract: messages and tool specs in, one streamed turn out.

Messages use the OpenAI chat shape internally, as plain dicts:

- ``{"role": "system" | "user", "content": str}``
- ``{"role": "assistant", "content": str, "tool_calls": [{"id": str, "type": "function",
  "function": {"name": str, "arguments": dict}}]}`` (arguments stay a dict in history)
- ``{"role": "tool", "tool_call_id": str, "name": str, "content": str}``

Providers convert to their wire shape (JSON-string arguments for OpenAI, content blocks for
Anthropic, XML text for the Qwen3-Coder text protocol) when they send.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

Message = dict[str, Any]
TextCallback = Callable[[str], None]


@dataclass(frozen=True)
class ToolSpec:
    """What the model is told about one tool: a name, a description, a JSON schema."""

    name: str
    description: str
    parameters: dict[str, Any]

    def openai(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


def new_call_id() -> str:
    """A fresh tool-call id: ``call_`` and 24 hex digits."""
    return "call_" + secrets.token_hex(12)


@dataclass
class ToolCall:
    """One call the model made. ``error`` is set when the call could not be decoded;
    the agent then reports it to the model instead of running anything."""

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    repairs: list[str] = field(default_factory=list)  # what was mended to read the call (near misses)

    def message(self) -> dict[str, Any]:
        """The call as it stands in an assistant message of the history."""
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_read_tokens += other.cache_read_tokens

    def dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class Pricing:
    """Prices per million tokens, in whatever currency the settings use."""

    input_per_mtok: float = 0.0
    output_per_mtok: float = 0.0

    def cost(self, usage: Usage) -> float:
        return (usage.input_tokens * self.input_per_mtok + usage.output_tokens * self.output_per_mtok) / 1e6


@dataclass
class ModelTurn:
    """The whole of one model response."""

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    finish_reason: str = "stop"  # stop | tool_calls | length | content_filter | error
    raw_text: str = ""  # the completion text exactly as the server sent it, calls and all
    request: dict[str, Any] | None = None  # the body sent for this turn (no credentials in it)
    tokens: TokenTrace | None = None  # what the server saw and sampled, when it says

    def message(self) -> Message:
        """The turn as an assistant message of the history. ``raw`` keeps what the model wrote
        when calls were read out of its text, so text protocols send back exactly that."""
        msg: Message = {"role": "assistant", "content": self.text}
        if self.tool_calls:
            msg["tool_calls"] = [c.message() for c in self.tool_calls]
        if self.raw_text and self.raw_text != self.text:
            msg["raw"] = self.raw_text
        return msg


@dataclass
class TokenTrace:
    """Token-level truth of one turn: the prompt ids the server evaluated, the ids it sampled and
    their log-probabilities (``logprobs_mode`` says which distribution), for RL trainers."""

    prompt_ids: list[int]
    output_ids: list[int]
    output_logprobs: list[float] | None = None
    logprobs_mode: str = ""
    source: str = ""  # how they were had: "server" (ids returned), "tito" (ids in, ids out) or "tokenizer"
    fork: bool = False  # the prompt was rendered afresh instead of extending the previous turn's ids

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Sampling:
    """Sampling settings; ``None`` means the server's default."""

    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    repetition_penalty: float | None = None
    max_tokens: int | None = None  # per request: a runaway reply stops here
    seed: int | None = None

    def merged(self, **overrides: Any) -> Sampling:
        values = asdict(self)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return Sampling(**values)


QWEN3_CODER_SAMPLING = Sampling(temperature=0.7, top_p=0.8, top_k=20, repetition_penalty=1.05)


def default_sampling(model_name: str) -> Sampling:
    """Sampling defaults by model family (Qwen3-Coder's model card values for Qwen coders)."""
    name = model_name.lower()
    if "qwen" in name and "coder" in name:
        return QWEN3_CODER_SAMPLING
    return Sampling()


class Model(Protocol):
    """A chat model that can call tools."""

    name: str
    context_window: int

    async def complete(
        self,
        messages: list[Message],
        tools: list[ToolSpec],
        *,
        sampling: Sampling | None = None,
        on_text: TextCallback | None = None,
    ) -> ModelTurn:
        """Stream one turn. ``on_text`` receives text deltas as they arrive (never tool-call
        markup). Raises ModelError when the endpoint fails for good."""
        ...

    async def aclose(self) -> None: ...

"""Events the agent emits while it runs. Faces (terminal, headless printers, the farm) only consume them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from swerve.models.base import Message, ModelTurn, ToolCall, Usage
from swerve.tools.base import ToolResult

ExitReason = Literal[
    "completed",  # the model answered without calling a tool
    "max_turns",
    "max_tokens",
    "max_cost",
    "timeout",  # the wall-clock limit
    "loop",  # the loop guard stopped a repetition
    "model_error",  # the endpoint failed for good
    "context_overflow",  # the history no longer fits, even compressed
    "empty_reply",  # the model kept answering with nothing
    "format_error",  # a task run: the model kept answering in prose instead of calling a tool
    "truncated",  # the model's replies kept hitting the output token limit
    "interrupted",  # Esc, Ctrl-C, SIGTERM
    "error",
]
EXIT_REASONS: tuple[ExitReason, ...] = get_args(ExitReason)


@dataclass
class MessageAdded:
    """A message joined the history (every one does, in order; sessions are written from these)."""

    message: Message


@dataclass
class TurnStarted:
    turn: int


@dataclass
class TextDelta:
    text: str


@dataclass
class ModelReplied:
    turn: ModelTurn
    model_s: float


@dataclass
class ToolStarted:
    call: ToolCall
    summary: str
    kind: str


@dataclass
class ToolFinished:
    call: ToolCall
    result: ToolResult
    duration_s: float
    denied: bool = False


@dataclass
class Notice:
    """Something the user should know that is not part of the conversation (a loop warning, a compression)."""

    text: str
    kind: str = "info"  # info | warning | compression | retry


@dataclass
class Compressed:
    """Older turns were replaced by a summary; ``messages`` is the whole new history."""

    messages: list[Message]
    tokens_before: int
    tokens_after: int


@dataclass
class Finished:
    exit_reason: ExitReason
    result: str
    num_turns: int
    usage: Usage
    duration_s: float
    model_s: float
    env_s: float
    error: str | None = None
    denials: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_error(self) -> bool:
        return self.exit_reason != "completed"


Event = (
    MessageAdded
    | TurnStarted
    | TextDelta
    | ModelReplied
    | ToolStarted
    | ToolFinished
    | Notice
    | Compressed
    | Finished
)
EventSink = Callable[[Event], None]

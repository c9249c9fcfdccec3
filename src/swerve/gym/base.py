"""The farm's contracts: environments, verdicts, episodes and the executors that run them.

An ``Env`` is one live environment for one episode: ``reset()`` opens it and returns the task
statement, ``step(call)`` runs one tool call through the same tools the terminal agent uses,
``verify()`` grades the final state in a fresh copy the agent never touched, ``close()`` removes
everything. An ``Episode`` names one unit of work (a task and a sample index); an ``Executor`` runs
episodes (in this process, or on Ray workers) and returns their trajectory records.

Failures come in two kinds and are never mixed up: ``InfraError`` (the machinery failed: a sandbox
died, the harness timed out) is recorded as ``infra_error`` and may be retried; whatever the model
did (bad calls, limits, wrong answers) is the agent's and ends in a reward.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from swerve.errors import SwerveError
from swerve.models.base import ToolCall

if TYPE_CHECKING:
    from swerve.sandbox.base import Workspace
    from swerve.tools.base import ToolContext
    from swerve.tools.registry import ToolRegistry


class WorkerLost(SwerveError):
    """The worker running an episode died; the episode goes back in the queue."""


@dataclass
class StepResult:
    """What one tool call did: the observation the model would see."""

    observation: str
    is_error: bool = False
    seconds: float = 0.0


@dataclass
class Verification:
    """The grade of an environment's final state.

    ``reward`` is 1.0 for a resolved task and 0.0 otherwise; ``resolved`` says the same as a bool;
    ``tests_status`` holds the test ids by outcome (SWE-bench's FAIL_TO_PASS/PASS_TO_PASS shape
    for tasks, or ``{"exit_code": n}`` for a plain verification command); ``report`` is anything
    else the verifier knows (outcome, cause, timings, log paths).
    """

    reward: float
    resolved: bool
    tests_status: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Env(Protocol):
    """One live environment. ``workspace``, ``tools`` and ``context`` are usable after ``reset``."""

    id: str  # the task id
    prompt: str  # the task statement given to the agent
    workspace: Workspace | None  # what the tools see (after reset)
    tools: ToolRegistry | None  # the agent's tools, bound to ``workspace`` (after reset)
    context: ToolContext | None  # their context (after reset)

    async def reset(self) -> str:
        """Open a fresh environment at the task's starting state; returns the task statement.
        Raises InfraError when the environment cannot be had."""
        ...

    async def step(self, call: ToolCall) -> StepResult:
        """Run one tool call; a bad call is an error observation, never an exception."""
        ...

    async def verify(self) -> Verification:
        """Grade the current state in a fresh copy of it; raises InfraError when grading itself fails."""
        ...

    async def healthy(self) -> bool:
        """Whether the environment still works (used to tell a dead sandbox from a model's bad call)."""
        ...

    async def close(self) -> None:
        """Remove every process, mount and file of this environment; safe to call twice."""
        ...


@dataclass(frozen=True)
class Episode:
    """One unit of work: sample ``sample`` of task ``task_id``; samples of a task share ``group_id``."""

    task_id: str
    sample: int = 0
    group_id: str = ""
    attempt: int = 1

    @property
    def key(self) -> str:
        return f"{self.task_id}#{self.sample}"


class Executor(Protocol):
    """Runs episodes somewhere and returns their trajectory records.

    ``run`` returns a record for every episode it finishes, with ``infra_error`` set when the
    machinery failed; it raises ``WorkerLost`` when the worker died before a record could be made.
    """

    capacity: int  # how many episodes it can usefully run at once

    async def start(self) -> None: ...

    async def run(self, episode: Episode) -> dict[str, Any]: ...

    async def close(self) -> None: ...

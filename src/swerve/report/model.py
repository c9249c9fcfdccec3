"""The report's typed model: one run of any kind, as episodes with outcomes, figures and details.

Every loader (eval report folder, gym run directory, validation report) turns its files into a
``Run``; the statistics, the plots and the page read nothing else. An episode is one graded
attempt at one task: a sample of a gym run, an instance of an eval run, the gold or the no-patch
run of a validated task.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

# Where an episode ended, in three classes: solved, the agent's failure, the machinery's failure.
Klass = Literal["resolved", "failed", "infra", "pending"]
RESOLVED, FAILED, INFRA, PENDING = "resolved", "failed", "infra", "pending"
# eval outcomes (swerve.eval.reports) by class; an unknown outcome counts as a failure
INFRA_OUTCOMES = ("env_unavailable", "error", "infra_error")
TEST_GROUPS = ("FAIL_TO_PASS", "PASS_TO_PASS", "FAIL_TO_FAIL", "PASS_TO_FAIL")


def klass_of(outcome: str) -> Klass:
    """The class of an eval outcome (``resolved``, ``unresolved``, ``env_unavailable``, ...)."""
    if outcome == "resolved":
        return RESOLVED
    if outcome in INFRA_OUTCOMES:
        return INFRA
    if outcome == PENDING:
        return PENDING
    return FAILED


@dataclass
class Detail:
    """What the trajectory viewer shows for one episode (read only when the page is packed)."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    patch: str = ""
    tests: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # group -> success/failure
    log_tail: str = ""
    verdict: dict[str, Any] = field(default_factory=dict)  # outcome, resolution, cause, exit code
    notes: list[tuple[str, str]] = field(default_factory=list)  # (label, text) shown above the rest


@dataclass
class Episode:
    """One graded attempt at one task."""

    key: str
    task_id: str
    sample: int = 0
    group_id: str = ""
    repo: str = ""
    label: str = ""  # what ran: a model, "gold", "no-patch"
    outcome: str = "unresolved"  # an eval outcome, or "infra_error"
    reward: float | None = None
    cause: str = ""
    exit_reason: str = ""
    counted: bool = True  # part of the run's figures (a validation's no-patch runs are not)
    turns: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    timings: dict[str, float] = field(default_factory=dict)  # model_s, env_s, verify_s, total_s, ...
    tests: dict[str, tuple[int, int]] = field(default_factory=dict)  # group -> (passed, total)
    # reads the episode's trajectory, diff and logs from disk (None: there is nothing to show)
    load_detail: Callable[[], Detail] | None = field(default=None, repr=False, compare=False)

    @property
    def klass(self) -> Klass:
        return klass_of(self.outcome)

    @property
    def resolved(self) -> bool:
        return self.outcome == "resolved"


def test_counts(tests_status: Any) -> dict[str, tuple[int, int]]:
    """(passed, total) per test group of a SWE-bench ``tests_status`` (groups without tests left out)."""
    counts: dict[str, tuple[int, int]] = {}
    if not isinstance(tests_status, dict):
        return counts
    for group in TEST_GROUPS:
        status = tests_status.get(group)
        if not isinstance(status, dict):
            continue
        ok, bad = _names(status.get("success")), _names(status.get("failure"))
        if ok or bad:
            counts[group] = (len(ok), len(ok) + len(bad))
    return counts


def test_lists(tests_status: Any) -> dict[str, dict[str, list[str]]]:
    """The test names per group and result of a ``tests_status``, keeping only well-formed parts."""
    lists: dict[str, dict[str, list[str]]] = {}
    if not isinstance(tests_status, dict):
        return lists
    for group in TEST_GROUPS:
        status = tests_status.get(group)
        if isinstance(status, dict):
            ok, bad = _names(status.get("success")), _names(status.get("failure"))
            if ok or bad:
                lists[group] = {"success": ok, "failure": bad}
    return lists


def _names(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


@dataclass
class Run:
    """One run of any kind, ready for statistics and rendering."""

    kind: str  # eval, agent-eval, gym, validation (a loader for another kind adds its own name)
    path: str
    title: str
    run_id: str = ""
    model: str = ""
    created_at: str = ""
    updated_at: str = ""
    samples: int = 1  # K, the samples planned per task
    planned: int | None = None  # episodes planned, when known
    live: bool = False  # a writer is still adding to it
    episodes: list[Episode] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what is missing or unreadable, for the banner
    facts: list[tuple[str, str]] = field(default_factory=list)  # (label, value) under the title
    task_notes: dict[str, dict[str, str]] = field(default_factory=dict)  # extra per-task columns
    note_columns: list[tuple[str, str]] = field(default_factory=list)  # (key, header) of those
    sources: list[str] = field(default_factory=list)  # files whose changes mean new data (for --serve)

    def counted(self) -> list[Episode]:
        return [e for e in self.episodes if e.counted]

    def problem(self, text: str) -> None:
        if text not in self.problems:
            self.problems.append(text)

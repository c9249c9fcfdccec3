"""Episodes -> token-level training samples.

Each turn of an episode recorded with token capture holds the prompt ids the server evaluated and
the ids (and log-probabilities) it sampled. The turns of one episode are merged into rows by the
rule TRL, rLLM, ROLL and slime share: when a turn's prompt starts with the row so far, the new part
of the prompt (tool output, the template's turn markers) is appended with mask 0, then the sampled
ids with mask 1; otherwise a new row starts (a fork). Log-probabilities are 0.0 where the mask is 0.

An episode that ended on an infrastructure error has no reward and never becomes a sample. One cut
by a limit (turns, tokens, context, time, or a reply at its length limit) is ``truncated``: its
loss mask is zeroed (``truncation="mask"``), or its reward replaced (``"penalise"``), or it is
kept as it is (``"keep"``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

# the agent's exit reasons that mean "cut off by a limit", not "finished"
TRUNCATED_EXITS = frozenset(
    {"max_turns", "max_tokens", "max_cost", "timeout", "context_overflow", "truncated"}
)
TRUNCATION_MODES = ("mask", "penalise", "keep")


class SampleError(ValueError):
    """A run cannot be turned into samples as asked; the message says why and what to do."""


@dataclass
class Trace:
    """One turn's token truth, as read from a record."""

    prompt_ids: list[int]
    output_ids: list[int]
    logprobs: list[float] | None
    source: str
    finish_reason: str = ""


@dataclass
class Row:
    """Token ids of one training row and, per response token, its mask, log-probability and turn."""

    prompt_ids: list[int]
    response_ids: list[int] = field(default_factory=list)
    response_mask: list[int] = field(default_factory=list)
    rollout_logprobs: list[float] = field(default_factory=list)
    turn_of_token: list[int] = field(
        default_factory=list
    )  # the turn (0-based) each response token belongs to
    turns: int = 0

    def sequence(self) -> list[int]:
        return self.prompt_ids + self.response_ids

    def add(self, ids: list[int], mask: int, logprobs: list[float] | None, turn: int) -> None:
        self.response_ids += ids
        self.response_mask += [mask] * len(ids)
        self.rollout_logprobs += logprobs if logprobs is not None and mask else [0.0] * len(ids)
        self.turn_of_token += [turn] * len(ids)


@dataclass
class Sample:
    """One training sample: what every trainer's format is written from."""

    prompt_ids: list[int]
    response_ids: list[int]
    response_mask: list[int]
    rollout_logprobs: list[float]
    reward: float
    group_id: str
    truncated: bool
    advantage: float = 0.0
    has_logprobs: bool = True
    turn_of_token: list[int] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "prompt_ids": self.prompt_ids,
            "response_ids": self.response_ids,
            "response_mask": self.response_mask,
            "rollout_logprobs": self.rollout_logprobs,
            "reward": self.reward,
            "advantage": self.advantage,
            "group_id": self.group_id,
            "truncated": self.truncated,
            "metadata": self.metadata,
        }


def traces(record: dict[str, Any]) -> list[Trace] | None:
    """The token traces of a record's turns; None when any turn has none (a text-only endpoint)."""
    out = []
    for turn in record.get("turns") or []:
        tokens = turn.get("tokens") if isinstance(turn, dict) else None
        if not isinstance(tokens, dict) or not isinstance(tokens.get("prompt_ids"), list):
            return None
        logprobs = tokens.get("output_logprobs")
        out.append(
            Trace(
                [int(t) for t in tokens["prompt_ids"]],
                [int(t) for t in tokens.get("output_ids") or []],
                [float(x) for x in logprobs] if isinstance(logprobs, list) else None,
                str(tokens.get("source") or ""),
                str(turn.get("finish_reason") or ""),
            )
        )
    return out or None


def merge(turns: list[Trace]) -> list[Row]:
    """Rows of one episode by the prefix rule: one row when every prompt extends the last."""
    rows: list[Row] = []
    for index, trace in enumerate(turns):
        row = rows[-1] if rows else None
        so_far = row.sequence() if row is not None else []
        if row is None or trace.prompt_ids[: len(so_far)] != so_far:
            row = Row(list(trace.prompt_ids))
            rows.append(row)
        else:
            row.add(trace.prompt_ids[len(so_far) :], 0, None, index)
        row.add(trace.output_ids, 1, trace.logprobs, index)
        row.turns += 1
    return rows


def per_turn(turns: list[Trace]) -> list[Row]:
    """One row per model call: its whole prompt, then what it sampled."""
    rows = []
    for index, trace in enumerate(turns):
        row = Row(list(trace.prompt_ids), turns=1)
        row.add(trace.output_ids, 1, trace.logprobs, index)
        rows.append(row)
    return rows


def is_truncated(record: dict[str, Any], turns: list[Trace]) -> bool:
    return record.get("exit_reason") in TRUNCATED_EXITS or bool(turns and turns[-1].finish_reason == "length")


@dataclass
class Built:
    """Samples of a run and what was left out of them, and why."""

    samples: list[Sample]
    infra_errors: int = 0  # episodes without a reward: never training data
    without_tokens: int = 0  # episodes whose turns carry no ids
    episodes: int = 0  # episodes that gave samples
    forks: int = 0  # rows started because a prompt did not extend the row before it
    dropped_groups: int = 0  # groups left out by dynamic sampling (all rewards equal)
    retokenized: int = 0  # episodes without ids, rebuilt with the model's tokenizer
    drifted: int = 0  # of those, episodes whose re-rendered prompts did not extend each other

    def summary(self) -> dict[str, Any]:
        return {
            "samples": len(self.samples),
            "episodes": self.episodes,
            "infra_errors_left_out": self.infra_errors,
            "episodes_without_tokens": self.without_tokens,
            "forks": self.forks,
            "dropped_groups": self.dropped_groups,
            "retokenized": self.retokenized,
            "retokenized_drift": round(self.drifted / self.retokenized, 4) if self.retokenized else None,
        }


def build_samples(
    records: Iterable[dict[str, Any]],
    *,
    per_turn_rows: bool = False,
    truncation: str = "mask",
    truncation_reward: float = 0.0,
    rebuild: Callable[[dict[str, Any]], list[Trace]] | None = None,
) -> Built:
    """Samples of the records (advantages not yet set): see the module's docstring. ``rebuild``
    gives the traces of an episode recorded without ids (``retokenize.rebuilt_traces``)."""
    if truncation not in TRUNCATION_MODES:
        raise SampleError(f"truncation must be one of {', '.join(TRUNCATION_MODES)}, not {truncation!r}")
    built = Built([])
    for record in records:
        if record.get("infra_error") or not isinstance(record.get("reward"), int | float):
            built.infra_errors += 1
            continue
        turns = traces(record)
        if turns is None and rebuild is not None:
            turns = rebuild(record)
            built.retokenized += 1
            built.drifted += len(merge(turns)) > 1
        if turns is None:
            built.without_tokens += 1
            continue
        rows = per_turn(turns) if per_turn_rows else merge(turns)
        built.forks += 0 if per_turn_rows else len(rows) - 1
        built.episodes += 1
        truncated = is_truncated(record, turns)
        reward = float(record["reward"])
        if truncated and truncation == "penalise":
            reward = truncation_reward
        episode = record.get("episode") or {}
        for number, row in enumerate(rows):
            mask = [0] * len(row.response_mask) if truncated and truncation == "mask" else row.response_mask
            built.samples.append(
                Sample(
                    row.prompt_ids,
                    row.response_ids,
                    mask,
                    row.rollout_logprobs,
                    reward,
                    str(episode.get("group_id") or record.get("instance_id") or ""),
                    truncated,
                    has_logprobs=all(t.logprobs is not None for t in turns),
                    turn_of_token=row.turn_of_token,
                    metadata=_metadata(record, episode, number, len(rows), row, turns),
                )
            )
    return built


def _metadata(
    record: dict[str, Any], episode: dict[str, Any], number: int, rows: int, row: Row, turns: list[Trace]
) -> dict[str, Any]:
    return {
        "key": episode.get("key"),
        "task_id": episode.get("task_id") or record.get("instance_id"),
        "sample": episode.get("sample"),
        "run_id": episode.get("run_id"),
        "trajectory_id": record.get("id"),
        "exit_reason": record.get("exit_reason"),
        "num_turns": row.turns,
        "episode_turns": len(turns),
        "row": number,
        "rows": rows,
        "last_row": number == rows - 1,
        "token_source": sorted({t.source for t in turns}),
        "model": (record.get("model") or {}).get("name"),
        "sampling": (record.get("model") or {}).get("sampling") or {},
    }

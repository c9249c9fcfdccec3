"""A run's memory and its report.

The state file (``<out>.state.jsonl``) gets one line per judged candidate, written as soon as it is
judged: its key, strategy, verdict, seconds, and the task record when it was kept. A run started
again with the same output reads it back and neither tries those candidates again nor loses the
tasks already kept. Its first line names the project and seed; a state of another run is refused.

Candidates that cost a model's replies to make are written there too, once, and read back instead
of asking the model again.

The report (``<out>.report.json``, and printed) counts candidates tried and kept per strategy, the
reasons for rejection, time per valid task, and what was skipped with why.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swerve.tasks.generate.core import GenerationError


@dataclass
class StrategyStats:
    tried: int = 0
    valid: int = 0
    seconds: float = 0.0
    rejected: Counter[str] = field(default_factory=Counter)


@dataclass
class RunReport:
    """What one generation run saw."""

    project: str = ""
    strategies: dict[str, StrategyStats] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # "what: why"
    resumed: int = 0  # candidates judged by an earlier run of the same state
    stable_tests: int = 0
    flaky_tests: int = 0
    seconds: float = 0.0
    started: float = field(default_factory=time.monotonic)

    def stats(self, strategy: str) -> StrategyStats:
        return self.strategies.setdefault(strategy, StrategyStats())

    @property
    def valid(self) -> int:
        return sum(s.valid for s in self.strategies.values())

    @property
    def tried(self) -> int:
        return sum(s.tried for s in self.strategies.values())

    def to_json(self) -> dict[str, Any]:
        per = {
            name: {
                "tried": s.tried,
                "valid": s.valid,
                "valid_pct": round(100.0 * s.valid / s.tried, 1) if s.tried else 0.0,
                "seconds": round(s.seconds, 1),
                "seconds_per_valid": round(s.seconds / s.valid, 1) if s.valid else None,
                "rejected": dict(s.rejected.most_common()),
            }
            for name, s in sorted(self.strategies.items())
        }
        return {
            "project": self.project,
            "tried": self.tried,
            "valid": self.valid,
            "resumed": self.resumed,
            "seconds": round(self.seconds, 1),
            "seconds_per_valid": round(self.seconds / self.valid, 1) if self.valid else None,
            "stable_tests": self.stable_tests,
            "flaky_tests": self.flaky_tests,
            "by_strategy": per,
            "skipped": self.skipped,
        }

    def lines(self) -> list[str]:
        data = self.to_json()
        per_valid = f", {data['seconds_per_valid']}s per valid task" if self.valid else ""
        out = [
            f"{self.project}: tried {self.tried}, valid {self.valid} in {data['seconds']}s{per_valid}"
            + (f" ({self.resumed} judged by an earlier run)" if self.resumed else "")
        ]
        for name, s in data["by_strategy"].items():
            why = ", ".join(f"{k}: {n}" for k, n in list(s["rejected"].items())[:4])
            out.append(
                f"  {name:<11} tried {s['tried']:>4}  valid {s['valid']:>4} ({s['valid_pct']}%)  {why}"
            )
        out += [f"  skipped {s}" for s in self.skipped]
        return out

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")


class RunState:
    """The append-only state file of one run."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = path
        self.header = header
        self.entries: dict[str, dict[str, Any]] = {}
        self.saved: dict[str, dict[str, Any]] = {}  # strategy -> {"candidates": [...], ...}

    def load(self) -> dict[str, dict[str, Any]]:
        """Entries judged earlier, by candidate key (the file is made when there is none)."""
        if not self.path.is_file():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps({"header": self.header}) + "\n", encoding="utf-8")
            return {}
        text = self.path.read_text(encoding="utf-8")
        if text and not text.endswith("\n"):  # a line cut short when the run was killed: dropped,
            text = text[: text.rfind("\n") + 1]  # and that candidate is judged again
            self.path.write_text(text, encoding="utf-8")
        lines = text.splitlines()
        try:
            first = json.loads(lines[0])["header"] if lines else {}
        except (ValueError, KeyError, TypeError):
            first = None
        if first != self.header:
            raise GenerationError(
                f"{self.path} holds the state of another run ({first}); remove it or choose another --out"
            )
        for line in lines[1:]:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and "key" in entry:
                self.entries[entry["key"]] = entry
            elif isinstance(entry, dict) and isinstance(entry.get("saved"), str):
                self.saved[entry["saved"]] = entry
        return self.entries

    def save(self, strategy: str, candidates: list[dict[str, Any]], **extra: Any) -> None:
        """Keep a strategy's candidates (``Candidate.to_json``) for a run started again."""
        entry = {"saved": strategy, "candidates": candidates, **extra}
        self.saved[strategy] = entry
        self._write(entry)

    def append(self, entry: dict[str, Any]) -> None:
        self.entries[entry["key"]] = entry
        self._write(entry)

    def _write(self, entry: dict[str, Any]) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
            f.flush()

    def records(self) -> list[dict[str, Any]]:
        return [e["record"] for e in self.entries.values() if e.get("record")]

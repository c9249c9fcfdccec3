"""The progress line of long runs, one for ``swerve eval`` and ``swerve gym run``.

    done 12/30 · running 4 · infra errors 0 · resolved 9 · unresolved 3 · 5.2/min · ETA 3m28s

On a terminal it is one live line, rewritten in place; otherwise (a log file, CI) the same text
is printed as a line at most every ``every_s`` seconds. The rate counts only the work done since
this line was made, so a resumed run's earlier episodes do not inflate it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO


def duration(seconds: float) -> str:
    """``42s``, ``3m28s``, ``2h05m``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class ProgressLine:
    """Done / planned, running, infrastructure errors, the caller's own figures, rate and ETA."""

    def __init__(
        self,
        planned: int,
        *,
        stream: TextIO | Any = sys.stderr,
        every_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.planned = planned
        self.stream = stream
        self.live = hasattr(stream, "isatty") and stream.isatty()
        self.every_s = every_s
        self.clock = clock
        self.started = clock()
        self.last_shown = float("-inf")
        self.done = self.earlier = self.running = self.infra = 0
        self.extra: list[str] = []
        self.note = ""

    def update(
        self,
        *,
        done: int,
        running: int,
        infra: int,
        earlier: int = 0,
        extra: Sequence[str] = (),
        note: str = "",
    ) -> None:
        """The latest figures: ``done`` in this session, ``earlier`` finished before it (resumed);
        ``extra``: the run's own figures; ``note``: what is running now, shown last."""
        self.done, self.running, self.infra, self.earlier = done, running, infra, earlier
        self.extra = [e for e in extra if e]
        self.note = note

    def per_minute(self) -> float:
        elapsed = self.clock() - self.started
        return 60.0 * self.done / elapsed if elapsed > 0 else 0.0

    def text(self) -> str:
        finished = self.done + self.earlier
        parts = [f"done {finished}/{self.planned}", f"running {self.running}", f"infra errors {self.infra}"]
        parts += self.extra
        rate = self.per_minute()
        parts.append(f"{rate:.1f}/min")
        remaining = self.planned - finished
        if remaining > 0 and rate > 0:
            parts.append(f"ETA {duration(60.0 * remaining / rate)}")
        elif remaining <= 0:
            parts.append(f"in {duration(self.clock() - self.started)}")
        return " · ".join(parts) + (f" | {self.note}" if self.note else "")

    def show(self, *, force: bool = False) -> None:
        """Rewrite the live line; off a terminal, print it when ``every_s`` has passed (or ``force``)."""
        if self.live:
            print(f"\r\033[K{self.text()[:200]}", end="", file=self.stream, flush=True)
            return
        now = self.clock()
        if force or now - self.last_shown >= self.every_s:
            self.last_shown = now
            print(self.text(), file=self.stream, flush=True)

    def finish(self) -> None:
        """End the live line (the next output starts on a line of its own)."""
        if self.live:
            print(file=self.stream, flush=True)

"""Loop detection: the same tool call over and over, or the same text chunk repeated."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from swerve.models.base import ToolCall

CALL_REPEAT_LIMIT = 5  # identical consecutive calls before the model is warned
CALL_REPEAT_STOP = 8  # identical consecutive calls before the run ends
CHUNK_SIZE = 50
CHUNK_REPEAT_LIMIT = 10


@dataclass
class LoopGuard:
    call_repeat_limit: int = CALL_REPEAT_LIMIT
    call_repeat_stop: int = CALL_REPEAT_STOP
    _last_key: str = ""
    _repeats: int = 0
    _warned_text: bool = field(default=False)

    def check_call(self, call: ToolCall) -> str:
        """``ok``, ``warn`` (tell the model, do not run it) or ``stop`` (end the run)."""
        key = call.name + "\0" + json.dumps(call.arguments, sort_keys=True, default=str)
        if key == self._last_key:
            self._repeats += 1
        else:
            self._last_key, self._repeats = key, 1
        if self._repeats >= self.call_repeat_stop:
            return "stop"
        if self._repeats >= self.call_repeat_limit:
            return "warn"
        return "ok"

    def check_text(self, text: str) -> str:
        """``ok``, ``warn`` the first time a turn's text is a loop, ``stop`` when it happens again."""
        if not repeats_chunk(text):
            return "ok"
        if self._warned_text:
            return "stop"
        self._warned_text = True
        return "warn"


def repeats_chunk(text: str, size: int = CHUNK_SIZE, limit: int = CHUNK_REPEAT_LIMIT) -> bool:
    """True when some ``size``-char chunk stands ``limit`` times or more in ``text``."""
    if len(text) < size * limit:
        return False
    seen: dict[str, tuple[int, int]] = {}  # chunk -> (count, end of its last counted place)
    # chunks at every position catch repeats whatever their period; overlapping places do not count,
    # so a long rule of dashes is not a loop
    for i in range(len(text) - size + 1):
        chunk = text[i : i + size]
        count, end = seen.get(chunk, (0, -1))
        if i < end:
            continue
        if count + 1 >= limit:
            return True
        seen[chunk] = (count + 1, i + size)
    return False


LOOP_WARNING = (
    "This exact call was already made {n} times in a row with the same arguments. It will not run again. "
    "Step back, reconsider what the earlier results tell you, and try a different approach."
)
TEXT_LOOP_WARNING = (
    "Your last reply repeated the same text many times. Stop repeating yourself; "
    "say what you have found and take a different next step."
)

"""Generated tokens -> text that is safe to send: whole UTF-8 characters, stop strings held back.

A token can end inside a multi-byte character, and a stop string can arrive split over several
tokens. :class:`TextAssembler` releases only text that can no longer change: it keeps an
incomplete character, and any tail that could still grow into a stop string, until the next
token settles it. When a stop string appears, the text before it is final and the rest is cut.
"""

from __future__ import annotations

import codecs


class TextAssembler:
    """Feed token bytes; get back the text that became final with each one."""

    def __init__(self, stop: list[str] | None = None) -> None:
        self.stop = [s for s in (stop or []) if s]
        self._longest = max((len(s) for s in self.stop), default=0)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.text = ""
        self._sent = 0
        self.stopped_by: str | None = None

    def feed(self, data: bytes) -> str:
        """Add one token's bytes; returns the newly final text ('' when all is held back)."""
        if self.stopped_by is not None:
            return ""
        self.text += self._decoder.decode(data)
        if self.stop:
            hit = self._find_stop()
            if hit is not None:
                at, word = hit
                self.text = self.text[:at]
                self.stopped_by = word
                return self._release(len(self.text))
            return self._release(len(self.text) - self._held_tail())
        return self._release(len(self.text))

    def finish(self) -> str:
        """No more tokens: release whatever was held (a partial character becomes U+FFFD)."""
        if self.stopped_by is None:
            self.text += self._decoder.decode(b"", final=True)
        return self._release(len(self.text))

    def _release(self, end: int) -> str:
        if end <= self._sent:
            return ""
        out = self.text[self._sent : end]
        self._sent = end
        return out

    def _find_stop(self) -> tuple[int, str] | None:
        start = max(0, self._sent - self._longest)
        best: tuple[int, str] | None = None
        for word in self.stop:
            at = self.text.find(word, start)
            if at >= 0 and (best is None or at < best[0]):
                best = (at, word)
        return best

    def _held_tail(self) -> int:
        """Length of the longest tail of the text that is a proper prefix of a stop string."""
        text = self.text
        for size in range(min(self._longest - 1, len(text) - self._sent), 0, -1):
            tail = text[-size:]
            if any(word.startswith(tail) for word in self.stop):
                return size
        return 0

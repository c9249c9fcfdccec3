"""Streaming markdown: cut the model's text deltas into finished blocks that can be rendered."""

from __future__ import annotations

FENCES = ("```", "~~~")


class MarkdownStream:
    """Collects deltas; ``feed`` returns the blocks finished so far (paragraphs, lists, whole
    fenced code blocks). ``partial`` is what is still being written."""

    def __init__(self) -> None:
        self._pending = ""  # text of unfinished lines and blocks
        self._fence: str | None = None
        self._block: list[str] = []

    @property
    def partial(self) -> str:
        return "\n".join([*self._block, self._pending]).strip("\n")

    def feed(self, delta: str) -> list[str]:
        self._pending += delta
        done: list[str] = []
        while "\n" in self._pending:
            line, self._pending = self._pending.split("\n", 1)
            block = self._line(line)
            if block:
                done.append(block)
        return done

    def _line(self, line: str) -> str | None:
        stripped = line.strip()
        if self._fence is not None:
            self._block.append(line)
            if stripped.startswith(self._fence) and stripped.strip("`~") == "":
                self._fence = None
                return self._take()
            return None
        fence = next((f for f in FENCES if stripped.startswith(f)), None)
        if fence is not None:
            before = self._take() if self._block else None
            self._block.append(line)
            self._fence = fence
            return before
        if not stripped:
            return self._take() if self._block else None
        self._block.append(line)
        return None

    def _take(self) -> str | None:
        text = "\n".join(self._block).strip("\n")
        self._block = []
        return text or None

    def flush(self) -> str | None:
        """Everything left, as one block (the turn ended)."""
        if self._pending:
            self._block.append(self._pending)
            self._pending = ""
        self._fence = None
        return self._take()

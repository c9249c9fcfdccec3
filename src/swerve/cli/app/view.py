"""What the app shows: the live area, the toolbar, printed output, agent events as they arrive and
a replayed conversation. A mixin of ``App``, whose state (session, turn, ui, stats) it reads."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from prompt_toolkit.formatted_text import StyleAndTextTuples

from swerve.cli.app.stream import MarkdownStream

if TYPE_CHECKING:
    from swerve.agent.events import Event
    from swerve.cli.app.stats import SessionStats
    from swerve.cli.app.ui import TerminalUI
    from swerve.cli.session import Session
    from swerve.config import Settings
    from swerve.models.base import ToolCall
    from swerve.tools.mcp import McpManager

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
CTRL_C_WINDOW_S = 2.0
LIVE_TEXT_LINES = 8
REPLAY_MESSAGES = 40


@dataclass
class TurnView:
    """What the live area shows while the agent works."""

    started: float = field(default_factory=time.monotonic)
    label: str = "Thinking"
    stream: MarkdownStream = field(default_factory=MarkdownStream)
    streamed_chars: int = 0
    blocks: int = 0  # markdown blocks printed in the current message


class AppView:
    """Rendering for ``App``."""

    ui: TerminalUI
    session: Session | None
    settings: Settings
    mode: str
    turn: TurnView | None
    mcp: McpManager | None
    inbox: Any
    stats: SessionStats
    _ctrl_c_at: float
    _previewed: set[int]
    _replacing_history: bool

    # -- what the UI shows ------------------------------------------------------------------------

    def live_fragments(self) -> StyleAndTextTuples:
        frags: StyleAndTextTuples = []
        turn = self.turn
        if turn is not None:
            partial = turn.stream.partial
            if partial:
                rows = partial.splitlines()[-LIVE_TEXT_LINES:]
                frags.append(("", "\n".join(rows) + "\n"))
            if not self.ui.asking:
                elapsed = time.monotonic() - turn.started
                spin = SPINNER[int(elapsed * 10) % len(SPINNER)]
                tokens = self._turn_tokens(turn)
                frags.append(("class:spinner", f"{spin} {turn.label}…"))
                frags.append(("class:live.dim", f" ({elapsed:.0f}s · {tokens} · esc to interrupt)"))
        queued = self.inbox.qsize()
        if queued:
            if frags:
                frags.append(("", "\n"))
            frags.append(("class:live.dim", f"⏵ {queued} message(s) queued"))
        if time.monotonic() - self._ctrl_c_at < CTRL_C_WINDOW_S:
            if frags:
                frags.append(("", "\n"))
            frags.append(("class:warning", "Press Ctrl-C again to quit"))
        return frags

    def _turn_tokens(self, turn: TurnView) -> str:
        from swerve.cli.app.render import human_tokens

        return f"↓ {human_tokens(turn.streamed_chars // 4)} tokens"

    def toolbar_fragments(self) -> StyleAndTextTuples:
        from swerve.cli.app.render import human_tokens

        model = self.session.model.name if self.session else (self.settings.model or "no model")
        frags: StyleAndTextTuples = [
            ("", " "),
            (f"class:mode.{self.mode}", f"{self.mode} mode"),
            ("", " · "),
            ("class:toolbar.model", model),
        ]
        if self.session is not None:
            agent = self.session.agent
            used = agent.context_tokens()
            window = max(1, agent.model.context_window)
            frags.append(
                ("", f" · context {100 * used / window:.0f}% ({human_tokens(used)}/{human_tokens(window)})")
            )
        if self.mcp is not None:
            up = sum(1 for s in self.mcp.servers if s.status == "connected")
            frags.append(("", f" · MCP {up}/{len(self.mcp.servers)}"))
        frags.append(("", " · shift+tab: mode · /help"))
        return frags

    # -- output -----------------------------------------------------------------------------------

    def print(self, text: str) -> None:
        self.ui.print_above(text)

    def print_notice(self, text: str, kind: str = "info") -> None:
        from swerve.cli.app.render import notice

        self.print(notice(text, kind))

    def print_markdown(self, text: str) -> None:
        from swerve.cli.app.render import markdown

        self.print(markdown(text, self.ui.width))

    def _print_block(self, block: str) -> None:
        turn = self.turn
        if turn is not None and turn.blocks:
            self.print("\n")
        if turn is not None:
            turn.blocks += 1
        self.print_markdown(block)

    def _flush_stream(self) -> None:
        if self.turn is None:
            return
        rest = self.turn.stream.flush()
        if rest:
            self._print_block(rest)
        self.turn.blocks = 0

    # -- agent events -----------------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        try:
            self._on_event(event)
        except Exception as exc:  # a display problem must never break the agent's run
            self.ui.print_above(f"(could not display {type(event).__name__}: {type(exc).__name__}: {exc})\n")

    def _on_event(self, event: Event) -> None:
        from swerve.agent.events import (
            Compressed,
            Finished,
            ModelReplied,
            Notice,
            TextDelta,
            ToolFinished,
            ToolStarted,
            TurnStarted,
        )
        from swerve.cli.app import render

        turn = self.turn
        if isinstance(event, TextDelta):
            if turn is not None:
                turn.streamed_chars += len(event.text)
                turn.label = "Writing"
                for block in turn.stream.feed(event.text):
                    self._print_block(block)
            self.ui.invalidate()
        elif isinstance(event, TurnStarted):
            if turn is not None:
                turn.label = "Thinking"
        elif isinstance(event, ModelReplied):
            self._flush_stream()
            s = self.settings
            name = self.session.model.name if self.session else "?"
            self.stats.add_reply(name, event.turn.usage, event.model_s, s.pricing)
        elif isinstance(event, ToolStarted):
            if turn is not None:
                turn.label = f"Running {event.summary[:60]}"
        elif isinstance(event, ToolFinished):
            self._show_tool(event)
            if turn is not None:
                turn.label = "Thinking"
        elif isinstance(event, Notice):
            self.print(render.notice(event.text, event.kind))
        elif isinstance(event, Compressed):
            if not self._replacing_history:
                self.print(
                    render.notice(
                        f"history replaced by a summary ({event.tokens_before} → {event.tokens_after} tokens)",
                        "compression",
                    )
                )
        elif isinstance(event, Finished):
            self._flush_stream()
            if event.exit_reason == "interrupted":
                self.print(render.notice("Interrupted. What should swerve do instead?", "warning"))
            elif event.is_error:
                self.print(
                    render.notice(
                        f"run ended: {event.exit_reason}" + (f": {event.error}" if event.error else ""),
                        "error",
                    )
                )

    def _show_tool(self, event: Any) -> None:
        from swerve.cli.app import render

        call, result = event.call, event.result
        summary = self._summary(call)
        if event.denied:
            self.print(render.tool_line(summary, "denied") + render.fold(result.output, "denied", 2))
            return
        status = "error" if result.is_error else "ok"
        display = result.display or {}
        self.stats.add_tool(event.duration_s, result.is_error)
        if display.get("type") == "diff" and not result.is_error:
            added, removed = render.diff_counts(display.get("diff", ""))
            text = render.tool_line(summary, status) + render.fold(
                f"{display.get('path', '')}: {added} line(s) added, {removed} removed", status
            )
            if id(call.arguments) not in self._previewed:
                text += render.diff(display.get("diff", ""))
            self._previewed.discard(id(call.arguments))
            self.print(text)
        elif display.get("type") == "todos":
            self.print(
                render.tool_line("Updated the todo list", status) + render.todos(display.get("todos") or [])
            )
        else:
            self.print(render.tool_line(summary, status) + render.fold(result.output, status))

    def _summary(self, call: ToolCall) -> str:
        return self.session.tools.summary(call, labelled=True) if self.session else call.name

    # -- showing a conversation -------------------------------------------------------------------

    def replay(self, messages: list[dict[str, Any]]) -> None:
        from swerve.cli.app import render
        from swerve.models.base import ToolCall

        shown = [m for m in messages if m.get("role") != "system"]
        if len(shown) > REPLAY_MESSAGES:
            self.print(render.notice(f"({len(shown) - REPLAY_MESSAGES} earlier messages not shown)"))
            shown = shown[-REPLAY_MESSAGES:]
        for m in shown:
            role, content = m.get("role"), str(m.get("content") or "")
            if role == "user":
                self.print(render.user_echo(content[:2000]))
            elif role == "assistant":
                if content.strip():
                    self.print_markdown(content)
                for c in m.get("tool_calls") or ():
                    fn = c.get("function") or {}
                    args = fn.get("arguments") if isinstance(fn.get("arguments"), dict) else {}
                    call = ToolCall(c.get("id", ""), fn.get("name", "?"), args)
                    self.print(render.tool_line(self._summary(call), "ok"))
            elif role == "tool":
                self.print(render.fold(content, "ok", lines=1))

"""The terminal UI: an inline prompt_toolkit application that keeps the scrollback.

Finished output is printed above the app (it scrolls away like any terminal output); the app
itself is a few lines at the bottom: the live area (streaming text, spinner, approval choices),
the input box and a status line.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from prompt_toolkit.application import Application, run_in_terminal
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.completion import ThreadedCompleter
from prompt_toolkit.filters import Condition, has_completions
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.history import FileHistory, InMemoryHistory
from prompt_toolkit.input.ansi_escape_sequences import ANSI_SEQUENCES
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.keys import Keys
from prompt_toolkit.layout import ConditionalContainer, HSplit, Layout, Window
from prompt_toolkit.layout.controls import BufferControl, FormattedTextControl
from prompt_toolkit.layout.dimension import Dimension
from prompt_toolkit.layout.menus import CompletionsMenu
from prompt_toolkit.layout.processors import Processor, Transformation, TransformationInput
from prompt_toolkit.styles import Style

if TYPE_CHECKING:
    from prompt_toolkit.completion import Completer

    from swerve.cli.app.approvals import Choice

PLACEHOLDER = "Ask swerve anything · @ attaches a file · ! runs a shell command · / for commands"
# Shift+Enter as terminals with extended key reporting send it (kitty/CSI u, xterm modifyOtherKeys)
for _seq in ("\x1b[13;2u", "\x1b[27;2;13~", "\x1b[13;2~"):
    ANSI_SEQUENCES[_seq] = Keys.ControlJ

STYLE = Style.from_dict(
    {
        "placeholder": "#7a7a7a italic",
        "prompt": "ansimagenta bold",
        "border": "#5f5f5f",
        "toolbar": "#9a9a9a",
        "toolbar.model": "ansicyan",
        "mode.default": "ansigreen",
        "mode.auto-edit": "ansiyellow bold",
        "mode.yolo": "ansired bold",
        "mode.plan": "ansiblue bold",
        "spinner": "ansimagenta bold",
        "live": "",
        "live.dim": "#8a8a8a",
        "approval": "ansiyellow",
        "approval.title": "ansiyellow bold",
        "approval.selected": "ansicyan bold",
        "warning": "ansiyellow",
    }
)


class Placeholder(Processor):
    """Grey hint text in the empty input box."""

    def __init__(self, text: Callable[[], str]) -> None:
        self.text = text

    def apply_transformation(self, ti: TransformationInput) -> Transformation:
        if ti.lineno == 0 and not ti.document.text:
            return Transformation([*ti.fragments, ("class:placeholder", self.text())])
        return Transformation(ti.fragments)


class UIHost:
    """What the UI asks of the app (the controller implements it)."""

    busy: bool

    def live_fragments(self) -> StyleAndTextTuples:
        return []

    def toolbar_fragments(self) -> StyleAndTextTuples:
        return []

    def submit(self, text: str) -> None: ...

    def escape(self) -> None: ...

    def ctrl_c(self) -> None: ...

    def cycle_mode(self) -> None: ...

    def quit(self) -> None: ...


class TerminalUI:
    def __init__(self, host: UIHost, history_path: str | None, completer: Completer | None) -> None:
        self.host = host
        try:
            history: Any = FileHistory(history_path) if history_path else InMemoryHistory()
        except OSError:
            history = InMemoryHistory()
        self.buffer = Buffer(
            multiline=True,
            history=history,
            completer=ThreadedCompleter(completer) if completer else None,
            complete_while_typing=True,
        )
        self._choice: tuple[str, list[Choice], asyncio.Future[Choice | None]] | None = None
        self._choice_index = 0
        self._reason: tuple[str, asyncio.Future[str | None], str] | None = None
        self._pending: list[str] = []
        self._flusher: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self.app: Application[None] = Application(
            layout=Layout(self._container(), focused_element=self.buffer),
            key_bindings=self._bindings(),  # the Application adds the default (emacs) bindings itself
            style=STYLE,
            full_screen=False,
            mouse_support=False,
            min_redraw_interval=0.04,
            erase_when_done=True,
        )
        self.app.ttimeoutlen = 0.05
        self.app.timeoutlen = 0.4

    # -- layout -----------------------------------------------------------------------------------

    def _container(self) -> HSplit:
        choosing = Condition(lambda: self._choice is not None)
        live = Condition(lambda: self._choice is not None or bool(self.host.live_fragments()))
        return HSplit(
            [
                ConditionalContainer(
                    Window(
                        FormattedTextControl(self._live),
                        wrap_lines=True,
                        dont_extend_height=True,
                        style="class:live",
                    ),
                    filter=live,
                ),
                Window(char="─", height=1, style="class:border"),
                Window(
                    BufferControl(self.buffer, input_processors=[Placeholder(self._placeholder)]),
                    get_line_prefix=self._line_prefix,
                    wrap_lines=True,
                    dont_extend_height=True,
                    height=Dimension(min=1, max=12),
                ),
                ConditionalContainer(
                    CompletionsMenu(max_height=8, scroll_offset=1), filter=has_completions & ~choosing
                ),
                Window(char="─", height=1, style="class:border"),
                Window(FormattedTextControl(self.host.toolbar_fragments), height=1, style="class:toolbar"),
            ]
        )

    def _placeholder(self) -> str:
        if self._reason is not None:
            return "what should the model do instead? (Enter sends, Esc skips)"
        if self._choice is not None:
            return ""
        return PLACEHOLDER

    def _line_prefix(self, lineno: int, wrap_count: int) -> StyleAndTextTuples:
        if lineno == 0 and wrap_count == 0:
            return [("class:prompt", "reason> " if self._reason is not None else "> ")]
        return [("", "  ")]

    def _live(self) -> StyleAndTextTuples:
        frags = list(self.host.live_fragments())
        if self._choice is not None:
            title, choices, _ = self._choice
            if frags:
                frags.append(("", "\n"))
            frags.append(("class:approval.title", f"╭ {title}\n"))
            for i, choice in enumerate(choices):
                selected = i == self._choice_index
                style = "class:approval.selected" if selected else "class:approval"
                mark = "❯" if selected else " "
                frags.append(("class:approval", "│ "))
                frags.append((style, f"{mark} {choice.key}. {choice.label}\n"))
            frags.append(("class:approval", "╰ ↑/↓ and Enter, or press 1-3 · Esc denies and stops"))
        return frags

    # -- keys -------------------------------------------------------------------------------------

    def _bindings(self) -> KeyBindings:
        kb = KeyBindings()
        choosing = Condition(lambda: self._choice is not None)
        reasoning = Condition(lambda: self._reason is not None)
        busy = Condition(lambda: self.host.busy)

        @kb.add("enter", filter=~choosing)
        def _enter(event: KeyPressEvent) -> None:
            b = event.current_buffer
            state = b.complete_state
            if state is not None and state.current_completion is not None:
                b.complete_state = None  # Enter takes the highlighted completion; the next one sends
                return
            if b.document.text_before_cursor.endswith("\\") and b.document.is_cursor_at_the_end:
                b.delete_before_cursor(1)
                b.insert_text("\n")
                return
            text = b.text
            if self._reason is not None:
                self._finish_reason(text)
                return
            if not text.strip():
                return
            b.append_to_history()
            b.reset()
            self.host.submit(text)

        @kb.add("c-j")
        def _newline(event: KeyPressEvent) -> None:
            event.current_buffer.insert_text("\n")

        @kb.add("escape", eager=True, filter=busy | choosing | reasoning)
        def _escape(event: KeyPressEvent) -> None:
            if self._reason is not None:
                self._finish_reason(None)
            elif self._choice is not None:
                self._finish_choice(None)
            else:
                self.host.escape()

        @kb.add("c-c")
        def _ctrl_c(event: KeyPressEvent) -> None:
            if self._reason is not None:
                self._finish_reason(None)
                return
            if self._choice is not None:
                self._finish_choice(None)
                return
            if event.current_buffer.text:
                event.current_buffer.reset()
            self.host.ctrl_c()

        @kb.add("c-d", filter=Condition(lambda: not self.buffer.text))
        def _ctrl_d(event: KeyPressEvent) -> None:
            self.host.quit()

        @kb.add("s-tab")
        def _cycle(event: KeyPressEvent) -> None:
            self.host.cycle_mode()

        @kb.add("up", filter=choosing)
        def _up(event: KeyPressEvent) -> None:
            self._move_choice(-1)

        @kb.add("down", filter=choosing)
        def _down(event: KeyPressEvent) -> None:
            self._move_choice(1)

        @kb.add("enter", filter=choosing)
        def _pick(event: KeyPressEvent) -> None:
            assert self._choice is not None
            self._finish_choice(self._choice[1][self._choice_index])

        for key in "123yn":

            @kb.add(key, filter=choosing)
            def _digit(event: KeyPressEvent) -> None:
                assert self._choice is not None
                pressed = {"y": "1", "n": "3"}.get(event.data, event.data)
                match = [c for c in self._choice[1] if c.key == pressed]
                if match:
                    self._finish_choice(match[0])

        return kb

    # -- approvals --------------------------------------------------------------------------------

    async def choose(self, title: str, choices: list[Choice]) -> Choice | None:
        """Show ``choices`` in the live area; the one picked, or None (Esc / Ctrl-C)."""
        future: asyncio.Future[Choice | None] = asyncio.get_running_loop().create_future()
        self._choice = (title, choices, future)
        self._choice_index = 0
        self.invalidate()
        try:
            return await future
        finally:
            self._choice = None
            self.invalidate()

    def _move_choice(self, step: int) -> None:
        if self._choice is not None:
            self._choice_index = (self._choice_index + step) % len(self._choice[1])
            self.invalidate()

    def _finish_choice(self, choice: Choice | None) -> None:
        if self._choice is not None and not self._choice[2].done():
            self._choice[2].set_result(choice)

    async def ask_text(self, label: str) -> str | None:
        """Read one line in the input box (what was typed there is kept aside); None on Esc."""
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        saved = self.buffer.text
        self.buffer.reset()
        self._reason = (label, future, saved)
        self.invalidate()
        try:
            return await future
        finally:
            self._reason = None
            self.buffer.reset()
            self.buffer.insert_text(saved)
            self.invalidate()

    def _finish_reason(self, text: str | None) -> None:
        if self._reason is not None and not self._reason[1].done():
            self._reason[1].set_result(text)

    @property
    def asking(self) -> bool:
        return self._choice is not None or self._reason is not None

    def cancel_questions(self) -> None:
        self._finish_choice(None)
        self._finish_reason(None)

    # -- output -----------------------------------------------------------------------------------

    @property
    def width(self) -> int:
        try:
            if self.app.is_running:
                return self.app.output.get_size().columns
        except Exception:
            pass
        return shutil.get_terminal_size((100, 30)).columns

    def print_above(self, text: str) -> None:
        """Print finished output above the app, in order."""
        if not text:
            return
        self._pending.append(text)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.ensure_future(self._flush())

    async def _flush(self) -> None:
        while self._pending:
            chunk = "".join(self._pending)
            self._pending.clear()
            if self.app.is_running and not self.app.is_done:
                await run_in_terminal(lambda chunk=chunk: _write(chunk))
            else:
                _write(chunk)

    async def drain(self) -> None:
        """Wait until everything printed so far is on the screen."""
        while self._flusher is not None and not self._flusher.done():
            await asyncio.shield(self._flusher)

    def invalidate(self) -> None:
        if self.app.is_running:
            self.app.invalidate()

    def start_ticker(self, interval: float = 0.1) -> None:
        """Redraw regularly (the spinner and the clock) until ``stop_ticker``."""
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.ensure_future(self._tick(interval))

    def stop_ticker(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    async def _tick(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            self.invalidate()

    async def run(self, on_first_render: Callable[[], None]) -> None:
        fired = False

        def after_render(_: object) -> None:
            nonlocal fired
            if not fired:
                fired = True
                on_first_render()

        self.app.after_render += after_render
        try:
            await self.app.run_async()
        finally:
            self.stop_ticker()
            if self._pending:
                _write("".join(self._pending))
                self._pending.clear()

    def exit(self) -> None:
        if self.app.is_running and not self.app.future.done():
            self.app.exit()


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()

"""The app's controller: input in, agent events out, approvals, sessions, checkpoints, MCP."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import time
from typing import TYPE_CHECKING, Any

from swerve.cli.app.ui import TerminalUI, UIHost
from swerve.cli.app.view import CTRL_C_WINDOW_S, AppView, TurnView
from swerve.config import Settings
from swerve.paths import project_dir

# Modules the prompt does not need are imported where they are used, so it shows sooner.
if TYPE_CHECKING:
    from swerve.agent.permissions import ApprovalRequest, Decision
    from swerve.cli.app.checkpoints import Checkpoints
    from swerve.cli.app.setup_help import LocalServer
    from swerve.cli.app.stats import SessionStats
    from swerve.cli.session import Session
    from swerve.models.base import ToolCall
    from swerve.tools.mcp import McpManager

MODE_CYCLE = ("default", "auto-edit", "yolo", "plan")
MCP_WAIT_S = 30.0
START_DELAY_S = 0.05


def _warm_imports() -> None:
    """What the first turn needs, imported in a thread while the user types."""
    for name in (
        "rich.markdown",
        "rich.table",
        "swerve.cli.session",
        "swerve.models.factory",
        "swerve.models.openai_chat",
        "swerve.tools.files",
        "swerve.tools.search",
        "swerve.tools.shell",
        "swerve.tools.todo",
        "swerve.sandbox.host",
    ):
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


class App(AppView, UIHost):
    def __init__(self, cwd: str, flags: dict[str, Any], settings: Settings, args: Any) -> None:
        self.cwd = cwd
        self.flags = dict(flags)
        self.settings = settings
        self.args = args
        self.mode = settings.approval_mode
        self.session: Session | None = None
        self.ready = asyncio.Event()
        self._stats: SessionStats | None = None
        self._checkpoints: Checkpoints | None = None
        self.checkpoints_enabled = True
        self.mcp: McpManager | None = None
        self.mcp_task: asyncio.Task[None] | None = None
        self.local_servers: list[LocalServer] = []
        self.inbox: asyncio.Queue[str] = asyncio.Queue()
        self.busy = False
        self.turn: TurnView | None = None
        self.pending_context: list[str] = []
        self._current: asyncio.Task[Any] | None = None
        self._agent_running = False
        self._ctrl_c_at = 0.0
        self._previewed: set[int] = set()
        self._builtin_tools: list[Any] = []
        self._replacing_history = False
        self._worker: asyncio.Task[None] | None = None
        self._loader: asyncio.Task[None] | None = None
        from swerve.cli.app.commands import command_names
        from swerve.cli.app.completion import SwerveCompleter

        history = project_dir(cwd) / "input-history"
        try:
            history.parent.mkdir(parents=True, exist_ok=True)
        except OSError:
            pass
        self.ui = TerminalUI(self, str(history), SwerveCompleter(cwd, lambda: command_names(cwd)))

    @property
    def stats(self) -> SessionStats:
        if self._stats is None:
            from swerve.cli.app.stats import SessionStats

            self._stats = SessionStats()
        return self._stats

    @property
    def checkpoints(self) -> Checkpoints:
        if self._checkpoints is None:
            from swerve.cli.app.checkpoints import Checkpoints

            self._checkpoints = Checkpoints(self.cwd)
        return self._checkpoints

    # -- life cycle -------------------------------------------------------------------------------

    async def main(self) -> int:
        try:
            await self.ui.run(self._started)
        finally:
            await self._shutdown()
        return 0

    def _started(self) -> None:
        self.stats  # noqa: B018 - the session clock starts with the prompt
        self._loader = asyncio.ensure_future(self._load())
        self._worker = asyncio.ensure_future(self._work())

    async def _load(self) -> None:
        try:
            # let the terminal draw the prompt before the heavy imports take the CPU
            await asyncio.sleep(START_DELAY_S)
            await asyncio.to_thread(_warm_imports)
            await self._settle_trust()
            if self.settings.mcp_servers:
                self.mcp_task = asyncio.ensure_future(self._start_mcp())
            if (
                self.settings.model or self.flags.get("model") or self.settings.base_url
            ):  # a server may say its model
                await self.open_session(
                    continue_session=bool(getattr(self.args, "continue_session", False)),
                    resume=getattr(self.args, "resume", None),
                )
            else:
                await self.explain_setup()
        except Exception as exc:  # never lose the app to a start-up failure
            self.print_notice(f"start-up failed: {type(exc).__name__}: {exc}", "error")
        finally:
            self.ready.set()
            self.ui.invalidate()

    async def _settle_trust(self) -> None:
        """Ask once whether to trust a folder with its own settings; ask before starting any MCP
        server a project names, showing its exact command."""
        from swerve.cli.app.approvals import Choice
        from swerve.config import resolve
        from swerve.settings_files import trust_folder

        if self.settings.untrusted_project:
            choice = await self.ui.choose(
                f"This folder has its own settings ({self.settings.untrusted_project}). Trust this folder? "
                "(trusted project settings can only tighten security)",
                [
                    Choice("1", "Yes, trust this folder", "trust"),
                    Choice("2", "No, ignore its settings", "deny"),
                ],
            )
            if choice is not None and choice.action == "trust":
                trust_folder(self.cwd)
                self.settings = resolve(self.cwd, self.flags)
                self.print_notice(f"trusted {self.cwd}: its settings apply")
            else:
                self.print_notice("the folder's settings are not applied", "warning")
        for note in self.settings.notes:
            self.print_notice(note, "warning")
        for name, server in self.settings.held_mcp_servers.items():
            command = server.get("url") or " ".join(
                [str(server.get("command", "")), *map(str, server.get("args") or [])]
            )
            choice = await self.ui.choose(
                f"The project asks to start the MCP server {name!r}: {command}",
                [Choice("1", "Start it", "start"), Choice("2", "Do not start it", "deny")],
            )
            if choice is not None and choice.action == "start":
                self.settings.mcp_servers[name] = server

    async def _shutdown(self) -> None:
        for task in (self._current, self._worker, self._loader, self.mcp_task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        if self.session is not None:
            session_id = self.session.log.session_id
            with contextlib.suppress(Exception):
                await self.session.close()
            print(f"Session saved. Resume it with: swerve --resume {session_id}")
        if self.mcp is not None:
            with contextlib.suppress(Exception):
                await self.mcp.close()

    # -- sessions ---------------------------------------------------------------------------------

    async def open_session(self, *, continue_session: bool = False, resume: str | None = None) -> bool:
        from swerve.cli.session import open_session
        from swerve.errors import RunError

        self.flags["approval_mode"] = self.mode
        try:
            session = await open_session(
                self.cwd, self.flags, continue_session=continue_session, resume=resume, ask=self.ask_approval
            )
        except RunError as exc:
            self.print_notice(str(exc), "error")
            return False
        old = self.session
        self.session = session
        for note in session.notes:
            self.print_notice(note, "warning" if note.startswith("warning") else "info")
        self.settings = session.settings
        self._install(session)
        if old is not None:
            with contextlib.suppress(Exception):
                await old.close()
        if continue_session or resume:
            self.replay(session.agent.messages)
            self.print_notice(f"resumed session {session.log.session_id}", "info")
        return True

    def _install(self, session: Session) -> None:
        session.listeners.append(self.on_event)
        session.agent.before_tools = self._checkpoint
        self._builtin_tools = list(session.tools)
        self._attach_mcp_tools()

    def _attach_mcp_tools(self) -> None:
        if self.session is None or self.mcp is None:
            return
        from swerve.tools.registry import ToolRegistry

        tools = ToolRegistry([*self._builtin_tools, *self.mcp.tools()])
        self.session.tools = tools
        self.session.agent.set_tools(tools)
        self.session.agent.permission.allow_also(list(self.mcp.trusted_rules()))

    async def _start_mcp(self) -> None:
        from swerve.tools.mcp import McpManager, parse_servers

        configs, errors = parse_servers(self.settings.mcp_servers)
        for error in errors:
            self.print_notice(error, "warning")
        if not configs:
            return
        try:
            await asyncio.to_thread(importlib.import_module, "mcp")
        except ImportError:
            from swerve.tools.mcp import INSTALL_HINT

            self.print_notice(INSTALL_HINT, "warning")
            return
        self.mcp = McpManager(configs, self.cwd, project_dir(self.cwd) / "mcp-logs")
        self.mcp.start()
        await self.mcp.wait_ready(MCP_WAIT_S)
        for error in self.mcp.errors():
            self.print_notice(error, "warning")
        connected = [s for s in self.mcp.servers if s.status == "connected"]
        if connected:
            names = ", ".join(f"{s.config.name} ({len(s.tools)} tools)" for s in connected)
            self.print_notice(f"MCP servers connected: {names}")
        self._attach_mcp_tools()
        self.ui.invalidate()

    async def explain_setup(self) -> None:
        from swerve.cli.app.setup_help import SETUP_TEXT, find_local_servers

        self.print_notice(SETUP_TEXT, "warning")
        self.local_servers = await find_local_servers()
        if self.local_servers:
            lines = ["Model servers found on this machine; type one of these to use it:"]
            for server in self.local_servers:
                models = ", ".join(server.models[:5]) or "no models listed"
                lines.append(f"  {server.name} at {server.base_url} ({models})")
                lines.append(f"      {server.command()}")
            self.print_notice("\n".join(lines), "info")

    # -- input ------------------------------------------------------------------------------------

    def submit(self, text: str) -> None:
        from swerve.cli.app.render import user_echo

        self.print(user_echo(text))
        self.inbox.put_nowait(text)
        self.ui.invalidate()

    async def _work(self) -> None:
        while True:
            text = await self.inbox.get()
            self.busy = True
            self._current = asyncio.ensure_future(self.handle(text))
            try:
                await self._current
            except asyncio.CancelledError:
                if self._current.cancelled():
                    self.print_notice("interrupted", "warning")
                else:
                    raise
            except Exception as exc:
                self.print_notice(f"{type(exc).__name__}: {exc}", "error")
            finally:
                self._current = None
                self.busy = False
                self.turn = None
                self.ui.stop_ticker()
                self.ui.invalidate()

    async def handle(self, text: str) -> None:
        from swerve.cli.app import commands

        stripped = text.strip()
        if commands.is_command(stripped):
            await commands.dispatch(self, stripped)
        elif stripped.startswith("!"):
            await self.run_shell(stripped[1:].strip())
        else:
            await self.run_prompt(text)

    async def run_shell(self, command: str) -> None:
        from swerve.cli.app.render import fold, paint
        from swerve.cli.app.shell import OUTPUT_MAX_CHARS, clip, context_note, run_shell

        if not command:
            self.print_notice("type a command after !, e.g. !git status", "warning")
            return
        self.turn = TurnView(label=f"Running {command[:60]}")
        self.ui.start_ticker()
        output, code = await run_shell(command, self.cwd)
        status = "ok" if code == 0 else "error"
        self.print(paint("$ ", "grey") + paint(command, "bold") + "\n")
        self.print(fold(clip(output, OUTPUT_MAX_CHARS) or "(no output)", status, lines=200))
        if code != 0:
            self.print_notice(f"exit code {code}", "warning")
        self.pending_context.append(context_note(command, output, code))

    async def run_prompt(self, text: str, *, shown: str | None = None) -> None:
        from swerve.cli.app.setup_help import SETUP_TEXT

        if not self.ready.is_set():
            self.turn = TurnView(label="Starting")
            self.ui.start_ticker()
            await self.ready.wait()
        if self.session is None:
            self.print_notice(SETUP_TEXT, "warning")
            return
        if self.mcp_task is not None and not self.mcp_task.done():
            self.turn = TurnView(label="Connecting to MCP servers")
            self.ui.start_ticker()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(MCP_WAIT_S):
                    await asyncio.shield(self.mcp_task)
        from swerve.cli.app import mentions

        attachments = mentions.find_attachments(text, self.cwd)
        for a in attachments:
            self.print_notice(f"attached {a.shown} ({a.note})")
        prompt = mentions.with_attachments(text, attachments)
        if self.pending_context:
            prompt = "\n\n".join([*self.pending_context, prompt])
            self.pending_context.clear()
        agent = self.session.agent
        self.turn = TurnView()
        self.ui.start_ticker()
        self.stats.prompts += 1
        self._agent_running = True
        try:
            finished = await agent.run(prompt)
        finally:
            self._agent_running = False
        self.stats.agent_s += finished.duration_s

    # -- keys -------------------------------------------------------------------------------------

    def escape(self) -> None:
        if self._agent_running and self.session is not None:
            if self.turn is not None:
                self.turn.label = "Interrupting"
            self.session.agent.interrupt()
        elif self._current is not None and not self._current.done():
            self._current.cancel()

    def ctrl_c(self) -> None:
        now = time.monotonic()
        if now - self._ctrl_c_at < CTRL_C_WINDOW_S:
            self.quit()
            return
        self._ctrl_c_at = now
        if self.busy:
            self.escape()
        self.ui.invalidate()

    def quit(self) -> None:
        self.ui.cancel_questions()
        if self.session is not None and self._agent_running:
            self.session.agent.interrupt()
        self.ui.exit()

    def cycle_mode(self) -> None:
        i = MODE_CYCLE.index(self.mode) if self.mode in MODE_CYCLE else 0
        self.set_mode(MODE_CYCLE[(i + 1) % len(MODE_CYCLE)])

    def set_mode(self, mode: str) -> None:
        from swerve.agent.permissions import APPROVAL_MODES

        if mode not in APPROVAL_MODES:
            raise ValueError(f"unknown approval mode {mode!r}; choose one of {', '.join(APPROVAL_MODES)}")
        self.mode = mode
        self.flags["approval_mode"] = mode
        if self.session is not None:
            self.session.agent.permission.mode = mode
        self.ui.invalidate()

    # -- approvals and checkpoints ----------------------------------------------------------------

    async def ask_approval(self, request: ApprovalRequest) -> Decision:
        from swerve.agent.permissions import Decision
        from swerve.cli.app import approvals, render

        self._flush_stream()
        preview = request.preview or {}
        if preview.get("type") == "diff":
            self.print(render.tool_line(request.summary, "running") + render.diff(preview.get("diff", "")))
            self._previewed.add(id(request.args))
        elif isinstance(request.args.get("command"), str):
            self.print(
                render.tool_line(f"Shell({request.summary})", "running")
                + "    "
                + render.paint("$ " + request.args["command"], "bold")
                + "\n"
            )
        else:
            import json

            shown = json.dumps(request.args, ensure_ascii=False, indent=1, default=str)
            self.print(render.tool_line(request.summary, "running") + render.fold(shown, "ok", lines=12))
        await self.ui.drain()
        choices = approvals.choices_for(request)
        choice = await self.ui.choose(approvals.title_for(request), choices)
        if choice is None:
            self._previewed.discard(id(request.args))
            if self.session is not None:
                self.session.agent.interrupt()
            return Decision(False, "the user stopped the run")
        if choice.action == approvals.ALLOW_ONCE:
            return Decision(True)
        if choice.action == approvals.ALLOW_SESSION:
            if self.session is not None:
                self.session.agent.permission.allow_also(list(choice.rules))
            self.print_notice("allowed for this session: " + ", ".join(choice.rules))
            return Decision(True)
        self._previewed.discard(id(request.args))
        reason = await self.ui.ask_text("reason")
        return Decision(False, approvals.denial_reason(reason or ""))

    async def _checkpoint(self, calls: list[ToolCall]) -> None:
        if not self.checkpoints_enabled or self.session is None or self.mode == "plan":
            return
        tools = self.session.agent.tools
        changing = [
            c for c in calls if (t := tools.get(c.name)) is not None and t.kind in ("edit", "execute")
        ]
        if not changing:
            return
        label = "before " + "; ".join(self._summary(c) for c in changing[:3])
        if self.turn is not None:
            self.turn.label = "Saving a checkpoint"
        try:
            await self.checkpoints.snapshot(
                label[:200], list(self.session.agent.messages), self.session.log.session_id
            )
        except Exception as exc:  # CheckpointError, or git missing or failing
            self.checkpoints_enabled = False
            self.print_notice(f"checkpoints are off for this session: {exc}", "warning")

    async def restore(self, ref: str) -> None:
        from swerve.cli.app.checkpoints import CheckpointError

        if self.session is None:
            self.print_notice("no session is open", "warning")
            return
        try:
            cp = self.checkpoints.find(ref)
            restored = await self.checkpoints.restore(cp)
        except CheckpointError as exc:
            self.print_notice(str(exc), "error")
            return
        files = restored.changed + restored.removed
        shown = ", ".join(files[:10]) + (f" and {len(files) - 10} more" if len(files) > 10 else "")
        self.print_notice(
            f"restored checkpoint {cp.id} ({cp.label}): files {shown or 'unchanged'}"
            + (f"; undo with /restore {restored.undo.id}" if restored.undo else ""),
            "info",
        )
        if restored.messages:
            self.replace_history(restored.messages)
            self.print_notice(f"conversation restored to {len(restored.messages)} messages")

    def replace_history(self, messages: list[dict[str, Any]]) -> None:
        assert self.session is not None
        self._replacing_history = True
        try:
            self.session.agent.replace_history(messages)
        finally:
            self._replacing_history = False

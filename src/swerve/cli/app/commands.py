"""Slash commands of the interactive app, and custom commands from ``.swerve/commands/*.md``.

A custom command is a markdown file; its name is its path under the commands folder without
``.md`` (``git/review.md`` is ``/git:review``). ``{{args}}`` in it is replaced by what follows the
command (without ``{{args}}``, the arguments are appended). An optional front matter block
(``---`` lines) may give a ``description``. Project commands override user commands
(``~/.swerve/commands``) of the same name; built-in commands win over both.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from swerve.paths import swerve_home

if TYPE_CHECKING:
    from swerve.cli.app.controller import App

Handler = Callable[["App", str], Awaitable[None]]
COMMAND_WORD = re.compile(r"^/([A-Za-z][\w:.-]*)(?:\s|$)")


@dataclass
class SlashCommand:
    name: str
    description: str
    handler: Handler
    usage: str = ""


@dataclass
class CustomCommand:
    name: str
    description: str
    template: str
    path: Path

    def expand(self, args: str) -> str:
        if "{{args}}" in self.template:
            return self.template.replace("{{args}}", args).strip()
        return self.template.strip() + ("\n\n" + args if args else "")


COMMANDS: dict[str, SlashCommand] = {}
ALIASES = {"exit": "quit", "q": "quit", "?": "help", "compact": "compress", "mode": "approval-mode"}


def command(name: str, description: str, usage: str = "") -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        COMMANDS[name] = SlashCommand(name, description, handler, usage)
        return handler

    return register


# -- custom commands ------------------------------------------------------------------------------


def _parse_custom(path: Path, name: str) -> CustomCommand | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    description = ""
    if text.startswith("---\n"):
        head, sep, body = text[4:].partition("\n---")
        if sep:
            for line in head.splitlines():
                key, _, value = line.partition(":")
                if key.strip() == "description":
                    description = value.strip().strip("\"'")
            text = body.lstrip("-").lstrip("\n")
    if not description:
        first = next((ln.strip("# ").strip() for ln in text.splitlines() if ln.strip()), "")
        description = first[:80]
    return CustomCommand(name, description or "custom command", text, path)


def custom_commands(cwd: str) -> dict[str, CustomCommand]:
    found: dict[str, CustomCommand] = {}
    for folder in (swerve_home() / "commands", Path(cwd) / ".swerve" / "commands"):
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*.md")):
            rel = path.relative_to(folder).with_suffix("")
            name = ":".join(rel.parts)
            if name in COMMANDS or name in ALIASES:
                continue
            cmd = _parse_custom(path, name)
            if cmd is not None:
                found[name] = cmd
    return found


def command_names(cwd: str) -> list[tuple[str, str]]:
    """(name, description) of every command, for completion and /help."""
    names = [(c.name, c.description) for c in COMMANDS.values()]
    names += [(c.name, c.description) for c in custom_commands(cwd).values()]
    return names


def is_command(text: str) -> bool:
    """``/word ...`` is a command; ``/usr/bin/x ...`` (a path) is not."""
    m = COMMAND_WORD.match(text)
    return m is not None and "/" not in m.group(1)


async def dispatch(app: App, text: str) -> None:
    m = COMMAND_WORD.match(text)
    if m is None:
        return
    name = ALIASES.get(m.group(1), m.group(1))
    args = text[m.end() :].strip()
    builtin = COMMANDS.get(name)
    if builtin is not None:
        await builtin.handler(app, args)
        return
    custom = custom_commands(app.cwd).get(name)
    if custom is not None:
        await app.run_prompt(custom.expand(args))
        return
    app.print_notice(f"unknown command /{name}; /help lists the commands", "warning")


# -- built-in commands ----------------------------------------------------------------------------


@command("help", "show commands and keys")
async def _help(app: App, args: str) -> None:
    lines = ["**Commands**", ""]
    for c in COMMANDS.values():
        lines.append(f"- `/{c.name}{(' ' + c.usage) if c.usage else ''}` — {c.description}")
    custom = custom_commands(app.cwd)
    if custom:
        lines += ["", "**Custom commands**", ""]
        lines += [f"- `/{c.name}` — {c.description} ({c.path})" for c in custom.values()]
    lines += [
        "",
        "**Input**",
        "",
        "- Enter sends; Shift+Enter, Ctrl-J or a trailing `\\` starts a new line",
        "- `@path` attaches a file or folder (Tab completes); `!command` runs a shell command",
        "- Esc interrupts the model; Ctrl-C twice quits; Shift+Tab cycles the approval mode",
        "- Up/Down browse the input history of this project",
    ]
    app.print_markdown("\n".join(lines))


@command("quit", "leave swerve (the session is saved)")
async def _quit(app: App, args: str) -> None:
    app.quit()


@command("clear", "start a new conversation (the old one stays saved)")
async def _clear(app: App, args: str) -> None:
    if app.session is None:
        app.print_notice("no conversation yet")
        return
    from swerve.agent.session import SessionLog
    from swerve.agent.trajectory import utc_now

    session = app.session
    old_id = session.log.session_id
    session.log.close()
    session.log = SessionLog.create(
        app.cwd, {"model": session.model.name, "created": utc_now()}, session.secrets
    )
    app.replace_history(session.agent.messages[:1])
    session.agent.ctx.state.pop("todos", None)
    app.print_notice(f"new conversation {session.log.session_id} (the last one: /resume {old_id})")


@command("compress", "replace older turns by a summary to free context")
async def _compress(app: App, args: str) -> None:
    if app.session is None:
        app.print_notice("no conversation yet")
        return
    agent = app.session.agent
    before = agent.context_tokens()
    from swerve.cli.app.view import TurnView

    app.turn = TurnView(label="Summarising older turns")
    app.ui.start_ticker()
    if not await agent.compress():
        app.print_notice("nothing to compress yet")
        return
    app.print_notice(f"compressed: about {before} → {agent.context_tokens()} tokens", "compression")


@command("model", "show or switch the model", "[NAME] [--base-url URL] [--provider P] [--tool-protocol P]")
async def _model(app: App, args: str) -> None:
    try:
        words = shlex.split(args)
    except ValueError as exc:
        app.print_notice(f"cannot parse the arguments: {exc}", "error")
        return
    if not words:
        current = app.session.model.name if app.session else app.settings.model or "(none)"
        where = app.settings.base_url or "(default endpoint)"
        window = app.session.model.context_window if app.session else None
        text = f"model: {current} at {where}" + (f", context window {window}" if window else "")
        text += "\nswitch with /model NAME [--base-url URL] [--provider openai|anthropic] [--tool-protocol native|qwen-xml]"
        app.print_notice(text)
        if app.local_servers:
            app.print_notice("\n".join(f"{s.name}: {s.command()}" for s in app.local_servers))
        return
    options = {
        "--base-url": "base_url",
        "--provider": "provider",
        "--tool-protocol": "tool_protocol",
        "--api-key": "api_key",
    }
    change: dict[str, str] = {}
    name = ""
    i = 0
    while i < len(words):
        word = words[i]
        if word in options:
            if i + 1 >= len(words):
                app.print_notice(f"{word} needs a value", "error")
                return
            change[options[word]] = words[i + 1]
            i += 2
            continue
        if word.startswith("-"):
            app.print_notice(f"unknown option {word}", "error")
            return
        name = word
        i += 1
    if not name:
        app.print_notice("give a model name: /model NAME", "error")
        return
    change["model"] = name
    if "base_url" not in change and not app.settings.base_url:
        local = next((s for s in app.local_servers if name in s.models), None)
        if local is not None:
            change["base_url"] = local.base_url
            change.setdefault("tool_protocol", local.tool_protocol)
    await switch_model(app, change)


async def switch_model(app: App, change: dict[str, str]) -> None:
    flags = {**app.flags, **change}
    if app.session is None:
        app.flags = flags
        if await app.open_session():
            app.print_notice(f"using {app.session.model.name if app.session else change['model']}")
        return
    from swerve.cli.session import agent_config, make_model
    from swerve.config import resolve
    from swerve.errors import ConfigError, RunError

    try:
        settings = resolve(app.cwd, flags)
        model = make_model(agent_config(settings))
    except (ConfigError, RunError) as exc:
        app.print_notice(str(exc), "error")
        return
    session = app.session
    old = session.model
    session.model = model
    session.agent.set_model(model)
    session.settings = settings
    app.settings = settings
    app.flags = flags
    await old.aclose()
    app.print_notice(f"switched to {model.name} (context window {model.context_window})")


@command("approval-mode", "show or set the approval mode", "[plan|default|auto-edit|yolo]")
async def _approval_mode(app: App, args: str) -> None:
    from swerve.agent.permissions import APPROVAL_MODES

    if not args:
        app.print_notice(
            f"approval mode: {app.mode} (one of {', '.join(APPROVAL_MODES)}; Shift+Tab cycles)\n"
            "  plan: read-only · default: ask before edits and commands · "
            "auto-edit: ask before commands · yolo: never ask"
        )
        return
    try:
        app.set_mode(args.strip())
    except ValueError as exc:
        app.print_notice(str(exc), "error")
        return
    app.print_notice(f"approval mode: {app.mode}")


@command("tools", "list the tools the model can use (MCP servers included)")
async def _tools(app: App, args: str) -> None:
    if app.session is None:
        app.print_notice("no session yet (no model configured)")
        return
    from swerve.cli.app.render import table

    rows = []
    for tool in app.session.tools:
        desc = " ".join(str(tool.description).split())
        rows.append([tool.name, tool.kind, desc[:70] + ("…" if len(desc) > 70 else "")])
    app.print(table(rows, ["tool", "kind", "description"], app.ui.width))
    if app.mcp is not None:
        for server in app.mcp.servers:
            extra = f": {server.error}" if server.error else f", {len(server.tools)} tools"
            app.print_notice(f"MCP {server.config.name} ({server.config.describe()}): {server.status}{extra}")


@command("todo", "show the model's todo list")
async def _todo(app: App, args: str) -> None:
    from swerve.cli.app.render import todos

    items = app.session.agent.ctx.state.get("todos") if app.session else None
    app.print(todos(items or []))


@command("stats", "tokens, cost and time per model for this session")
async def _stats(app: App, args: str) -> None:
    import time

    from swerve.cli.app.render import table

    s = app.stats
    rows = [
        [
            name,
            str(m.requests),
            f"{m.input_tokens:,}",
            f"{m.output_tokens:,}",
            f"{m.cached_tokens:,}",
            f"{m.model_s:.1f}s",
            f"{m.cost:.4f}",
        ]
        for name, m in s.models.items()
    ]
    if not rows:
        app.print_notice("no model requests yet")
    else:
        app.print(
            table(rows, ["model", "requests", "input", "output", "cached", "time", "cost"], app.ui.width)
        )
    wall = time.monotonic() - s.started
    app.print_notice(
        f"session: {wall:.0f}s wall, {s.agent_s:.1f}s working, {s.prompts} prompts, "
        f"{s.tool_calls} tool calls ({s.tool_errors} failed, {s.tool_s:.1f}s)"
        + ("" if app.settings.pricing.input_per_mtok else ' · set "pricing" in settings for costs')
    )


@command("resume", "list saved sessions of this project, or resume one", "[ID]")
async def _resume(app: App, args: str) -> None:
    from swerve.agent.session import list_sessions

    if not args:
        sessions = list_sessions(app.cwd)
        if not sessions:
            app.print_notice("no saved sessions for this project")
            return
        lines = ["Saved sessions (newest last); /resume ID continues one:"]
        for s in sessions[-20:]:
            prompt = " ".join(s["first_prompt"].split())[:70]
            lines.append(f"  {s['id']}  {s['messages']:>4} messages  {prompt}")
        app.print_notice("\n".join(lines))
        return
    if app.session is None:
        app.flags.setdefault("approval_mode", app.mode)
        await app.open_session(resume=args.strip())
        return
    from swerve.agent.session import SessionLog, find_session, load_messages
    from swerve.errors import SessionError

    try:
        path = find_session(app.cwd, args.strip())
    except SessionError as exc:
        app.print_notice(str(exc), "error")
        return
    messages = load_messages(path)
    if not messages:
        app.print_notice(f"session {path.stem} is empty", "error")
        return
    session = app.session
    session.log.close()
    session.log = SessionLog(path, session.secrets)
    app.replace_history(messages)
    app.replay(messages)
    app.print_notice(f"resumed session {path.stem}")


@command("init", "write AGENTS.md from a scan of the project", "[--force]")
async def _init(app: App, args: str) -> None:
    import asyncio

    from swerve.cli.app.completion import project_files
    from swerve.cli.app.init_scan import scan_project

    target = Path(app.cwd) / "AGENTS.md"
    if target.exists() and "--force" not in args:
        app.print_notice("AGENTS.md exists already; /init --force replaces it", "warning")
        return
    files = await asyncio.to_thread(project_files, app.cwd)
    text = scan_project(app.cwd, files)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        app.print_notice(f"cannot write {target}: {exc.strerror}", "error")
        return
    app.print_markdown(text)
    app.print_notice(f"wrote {target}; edit it to add what a newcomer should know")
    refresh_memory(app)


@command("memory", "show the project instructions, or add to them", "[show|add TEXT|refresh]")
async def _memory(app: App, args: str) -> None:
    from swerve.agent.context import load_project_context

    verb, _, rest = args.partition(" ")
    if verb == "add":
        if not rest.strip():
            app.print_notice("usage: /memory add TEXT", "error")
            return
        target = Path(app.cwd) / "AGENTS.md"
        try:
            old = target.read_text(encoding="utf-8") if target.exists() else ""
            heading = "## Memory"
            if heading not in old:
                old = old.rstrip() + ("\n\n" if old.strip() else "") + heading + "\n"
            target.write_text(old.rstrip("\n") + f"\n- {rest.strip()}\n", encoding="utf-8")
        except OSError as exc:
            app.print_notice(f"cannot write {target}: {exc.strerror}", "error")
            return
        app.print_notice(f"added to {target}")
        refresh_memory(app)
        return
    if verb == "refresh":
        refresh_memory(app)
        app.print_notice("project instructions reloaded")
        return
    text = load_project_context(app.cwd)
    if not text:
        app.print_notice("no AGENTS.md or QWEN.md here or above; /init writes one")
        return
    app.print(text[:8000] + ("\n…\n" if len(text) > 8000 else "\n"))


def refresh_memory(app: App) -> None:
    """Put the current project instructions into the system prompt."""
    if app.session is None:
        return
    from swerve.agent.context import load_project_context
    from swerve.agent.loop import system_prompt

    agent = app.session.agent
    messages = list(agent.messages)
    if messages and messages[0].get("role") == "system":
        messages[0] = {
            "role": "system",
            "content": system_prompt(app.session.workspace.root, load_project_context(app.cwd)),
        }
        app.replace_history(messages)


@command("restore", "list checkpoints, or restore files and conversation to one", "[N|ID]")
async def _restore(app: App, args: str) -> None:
    if args:
        await app.restore(args)
        return
    items = app.checkpoints.list()
    if not items:
        app.print_notice("no checkpoints yet: one is saved before each batch of edits")
        return
    lines = ["Checkpoints (newest last); /restore N or /restore ID puts files and conversation back:"]
    for i, cp in enumerate(items[-20:], start=max(1, len(items) - 19)):
        prompt = " ".join(cp.prompt.split())[:50]
        lines.append(
            f"  {i:>3}. {cp.id}  {cp.when()}  {cp.label[:70]}" + (f"  ← “{prompt}”" if prompt else "")
        )
    app.print_notice("\n".join(lines))

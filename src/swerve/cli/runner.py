"""Puts a session together from settings (model, workspace, tools, agent, transcript) and runs it headless."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from dataclasses import dataclass, field
from typing import Any

from swerve.agent.context import load_project_context
from swerve.agent.events import Compressed, Event, Finished, MessageAdded
from swerve.agent.loop import Agent, Limits, system_prompt
from swerve.agent.permissions import Asker, Permission
from swerve.agent.secrets import secret_values
from swerve.agent.session import SessionError, SessionLog, find_session, load_messages
from swerve.agent.trajectory import trajectory_record, utc_now
from swerve.config import MISSING_MODEL_HELP, ConfigError, Settings, resolve
from swerve.models.base import Model, ModelError, Sampling
from swerve.sandbox.base import SandboxError, Workspace
from swerve.tools.base import ToolContext
from swerve.tools.registry import ToolRegistry


class RunError(Exception):
    """The run could not start; the message says why and what to change."""


@dataclass
class Session:
    settings: Settings
    model: Model
    workspace: Workspace
    tools: ToolRegistry
    agent: Agent
    log: SessionLog
    secrets: list[str]
    listeners: list[Any] = field(default_factory=list)

    def dispatch(self, event: Event) -> None:
        if isinstance(event, MessageAdded):
            self.log.message(event.message)
        elif isinstance(event, Compressed):
            self.log.compaction(event.messages)
        for listener in self.listeners:
            listener(event)

    async def close(self) -> None:
        self.log.close()
        await self.model.aclose()
        await self.workspace.close()


def make_model(settings: Settings) -> Model:
    if not settings.model:
        raise RunError(MISSING_MODEL_HELP)
    from swerve.models.factory import create_model

    sampling = Sampling(**{k: v for k, v in settings.sampling.items() if v is not None})
    try:
        return create_model(
            settings.model,
            provider=settings.provider,
            base_url=settings.base_url,
            api_key=settings.api_key,
            tool_protocol=settings.tool_protocol,
            context_window=settings.context_window,
            sampling=sampling,
        )
    except (ValueError, OSError, ModelError) as exc:
        raise RunError(f"cannot use model {settings.model!r}: {exc}") from None


async def make_workspace(settings: Settings, cwd: str) -> Workspace:
    if settings.sandbox:
        from swerve.sandbox.namespace import NamespaceWorkspace

        try:
            return await NamespaceWorkspace.open_project(cwd)
        except SandboxError as exc:
            raise RunError(f"cannot start the sandbox: {exc}") from None
    from swerve.sandbox.host import HostWorkspace

    return HostWorkspace(cwd)


async def open_session(
    cwd: str,
    flags: dict[str, Any],
    *,
    continue_session: bool = False,
    resume: str | None = None,
    ask: Asker | None = None,
) -> Session:
    """Resolve settings and build everything a conversation needs."""
    try:
        settings = resolve(cwd, flags)
    except ConfigError as exc:
        raise RunError(str(exc)) from None
    history = None
    log_path = None
    if continue_session or resume:
        try:
            log_path = find_session(cwd, resume)
        except SessionError as exc:
            raise RunError(str(exc)) from None
        history = load_messages(log_path)
    model = make_model(settings)
    from swerve.tools import default_tools

    workspace = await make_workspace(settings, cwd)
    tools = ToolRegistry(default_tools())
    secrets = secret_values([settings.api_key])
    if log_path is not None:
        log = SessionLog(log_path, secrets)
    else:
        log = SessionLog.create(cwd, {"model": settings.model, "created": utc_now()}, secrets)
    permission = Permission(settings.approval_mode, ask=ask, allow=settings.allow, deny=settings.deny)
    limits = Limits(
        max_turns=settings.max_turns,
        max_tokens=settings.max_tokens,
        max_cost=settings.max_cost,
        wall_clock_s=settings.wall_clock_s,
        input_price_per_mtok=settings.input_price_per_mtok,
        output_price_per_mtok=settings.output_price_per_mtok,
    )
    ctx = ToolContext(workspace, allowed_dirs=tuple(settings.allowed_dirs))
    session = Session(settings, model, workspace, tools, None, log, secrets)  # type: ignore[arg-type]
    session.agent = Agent(
        model,
        tools,
        ctx,
        permission=permission,
        limits=limits,
        system=system_prompt(workspace.root, load_project_context(cwd)),
        history=history,
        on_event=session.dispatch,
    )
    return session


async def run_headless(args: argparse.Namespace) -> int:
    from swerve.cli.headless import EXIT_CODES, EXIT_ERROR, flags_from_args
    from swerve.cli.printers import make_printer

    cwd = os.path.abspath(args.cwd or os.getcwd())
    if not os.path.isdir(cwd):
        raise RunError(f"no such directory: {cwd}")
    session = await open_session(
        cwd, flags_from_args(args), continue_session=args.continue_session, resume=args.resume
    )
    printer = make_printer(
        args.output_format, session, include_partial=args.include_partial_messages, verbose=args.verbose
    )
    session.listeners.append(printer.handle)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, session.agent.interrupt)
    started_at = utc_now()
    finished: Finished | None = None
    try:
        printer.start()
        finished = await session.agent.run(args.prompt)
        if args.trajectory:
            await write_trajectory(args.trajectory, session, args.prompt, finished, started_at)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await session.close()
    sys.stdout.flush()
    return EXIT_CODES.get(finished.exit_reason, EXIT_ERROR) if finished else EXIT_ERROR


async def write_trajectory(
    path: str, session: Session, task: str, finished: Finished, started_at: str
) -> None:
    try:
        patch = await session.workspace.diff()
    except (SandboxError, OSError) as exc:
        patch = f"(diff unavailable: {exc})"
    record = trajectory_record(
        task=task,
        model=session.model.name,
        sampling=getattr(session.model, "sampling", None),
        messages=session.agent.messages,
        turns=session.agent.turns,
        finished=finished,
        started_at=started_at,
        ended_at=utc_now(),
        patch=patch,
        session_id=session.log.session_id,
        tools=[s.name for s in session.tools.specs()],
        secrets=session.secrets,
    )
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(record, f, ensure_ascii=False, indent=1, default=str)
    os.replace(tmp, path)

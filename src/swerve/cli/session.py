"""Puts a conversation together from settings: model, workspace, tools, agent and transcript, for
``swerve -p`` and the app alike."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from swerve.agent.context import load_project_context
from swerve.agent.events import Compressed, Event, MessageAdded, Notice
from swerve.agent.loop import Agent
from swerve.agent.permissions import Asker, Permission
from swerve.agent.prompts import system_prompt
from swerve.agent.session import SessionLog, find_session, load_messages
from swerve.agent.trajectory import utc_now
from swerve.config import AgentConfig, Settings, resolve
from swerve.errors import ConfigError, ModelError, RunError, SandboxError, SessionError
from swerve.models.base import Model
from swerve.models.retry import Retry
from swerve.sandbox.base import Workspace
from swerve.secrets import secret_values
from swerve.tools.base import ToolContext
from swerve.tools.registry import ToolRegistry


@dataclass
class Dispatch:
    """Where the agent's events go: the transcript first, then every listener (printer, UI)."""

    log: SessionLog
    listeners: list[Callable[[Event], None]] = field(default_factory=list)

    def __call__(self, event: Event) -> None:
        if isinstance(event, MessageAdded):
            self.log.message(event.message)
        elif isinstance(event, Compressed):
            self.log.compaction(event.messages)
        for listener in self.listeners:
            listener(event)


@dataclass
class Session:
    settings: Settings
    model: Model
    workspace: Workspace
    tools: ToolRegistry
    agent: Agent
    log: SessionLog
    secrets: list[str]
    dispatch: Dispatch
    notes: list[str] = field(default_factory=list)  # what was discovered about the endpoint

    @property
    def listeners(self) -> list[Callable[[Event], None]]:
        return self.dispatch.listeners

    async def close(self) -> None:
        self.log.close()
        await self.model.aclose()
        await self.workspace.close()


def agent_config(settings: Settings) -> AgentConfig:
    """The agent the settings describe; RunError (with help) when no model is configured."""
    try:
        return AgentConfig.from_settings(settings)
    except ConfigError as exc:
        raise RunError(str(exc)) from None


def make_model(config: AgentConfig, on_retry: Callable[[Retry], None] | None = None) -> Model:
    """The model of ``config``; RunError saying why when it cannot be used."""
    try:
        return config.build_model(on_retry)
    except (ValueError, OSError, ModelError) as exc:
        raise RunError(f"cannot use model {config.model!r}: {exc}") from None


def describe_retry(retry: Retry) -> str:
    """One line on a retry: its cause and how long it waits."""
    return f"model request failed ({retry.cause}); retry {retry.attempt} in {retry.delay:.1f} s"


async def make_workspace(settings: Settings, cwd: str) -> Workspace:
    if settings.sandbox:
        from swerve.agent.protect import PROTECTED_PATHS
        from swerve.config import sandbox_limits
        from swerve.sandbox.guarded import KeepAbsent, split_protected
        from swerve.sandbox.ns import NamespaceWorkspace

        # what changes how git or an agent behaves stays as it is: read-only, or absent
        present, absent = split_protected(os.path.realpath(cwd), PROTECTED_PATHS)
        try:
            inner = await NamespaceWorkspace.open_project(
                cwd, limits=sandbox_limits(settings), read_only=present
            )
        except SandboxError as exc:
            raise RunError(f"cannot start the sandbox: {exc}") from None
        return cast("Workspace", KeepAbsent(inner, absent))
    from swerve.sandbox.host import HostWorkspace

    return HostWorkspace(cwd, scrub_secrets=settings.scrub_secret_env, keep_env=settings.shell_env_keep)


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
    config = await asyncio.to_thread(agent_config, settings)  # may ask the endpoint about itself
    secrets = secret_values([settings.api_key])
    if log_path is not None:
        log = SessionLog(log_path, secrets)
    else:
        log = SessionLog.create(cwd, {"model": config.model, "created": utc_now()}, secrets)
    dispatch = Dispatch(log)
    model = make_model(config, on_retry=lambda retry: dispatch(Notice(describe_retry(retry), "retry")))
    from swerve.tools import default_tools

    workspace = await make_workspace(settings, cwd)
    tools = ToolRegistry(default_tools())
    agent = config.build_agent(
        model,
        tools,
        ToolContext(workspace, allowed_dirs=tuple(settings.allowed_dirs)),
        permission=Permission(settings.approval_mode, ask=ask, allow=settings.allow, deny=settings.deny),
        system=system_prompt(workspace.root, load_project_context(cwd)),
        history=history,
        on_event=dispatch,
    )
    return Session(settings, model, workspace, tools, agent, log, secrets, dispatch, list(config.notes))

"""Approval modes and the permission policy that applies them to tool calls."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from swerve.agent.protect import check_writes
from swerve.agent.shellwords import command_prefix, split_command, write_targets

APPROVAL_MODES = ("plan", "default", "auto-edit", "yolo")


@dataclass
class Decision:
    allowed: bool
    reason: str = ""


@dataclass
class ApprovalRequest:
    """What a face shows a person asked to approve a call."""

    tool: str
    kind: str
    args: dict[str, Any]
    summary: str
    preview: dict[str, Any] | None = None
    protected: str | None = None  # set when the call writes a protected path: approve it alone, once


Asker = Callable[[ApprovalRequest], Awaitable[Decision]]


@dataclass
class Permission:
    """Decides whether a call may run.

    - ``plan``: read-only tools only.
    - ``default``: ask before edit and execute tools.
    - ``auto-edit``: ask before execute tools.
    - ``yolo``: everything runs.

    ``ask`` is the face's way to ask a person; without one (headless) an ask is a denial.
    ``allow`` and ``deny`` hold tool names (``run_shell_command``) or ``tool(prefix)`` rules
    (``run_shell_command(git status)``), checked before the mode. An allow rule covers a shell
    command only when every file it writes passes the edit tools' rule (inside ``root`` or
    ``allowed_dirs``); a call that writes a protected path (``agent.protect``) is asked about in
    every mode, and denied when nobody can answer.
    """

    mode: str = "default"
    ask: Asker | None = None
    allow: list[str] = field(default_factory=list)
    deny: list[str] = field(default_factory=list)
    root: str | None = None  # the workspace root; the agent sets it when it is not given
    allowed_dirs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.mode not in APPROVAL_MODES:
            raise ValueError(
                f"unknown approval mode {self.mode!r}; choose one of {', '.join(APPROVAL_MODES)}"
            )

    def needs_asking(self, kind: str) -> bool:
        if self.mode == "yolo" or kind in ("read", "meta"):
            return False
        if self.mode == "auto-edit":
            return kind == "execute"
        return True

    def allow_also(self, rules: list[str]) -> None:
        """Add allow rules for the rest of the session (duplicates are ignored)."""
        self.allow.extend(r for r in rules if r not in self.allow)

    async def decide(self, request: ApprovalRequest) -> Decision:
        if rules_deny(self.deny, request):
            return Decision(False, f"{request.tool} is denied by a settings rule")
        writes = call_writes(request)
        check = check_writes(writes or [], self.root or os.getcwd(), self.allowed_dirs)
        if check.protected:
            request.protected = check.reason
            if self.ask is None:
                return Decision(
                    False,
                    f"{check.reason}: writing it needs a person's explicit approval, which no approval mode "
                    "or rule gives",
                )
            return await self.ask(request)
        if writes is not None and not check.outside and rules_allow(self.allow, request):
            return Decision(True)
        if request.kind in ("read", "meta") or self.mode == "yolo":
            return Decision(True)
        if self.mode == "plan":
            return Decision(
                False,
                "plan mode is read-only: describe the change instead of making it, "
                "or ask the user to switch the approval mode",
            )
        if not self.needs_asking(request.kind):
            return Decision(True)
        if self.ask is None:
            return Decision(
                False,
                f"{request.tool} needs approval and nobody can answer in headless mode "
                f"(approval mode {self.mode!r}); the user can rerun with --approval-mode "
                + ("auto-edit or yolo" if request.kind == "edit" else "yolo"),
            )
        return await self.ask(request)


def _matches(rules: list[str], request: ApprovalRequest) -> bool:
    for rule in rules:
        name, _, rest = rule.partition("(")
        if not _names_tool(name.strip(), request.tool):
            continue
        if not rest:
            return True
        prefix = rest.rstrip(")").strip()
        command = str(request.args.get("command", request.args.get("file_path", "")))
        if (
            command == prefix
            or command.startswith(prefix + " ")
            or (prefix.endswith("*") and command.startswith(prefix[:-1]))
        ):
            return True
    return False


def call_writes(request: ApprovalRequest) -> list[str] | None:
    """The files a call writes, as far as can be seen: an edit tool's path, or what a shell
    command's redirections, ``tee``, copies and output flags name. None: a command that cannot be
    parsed, of which nothing can be said."""
    command = request.args.get("command")
    if isinstance(command, str):
        return write_targets(command)
    path = request.args.get("file_path")
    return [path] if request.kind == "edit" and isinstance(path, str) else []


def _rule_parts(rule: str) -> tuple[str, str | None]:
    name, paren, rest = rule.partition("(")
    return name.strip(), (rest.rstrip().removesuffix(")").strip() if paren else None)


def _names_tool(name: str, tool: str) -> bool:
    """A rule's tool name: exact, ``mcp__server`` for every tool of a server, or ending in ``*``."""
    if name == tool:
        return True
    if name.endswith("*"):
        return tool.startswith(name[:-1])
    return name.startswith("mcp__") and name.count("__") == 1 and tool.startswith(name + "__")


def _prefix_matches(prefix: str, text: str) -> bool:
    if prefix.endswith(":*"):  # Claude Code's spelling: Bash(git:*)
        prefix = prefix[:-2]
        return text == prefix or text.startswith(prefix + " ")
    if prefix.endswith("*"):
        return text.startswith(prefix[:-1])
    return text == prefix or text.startswith(prefix + " ")


def rules_deny(rules: list[str], request: ApprovalRequest) -> bool:
    """Whether a deny rule covers the call. For a shell command, a rule that covers any one
    part of it denies the whole command."""
    command = request.args.get("command")
    if isinstance(command, str):
        parts = split_command(command) or [command]
        for rule in rules:
            name, prefix = _rule_parts(rule)
            if not _names_tool(name, request.tool):
                continue
            if prefix is None or any(_prefix_matches(prefix, p) for p in [command.strip(), *parts]):
                return True
        return False
    return _matches(rules, request)


def rules_allow(rules: list[str], request: ApprovalRequest) -> bool:
    """Whether allow rules cover the call. For a shell command every part (``a && b | c``,
    ``$(d)``) must be covered, each by some rule; an unparsable command is never covered
    by a prefix rule."""
    command = request.args.get("command")
    if isinstance(command, str):
        prefixes = [
            prefix for name, prefix in (_rule_parts(r) for r in rules) if _names_tool(name, request.tool)
        ]
        if any(p is None for p in prefixes):
            return True
        mine = [p for p in prefixes if p is not None]
        parts = split_command(command)
        if not parts or not mine:
            return False
        return all(any(_prefix_matches(p, part) for p in mine) for part in parts)
    return _matches(rules, request)


def session_rules_for(request: ApprovalRequest) -> list[str]:
    """The allow rules a "yes, don't ask again this session" answer adds: the tool, or for a
    shell command the prefix of each of its parts."""
    command = request.args.get("command")
    if isinstance(command, str):
        parts = split_command(command)
        if parts:
            prefixes = list(dict.fromkeys(command_prefix(p) for p in parts))
            return [f"{request.tool}({p})" for p in prefixes if p]
    return [request.tool]

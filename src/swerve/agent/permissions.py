"""Approval modes and the permission policy that applies them to tool calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

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
    (``run_shell_command(git status)``), checked before the mode.
    """

    mode: str = "default"
    ask: Asker | None = None
    allow: list[str] = field(default_factory=list)
    deny: list[str] = field(default_factory=list)

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

    async def decide(self, request: ApprovalRequest) -> Decision:
        if _matches(self.deny, request):
            return Decision(False, f"{request.tool} is denied by a settings rule")
        if _matches(self.allow, request):
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
        if name.strip() != request.tool:
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

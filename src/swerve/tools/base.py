"""The Tool contract, tool results, and the registry the agent calls through."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from swerve.models.base import ToolSpec
from swerve.sandbox.base import Workspace

ToolKind = Literal["read", "edit", "execute", "meta"]


@dataclass
class ToolResult:
    """What a tool returns: ``output`` goes to the model; ``display`` is for UIs
    (e.g. ``{"type": "diff", "path": ..., "diff": ...}``)."""

    output: str
    is_error: bool = False
    display: dict[str, Any] | None = None


@dataclass
class ToolContext:
    """What a tool may touch: the workspace, extra directories the user allowed, and
    per-session state shared between tools (todo list, background jobs)."""

    workspace: Workspace
    allowed_dirs: tuple[str, ...] = ()
    state: dict[str, Any] = field(default_factory=dict)


class Tool:
    """Base class for tools. Subclasses set the class attributes and implement ``run``."""

    name: ClassVar[str]
    description: ClassVar[str]
    kind: ClassVar[ToolKind]
    parameters: ClassVar[dict[str, Any]]  # JSON schema of the arguments (type: object)
    label: ClassVar[str] = ""  # what a UI calls it around its summary, e.g. Shell(ls -la); "" for none

    def spec(self) -> ToolSpec:
        return ToolSpec(self.name, self.description, self.parameters)

    def summary(self, args: dict[str, Any]) -> str:
        """A one-line description of a call, for UIs and approval prompts."""
        return f"{self.name}({', '.join(f'{k}={v!r}'[:80] for k, v in args.items())})"

    async def preview(self, args: dict[str, Any], ctx: ToolContext) -> dict[str, Any] | None:
        """What the call would change (e.g. a diff), shown before approval; None if nothing."""
        return None

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        raise NotImplementedError

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

    def allow_also(self, rules: list[str]) -> None:
        """Add allow rules for the rest of the session (duplicates are ignored)."""
        self.allow.extend(r for r in rules if r not in self.allow)

    async def decide(self, request: ApprovalRequest) -> Decision:
        if rules_deny(self.deny, request):
            return Decision(False, f"{request.tool} is denied by a settings rule")
        if rules_allow(self.allow, request):
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


# -- rules that see through compound shell commands -------------------------------------------

# commands whose second word names what they do (``git push`` is not ``git status``)
SUBCOMMAND_TOOLS = frozenset(
    {
        "git",
        "npm",
        "pnpm",
        "yarn",
        "bun",
        "cargo",
        "go",
        "docker",
        "podman",
        "kubectl",
        "pip",
        "pip3",
        "uv",
        "poetry",
        "conda",
        "brew",
        "apt",
        "apt-get",
        "systemctl",
        "gh",
        "make",
        "dotnet",
        "mvn",
        "gradle",
        "rustup",
        "npx",
    }
)
_SEPARATORS = ("||", "&&", "|&", ";;", "|", ";", "&", "\n")


def split_command(command: str) -> list[str] | None:
    """The simple commands inside a shell command line: parts joined by ``|``, ``||``, ``&&``,
    ``;``, ``&`` or newlines, and the bodies of ``$(...)``, backticks and ``<(...)``, each on its
    own. Quotes are respected. ``None`` when the line cannot be parsed (an unclosed quote)."""
    parts: list[str] = []
    if not _split_into(command, parts):
        return None
    return [p for p in parts if p]


def _split_into(text: str, parts: list[str]) -> bool:
    current: list[str] = []
    i, n = 0, len(text)

    def close_part() -> None:
        part = "".join(current).strip()
        current.clear()
        # a grouping brace is not a command: `{ a; b; }`
        if part.startswith("{") and (len(part) == 1 or part[1].isspace()):
            part = part[1:].strip()
        if part == "}":
            part = ""
        if part:
            parts.append(part)

    while i < n:
        ch = text[i]
        if ch == "\\":
            current.append(text[i : i + 2])
            i += 2
            continue
        if ch == "'":
            end = text.find("'", i + 1)
            if end < 0:
                return False
            current.append(text[i : end + 1])
            i = end + 1
            continue
        if ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                if text[j] == "\\":
                    j += 2
                    continue
                if text[j] == "`" or text.startswith("$(", j):
                    inner_end = _substitution_end(text, j)
                    if inner_end is None:
                        return False
                    body = text[j + 1 : inner_end] if text[j] == "`" else text[j + 2 : inner_end]
                    if not _split_into(body, parts):
                        return False
                    j = inner_end + 1
                    continue
                j += 1
            if j >= n:
                return False
            current.append(text[i : j + 1])
            i = j + 1
            continue
        if ch == "`" or (ch in "$<>" and text.startswith("(", i + 1)):
            closing = _substitution_end(text, i)
            if closing is None:
                return False
            body = text[i + 1 : closing] if ch == "`" else text[i + 2 : closing]
            if not _split_into(body, parts):
                return False
            current.append(text[i : closing + 1])
            i = closing + 1
            continue
        if ch == "#" and (not current or current[-1][-1:].isspace()):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        sep = next((s for s in _SEPARATORS if text.startswith(s, i)), None)
        if sep == "&" and (text[i - 1 : i] in (">", "<") or text[i + 1 : i + 2] == ">"):
            sep = None  # a redirection such as 2>&1 or &>file
        if sep is not None:
            close_part()
            i += len(sep)
            continue
        if ch in "()":
            close_part()
            i += 1
            continue
        current.append(ch)
        i += 1
    close_part()
    return True


def _substitution_end(text: str, start: int) -> int | None:
    """Index of the character closing the substitution that opens at ``start``."""
    if text[start] == "`":
        j = start + 1
        while j < len(text):
            if text[j] == "\\":
                j += 2
                continue
            if text[j] == "`":
                return j
            j += 1
        return None
    depth, j, quote = 0, start + 1, ""
    while j < len(text):
        ch = text[j]
        if quote:
            if ch == "\\" and quote == '"':
                j += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "\\":
            j += 2
            continue
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return j
        j += 1
    return None


def command_prefix(part: str) -> str:
    """The prefix a "don't ask again" answer remembers for one simple command: its first word,
    two for tools with subcommands (``git status``), three for ``python -m module``."""
    import shlex

    try:
        words = shlex.split(part)
    except ValueError:
        words = part.split()
    if not words:
        return part.strip()
    if len(words) >= 3 and words[0].startswith("python") and words[1] == "-m":
        return " ".join(words[:3])
    if len(words) >= 2 and words[0] in SUBCOMMAND_TOOLS and not words[1].startswith("-"):
        return " ".join(words[:2])
    return words[0]


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

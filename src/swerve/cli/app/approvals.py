"""What an approval prompt offers, and what each answer means."""

from __future__ import annotations

from dataclasses import dataclass, field

from swerve.agent.permissions import ApprovalRequest, session_rules_for

ALLOW_ONCE = "once"
ALLOW_SESSION = "session"
DENY = "deny"


@dataclass
class Choice:
    key: str  # the digit that picks it
    label: str
    action: str  # once | session | deny
    rules: list[str] = field(default_factory=list)  # allow rules the answer adds for the session


def title_for(request: ApprovalRequest) -> str:
    if request.kind == "edit":
        return f"Allow this edit? {request.summary}"
    if request.kind == "execute" and "command" in request.args:
        return "Run this command?"
    return f"Allow {request.tool}?"


def choices_for(request: ApprovalRequest) -> list[Choice]:
    if request.protected:  # a protected path is approved alone, once: never for the session
        return [
            Choice("1", f"Yes, this once ({request.protected})", ALLOW_ONCE),
            Choice("2", "No, and tell the model what to do instead", DENY),
        ]
    rules = session_rules_for(request)
    if rules == [request.tool]:
        what = f"{request.tool}" if request.kind != "edit" else "edits"
        always = f"Yes, and don't ask again for {what} this session"
        if request.kind == "edit":
            rules = ["write_file", "edit"] if request.tool in ("write_file", "edit") else rules
    else:
        prefixes = ", ".join(f"`{r[len(request.tool) + 1 : -1]}`" for r in rules)
        always = f"Yes, and don't ask again this session for commands starting with {prefixes}"
    return [
        Choice("1", "Yes", ALLOW_ONCE),
        Choice("2", always, ALLOW_SESSION, rules),
        Choice("3", "No, and tell the model what to do instead", DENY),
    ]


def denial_reason(text: str) -> str:
    text = text.strip()
    return f"the user declined and said: {text}" if text else ""

"""Loop guard and permission policy."""

import pytest

from swerve.agent.guard import LoopGuard, repeats_chunk
from swerve.agent.permissions import ApprovalRequest, Decision, Permission
from swerve.models.base import ToolCall


def call(name: str = "read_file", **args) -> ToolCall:
    return ToolCall("call_1", name, args)


def test_same_call_five_times_warns_then_stops():
    guard = LoopGuard()
    verdicts = [guard.check_call(call(file_path="a.py")) for _ in range(8)]
    assert verdicts[:4] == ["ok"] * 4
    assert verdicts[4:7] == ["warn"] * 3
    assert verdicts[7] == "stop"


def test_different_arguments_reset_the_count():
    guard = LoopGuard()
    for i in range(20):
        assert guard.check_call(call(file_path=f"{i % 2}.py")) == "ok"


def test_repeated_text_chunk_is_a_loop_but_a_long_rule_is_not():
    assert repeats_chunk("I will now check the file again. " * 40)
    assert not repeats_chunk("-" * 400)
    assert not repeats_chunk("".join(f"line {i} is different\n" for i in range(200)))


def test_text_loop_warns_once_then_stops():
    guard = LoopGuard()
    loop = "same words over and over again " * 30
    assert guard.check_text("fine") == "ok"
    assert guard.check_text(loop) == "warn"
    assert guard.check_text(loop) == "stop"


def request(tool: str, kind: str, **args) -> ApprovalRequest:
    return ApprovalRequest(tool, kind, args, tool)


@pytest.mark.parametrize(
    ("mode", "kind", "allowed"),
    [
        ("plan", "read", True),
        ("plan", "edit", False),
        ("plan", "execute", False),
        ("default", "read", True),
        ("default", "edit", False),
        ("default", "execute", False),
        ("auto-edit", "edit", True),
        ("auto-edit", "execute", False),
        ("yolo", "execute", True),
        ("yolo", "edit", True),
    ],
)
async def test_headless_modes(mode, kind, allowed):
    decision = await Permission(mode).decide(request("t", kind))
    assert decision.allowed is allowed
    if not allowed:
        assert decision.reason


async def test_asker_is_consulted_and_rules_come_first():
    asked = []

    async def ask(req: ApprovalRequest) -> Decision:
        asked.append(req.tool)
        return Decision(False, "not today")

    perm = Permission(
        "default", ask=ask, allow=["run_shell_command(git status)"], deny=["run_shell_command(rm)"]
    )
    assert (await perm.decide(request("run_shell_command", "execute", command="git status --short"))).allowed
    assert not (await perm.decide(request("run_shell_command", "execute", command="rm -rf x"))).allowed
    d = await perm.decide(request("run_shell_command", "execute", command="make"))
    assert not d.allowed and d.reason == "not today"
    assert asked == ["run_shell_command"]


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="unknown approval mode"):
        Permission("sometimes")

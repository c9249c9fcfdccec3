"""The agent loop driven directly: a scripted model, real tools on a real directory, events out."""

from __future__ import annotations

import asyncio
from pathlib import Path

from swerve.agent.events import EXIT_REASONS, Compressed, Event, Finished, ToolFinished, ToolStarted
from swerve.agent.loop import Agent, RunLimits
from swerve.agent.permissions import ApprovalRequest, Decision, Permission
from swerve.models.base import Pricing
from swerve.models.replay import ReplayModel
from swerve.sandbox.host import HostWorkspace
from swerve.testing.openai_server import OpenAIScriptServer
from swerve.tools import default_tools
from swerve.tools.base import ToolContext
from swerve.tools.registry import ToolRegistry


def call(name: str, **arguments: object) -> dict[str, object]:
    return {"name": name, "arguments": arguments}


def make_agent(
    root: Path, turns: list[dict], *, mode: str = "yolo", events: list[Event] | None = None, **kw
) -> Agent:
    sink = events.append if events is not None else None
    return Agent(
        ReplayModel(turns, context_window=kw.pop("context_window", 131072)),
        ToolRegistry(default_tools()),
        ToolContext(HostWorkspace(str(root))),
        permission=kw.pop("permission", Permission(mode)),
        on_event=sink,
        **kw,
    )


def assert_history_valid(agent: Agent) -> None:
    """Every call the model made is answered once, in order, right after its message."""
    asked = [c["id"] for m in agent.messages if m["role"] == "assistant" for c in m.get("tool_calls") or ()]
    answered = [m["tool_call_id"] for m in agent.messages if m["role"] == "tool"]
    assert asked == answered


async def test_a_reply_without_calls_completes_the_run(tmp_path: Path):
    events: list[Event] = []
    agent = make_agent(tmp_path, [{"text": "nothing to do"}], events=events)
    finished = await agent.run("hello")
    assert finished.exit_reason == "completed" and finished.result == "nothing to do"
    assert finished.num_turns == 1 and not finished.is_error
    assert [m["role"] for m in agent.messages] == ["system", "user", "assistant"]
    assert isinstance(events[-1], Finished) and events[-1] is finished


async def test_tool_calls_run_against_the_workspace_and_come_back_as_observations(tmp_path: Path):
    turns = [
        {"tool_calls": [call("write_file", file_path=str(tmp_path / "a.txt"), content="one\n")]},
        {"tool_calls": [call("run_shell_command", command="cat a.txt")]},
        {"text": "wrote it"},
    ]
    agent = make_agent(tmp_path, turns)
    finished = await agent.run("write a.txt")
    assert finished.exit_reason == "completed" and finished.num_turns == 3
    assert (tmp_path / "a.txt").read_text() == "one\n"
    tool_messages = [m for m in agent.messages if m["role"] == "tool"]
    assert "one" in tool_messages[1]["content"]
    assert_history_valid(agent)
    assert finished.env_s > 0 and len(agent.turns) == 3


async def test_read_only_calls_of_one_turn_run_together_and_answer_in_order(tmp_path: Path):
    for name in "abc":
        (tmp_path / f"{name}.txt").write_text(f"{name * 3}\n")
    reads = [call("read_file", file_path=str(tmp_path / f"{n}.txt")) for n in "abc"]
    events: list[Event] = []
    agent = make_agent(tmp_path, [{"tool_calls": reads}, {"text": "read"}], events=events)
    await agent.run("read them")
    started = [i for i, e in enumerate(events) if isinstance(e, ToolStarted)]
    finished = [i for i, e in enumerate(events) if isinstance(e, ToolFinished)]
    assert len(started) == 3 and max(started) < min(finished)  # all three started before any finished
    contents = [m["content"] for m in agent.messages if m["role"] == "tool"]
    assert ["aaa" in contents[0], "bbb" in contents[1], "ccc" in contents[2]] == [True, True, True]


async def test_the_turn_limit_stops_the_run(tmp_path: Path):
    turns = [{"tool_calls": [call("list_directory", path=str(tmp_path))]}] * 5
    agent = make_agent(tmp_path, turns, limits=RunLimits(max_turns=2))
    finished = await agent.run("look around")
    assert finished.exit_reason == "max_turns" and finished.num_turns == 2
    assert "2 turns" in (finished.error or "")


async def test_the_cost_limit_uses_the_prices(tmp_path: Path):
    turns = [
        {"tool_calls": [call("list_directory", path=str(tmp_path))], "usage": {"input_tokens": 600_000}},
        {"text": "never reached"},
    ]
    limits = RunLimits(max_cost=1.0, pricing=Pricing(input_per_mtok=2.0))
    finished = await make_agent(tmp_path, turns, limits=limits).run("go")
    assert finished.exit_reason == "max_cost"


async def test_a_repeated_call_is_refused_then_stops_the_run(tmp_path: Path):
    same = {"tool_calls": [call("run_shell_command", command="ls")]}
    agent = make_agent(tmp_path, [same] * 12)
    finished = await agent.run("loop")
    assert finished.exit_reason == "loop"
    refused = [m for m in agent.messages if m["role"] == "tool" and "times in a row" in m["content"]]
    assert refused, "the model is told before the run is stopped"
    assert_history_valid(agent)


async def test_denied_calls_are_answered_and_recorded(tmp_path: Path):
    target = tmp_path / "x.txt"
    agent = make_agent(
        tmp_path,
        [{"tool_calls": [call("write_file", file_path=str(target), content="x")]}, {"text": "ok"}],
        mode="plan",
    )
    finished = await agent.run("write")
    assert not target.exists()
    assert finished.denials and finished.denials[0]["tool_name"] == "write_file"
    denied = next(m for m in agent.messages if m["role"] == "tool")
    assert denied["content"].startswith("Permission denied")


async def test_an_interrupt_ends_the_run_and_closes_the_open_calls(tmp_path: Path):
    asked = asyncio.Event()

    async def ask(request: ApprovalRequest) -> Decision:
        asked.set()
        await asyncio.sleep(60)
        return Decision(True)

    turns = [{"tool_calls": [call("run_shell_command", command="echo hi")]}, {"text": "done"}]
    agent = make_agent(tmp_path, turns, permission=Permission("default", ask=ask))
    run = asyncio.ensure_future(agent.run("go"))
    await asyncio.wait_for(asked.wait(), 10)
    agent.interrupt()
    finished = await asyncio.wait_for(run, 10)
    assert finished.exit_reason == "interrupted"
    assert_history_valid(agent)
    assert "interrupted" in [m for m in agent.messages if m["role"] == "tool"][-1]["content"]


async def test_a_failing_endpoint_ends_the_run_as_a_model_error(tmp_path: Path):
    from swerve.models.openai_chat import OpenAIChatModel

    with OpenAIScriptServer([{"status": 400, "message": "bad request"}]) as srv:
        model = OpenAIChatModel("m", srv.base_url, api_key="k", max_retries=0)
        agent = Agent(model, ToolRegistry(default_tools()), ToolContext(HostWorkspace(str(tmp_path))))
        finished = await agent.run("go")
        await model.aclose()
    assert finished.exit_reason == "model_error" and "bad request" in (finished.error or "")
    assert finished.exit_reason in EXIT_REASONS


async def test_a_long_history_is_compressed_and_the_task_is_kept(tmp_path: Path):
    (tmp_path / "big.txt").write_text(
        "".join(f"line {i:05d} of a long file, padded out\n" for i in range(1500))
    )
    read = {"tool_calls": [call("read_file", file_path=str(tmp_path / "big.txt"))]}
    turns = [read, {"text": "summary of the earlier work"}, {"text": "finished"}]
    events: list[Event] = []
    agent = make_agent(tmp_path, turns, events=events, context_window=6000)
    finished = await agent.run("the original task")
    assert finished.exit_reason == "completed"
    assert any(isinstance(e, Compressed) for e in events)
    assert "the original task" in agent.messages[1]["content"]

"""Hundreds of malformed tool calls, served by a real loopback endpoint, each becoming an error
observation to the model; the agent never crashes."""

from __future__ import annotations

from swerve.agent.events import ToolFinished
from swerve.agent.loop import Agent, RunLimits
from swerve.agent.permissions import Permission
from swerve.models.openai_chat import OpenAIChatModel
from swerve.models.qwen_xml import QwenXMLModel
from swerve.sandbox.host import HostWorkspace
from swerve.testing.malformed import generate_malformed_calls
from swerve.testing.openai_server import OpenAIScriptServer
from swerve.tools import default_tools
from swerve.tools.base import ToolContext
from swerve.tools.registry import ToolRegistry

CASES = 520


async def run_cases(tmp_path, xml_protocol: bool) -> tuple[int, int, int]:
    registry = ToolRegistry(default_tools())
    cases = generate_malformed_calls(CASES, seed=7 if xml_protocol else 11, tools=registry.specs())
    (tmp_path / "a.txt").write_text("hello\n")
    workspace = HostWorkspace(str(tmp_path))
    calls = errors = 0
    with OpenAIScriptServer([]) as srv:
        inner = OpenAIChatModel("test-model", srv.base_url, api_key="k", max_retries=1)
        model = QwenXMLModel(inner) if xml_protocol else inner
        for case in cases:
            if xml_protocol and case["xml"] is None:
                continue
            step = (
                {"text": case["xml"]}
                if case["xml"] is not None and (xml_protocol or case["openai"] is None)
                else {"tool_calls": [case["openai"]]}
            )
            srv.add_steps(step)  # then the exhausted script answers "done"
            finished_calls: list[ToolFinished] = []
            agent = Agent(
                model,
                registry,
                ToolContext(workspace),
                permission=Permission("default"),  # headless: edits and commands are denied, reads run
                limits=RunLimits(max_turns=4),
                on_event=lambda e, out=finished_calls: out.append(e) if isinstance(e, ToolFinished) else None,
            )
            finished = await agent.run("do the task")
            assert finished.exit_reason == "completed", (case["kind"], finished.error)
            assert srv.remaining == 0
            # every call the model made got exactly one answer, and the history stays valid
            asked = [
                c["id"] for m in agent.messages if m["role"] == "assistant" for c in m.get("tool_calls") or ()
            ]
            answered = [m["tool_call_id"] for m in agent.messages if m["role"] == "tool"]
            assert asked == answered, case["kind"]
            for event in finished_calls:
                calls += 1
                assert "Traceback" not in event.result.output
                if event.call.error is not None or registry.get(event.call.name) is None:
                    assert event.result.is_error, case["kind"]
                errors += event.result.is_error
        await model.aclose()
    return len(cases), calls, errors


async def test_malformed_native_calls_become_error_observations(tmp_path):
    n, calls, errors = await run_cases(tmp_path, xml_protocol=False)
    assert n >= 500
    assert calls >= 400 and errors >= calls * 0.8, (calls, errors)


async def test_malformed_xml_calls_become_error_observations(tmp_path):
    n, calls, errors = await run_cases(tmp_path, xml_protocol=True)
    assert n >= 250
    assert calls > 0 and errors > 0

"""JSON tool calls written as text (as Qwen2.5-Coder writes them) become real calls, and only those."""

from __future__ import annotations

from swerve.models.openai_chat import OpenAIChatModel
from swerve.models.qwen_xml import QwenXMLModel, parse_tool_calls
from swerve.models.salvage import salvage_json_calls
from swerve.testing.openai_server import OpenAIScriptServer
from swerve.tools import default_tools
from swerve.tools.registry import ToolRegistry

SPECS = ToolRegistry(default_tools()).specs()
BY_NAME = {s.name: s for s in SPECS}
CALL = '{"name": "read_file", "arguments": {"file_path": "calc.py"}}'


def shapes(calls) -> list[tuple]:
    return [(c.name, c.arguments, c.error) for c in calls]


def test_a_bare_call_is_salvaged():
    prose, calls = salvage_json_calls(f"I will read the file.\n{CALL}\n", BY_NAME)
    assert shapes(calls) == [("read_file", {"file_path": "calc.py"}, None)]
    assert prose == "I will read the file."


def test_a_call_in_a_json_fence_is_salvaged():
    text = f"Let me look.\n```json\n{CALL}\n```\n"
    assert shapes(salvage_json_calls(text, BY_NAME)[1]) == [("read_file", {"file_path": "calc.py"}, None)]


def test_calls_in_a_tools_wrapper_are_salvaged_in_order():
    second = '{"name": "run_shell_command", "arguments": {"command": "pytest -q"}}'
    text = f"<tools>\n{CALL}\n{second}\n</tools>"
    prose, calls = salvage_json_calls(text, BY_NAME)
    assert [c.name for c in calls] == ["read_file", "run_shell_command"] and prose == ""


def test_openai_function_shape_and_string_arguments_are_read():
    text = '{"type": "function", "function": {"name": "run_shell_command", "arguments": "{\\"command\\": \\"ls\\"}"}}'
    assert shapes(salvage_json_calls(text, BY_NAME)[1]) == [("run_shell_command", {"command": "ls"}, None)]


def test_near_miss_argument_names_are_mended_and_recorded():
    text = '{"name": "write_file", "arguments": {"path": "a.txt", "text": "hi"}}'
    call = salvage_json_calls(text, BY_NAME)[1][0]
    assert call.arguments == {"file_path": "a.txt", "content": "hi"}
    assert call.repairs == ["argument 'path' read as 'file_path'", "argument 'text' read as 'content'"]


def test_quoted_code_and_undeclared_tools_stay_text():
    for text in (
        f"```python\nrequest = {CALL}\n```",  # code the model quotes
        f"```python\n{CALL}\n```",  # fenced as another language
        '{"name": "deploy_to_prod", "arguments": {}}',  # not a declared tool
        f"The payload looks like {CALL} in the logs.",  # inside a sentence
        '{"name": "read_file", "arguments": {"file_path": "a"}, "reason": "x"}',  # not only a call
        '{"name": "read_file"',  # not JSON
    ):
        prose, calls = salvage_json_calls(text, BY_NAME)
        assert calls == [] and prose == text, text


def test_the_text_protocol_parser_salvages_json_when_no_xml_call_is_there():
    content, calls = parse_tool_calls(f"Reading it.\n```json\n{CALL}\n```", SPECS)
    assert [c.name for c in calls] == ["read_file"] and content == "Reading it."


async def test_a_native_endpoint_that_leaves_the_call_in_content_gives_a_tool_call():
    with OpenAIScriptServer([{"text": f"```json\n{CALL}\n```"}]) as srv:
        model = OpenAIChatModel("qwen2.5-coder-0.5b", srv.base_url, api_key="k", max_retries=0)
        turn = await model.complete([{"role": "user", "content": "go"}], SPECS)
        await model.aclose()
    assert [c.name for c in turn.tool_calls] == ["read_file"] and turn.text == ""
    assert turn.tool_calls[0].arguments == {"file_path": "calc.py"}


async def test_the_xml_protocol_model_salvages_json_too():
    with OpenAIScriptServer([{"text": f"{CALL}\n"}]) as srv:
        model = QwenXMLModel(OpenAIChatModel("qwen2.5-coder-1.5b", srv.base_url, api_key="k", max_retries=0))
        turn = await model.complete([{"role": "user", "content": "go"}], SPECS)
        await model.aclose()
    assert [c.name for c in turn.tool_calls] == ["read_file"]

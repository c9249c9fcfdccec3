"""The Qwen3-Coder XML protocol: rendering and tolerant parsing."""

from __future__ import annotations

import copy

import pytest
from qwen_xml_tools import CALL_ID, READ, SHELL, TOOLS, WRITE, call_xml, summary

from swerve.models.base import Message, ModelTurn, ToolCall
from swerve.models.qwen_xml import (
    parse_reply,
    parse_tool_calls,
    render_call,
    render_history,
    render_tools_prompt,
)

# ---------------------------------------------------------------- rendering


def test_tools_prompt_shape() -> None:
    prompt = render_tools_prompt([READ, SHELL, WRITE])
    assert prompt.startswith(
        "# Tools\n\nYou have access to the following functions:\n\n<tools>\n<function>\n"
    )
    assert "<name>read_file</name>\n<description>Read a file.</description>\n<parameters>\n" in prompt
    assert (
        "<parameter>\n<name>path</name>\n<type>string</type>\n<description>Absolute path.</description>\n"
        "</parameter>" in prompt
    )
    assert '<parameter>\n<name>limit</name>\n<type>["integer", "null"]</type>\n</parameter>' in prompt
    assert '<enum>["fg", "bg"]</enum>' in prompt
    assert '<required>["path"]</required>\n</parameters>\n</function>' in prompt
    assert "<additionalProperties>false</additionalProperties>" in prompt
    assert prompt.count("<function>") == 3
    _, instructions = prompt.split("</tools>")
    assert (
        "<tool_call>\n<function=example_function_name>\n<parameter=example_parameter_1>\nvalue_1\n"
        in instructions
    )
    assert "<IMPORTANT>" in instructions and "</IMPORTANT>" in instructions
    assert "required parameter" in instructions


def test_tools_prompt_example_parses_as_a_call() -> None:
    instructions = render_tools_prompt([READ]).split("</tools>")[1]
    _, calls = parse_tool_calls(instructions.split("<IMPORTANT>")[0], [])
    assert summary(calls) == [
        (
            "example_function_name",
            {"example_parameter_1": "value_1", "example_parameter_2": "A value may run over\nseveral lines"},
            None,
        )
    ]


def test_render_history_appends_tools_to_system_and_converts_calls_and_results() -> None:
    history: list[Message] = [
        {"role": "system", "content": "You are swerve."},
        {"role": "user", "content": "Fix it."},
        {
            "role": "assistant",
            "content": "  Looking first.  ",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "read_file", "arguments": {"path": "/a"}},
                },
                {
                    "id": "c2",
                    "type": "function",
                    "function": {
                        "name": "todo_write",
                        "arguments": {"todos": [{"id": "1"}], "options": {"x": True}, "ratio": 0.5},
                    },
                },
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "name": "read_file", "content": "line 1"},
        {"role": "tool", "tool_call_id": "c2", "name": "todo_write", "content": "ok"},
        {"role": "user", "content": "Go on."},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "c3", "function": {"name": "x", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c3", "name": "x", "content": "done"},
    ]
    before = copy.deepcopy(history)
    out = render_history(history, [READ], system_suffix="Extra rule.")
    assert history == before
    assert [m["role"] for m in out] == ["system", "user", "assistant", "user", "user", "assistant", "user"]
    system = out[0]["content"]
    assert system.startswith("You are swerve.\n\n# Tools\n")
    assert system.endswith("</IMPORTANT>\n\nExtra rule.")
    assert out[2] == {
        "role": "assistant",
        "content": "Looking first.\n"
        "<tool_call>\n<function=read_file>\n<parameter=path>\n/a\n</parameter>\n</function>\n</tool_call>\n"
        "<tool_call>\n<function=todo_write>\n"
        '<parameter=todos>\n[{"id": "1"}]\n</parameter>\n'
        '<parameter=options>\n{"x": true}\n</parameter>\n'
        "<parameter=ratio>\n0.5\n</parameter>\n"
        "</function>\n</tool_call>",
    }
    assert out[3] == {
        "role": "user",
        "content": "<tool_response>\nline 1\n</tool_response>\n<tool_response>\nok\n</tool_response>",
    }
    assert out[5]["content"] == "<tool_call>\n<function=x>\n</function>\n</tool_call>"
    assert out[6]["content"] == "<tool_response>\ndone\n</tool_response>"
    assert all(set(m) == {"role", "content"} for m in out)


def test_render_history_creates_a_system_message_and_skips_it_without_tools() -> None:
    out = render_history([{"role": "user", "content": "hi"}], [WRITE])
    assert out[0]["role"] == "system" and out[0]["content"].startswith("# Tools")
    assert out[1] == {"role": "user", "content": "hi"}
    assert render_history([{"role": "user", "content": "hi"}], []) == [{"role": "user", "content": "hi"}]


def test_render_history_flattens_content_parts() -> None:
    out = render_history(
        [
            {
                "role": "tool",
                "tool_call_id": "a",
                "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}],
            }
        ],
        [],
    )
    assert out == [{"role": "user", "content": "<tool_response>\none\ntwo\n</tool_response>"}]


def test_round_trip_history_to_text_and_back() -> None:
    calls = [
        ToolCall("c1", "write_file", {"path": "/t/a.py", "content": "def f():\n    return '<x>'\n"}),
        ToolCall("c2", "write_file", {"path": "/t/empty", "content": ""}),
        ToolCall("c3", "write_file", {"path": "/t/nl", "content": "\n\nleading and trailing\n\n"}),
        ToolCall("c4", "run_shell_command", {"command": "ls -la | grep '\"x\"'", "is_background": False}),
        ToolCall("c5", "todo_write", {"todos": [{"id": "1", "s": "日本"}], "options": {}, "ratio": 2.5}),
        ToolCall("c6", "read_file", {"path": "/p", "offset": 10, "limit": None}),
        ToolCall(
            "c7",
            "write_file",
            {"path": "/doc.md", "content": "Use </parameter> to close.\n" + call_xml("x", a="1")},
        ),
    ]
    turn = ModelTurn(text="I will do several things.", tool_calls=calls)
    rendered = render_history([turn.message()], TOOLS)
    content, parsed = parse_tool_calls(rendered[-1]["content"], TOOLS)
    assert content == "I will do several things."
    assert [(c.name, c.arguments) for c in parsed] == [(c.name, c.arguments) for c in calls]
    assert all(c.error is None and CALL_ID.match(c.id) for c in parsed)


# ---------------------------------------------------------------- parsing: the rules


def test_plain_text_is_all_content() -> None:
    assert parse_tool_calls("Just an answer.\n", TOOLS) == ("Just an answer.", [])


def test_well_formed_call_with_text_before_and_after() -> None:
    text = "Let me read it.\n\n" + call_xml("read_file", path="/a.py", offset="3") + "\nAfter text. "
    content, calls = parse_tool_calls(text, TOOLS)
    assert content == "Let me read it.\n\nAfter text."
    assert summary(calls) == [("read_file", {"path": "/a.py", "offset": 3}, None)]
    assert CALL_ID.match(calls[0].id)


def test_parallel_calls_keep_order_and_get_distinct_ids() -> None:
    text = (
        call_xml("read_file", path="/a")
        + "\n"
        + call_xml("read_file", path="/b")
        + call_xml("read_file", path="/c")
    )
    _, calls = parse_tool_calls(text, TOOLS)
    assert [c.arguments["path"] for c in calls] == ["/a", "/b", "/c"]
    assert len({c.id for c in calls}) == 3


def test_unclosed_last_block_is_accepted_but_marked_incomplete() -> None:
    text = "<tool_call>\n<function=read_file>\n<parameter=path>\n/a.py\n</parameter>\n"
    result = parse_reply(text, TOOLS)
    assert summary(result.calls) == [("read_file", {"path": "/a.py"}, None)]
    assert result.complete is False
    cut_in_value = parse_reply("<tool_call>\n<function=write_file>\n<parameter=content>\nhalf a fi", TOOLS)
    assert summary(cut_in_value.calls) == [("write_file", {"content": "half a fi"}, None)]
    assert cut_in_value.complete is False
    assert parse_reply(call_xml("read_file", path="/a"), TOOLS).complete is True


def test_missing_parameter_close_ends_at_next_parameter_function_or_end() -> None:
    text = (
        "<tool_call>\n<function=write_file>\n<parameter=path>\n/a\n<parameter=content>\nbody\n"
        "</function>\n</tool_call>"
    )
    assert summary(parse_tool_calls(text, TOOLS)[1]) == [
        ("write_file", {"path": "/a", "content": "body"}, None)
    ]
    at_end = "<tool_call>\n<function=read_file>\n<parameter=path>\n/a\n"
    assert summary(parse_tool_calls(at_end, TOOLS)[1]) == [("read_file", {"path": "/a"}, None)]
    inline = "<function=read_file><parameter=path>/a</function></tool_call>"
    assert summary(parse_tool_calls(inline, TOOLS)[1]) == [("read_file", {"path": "/a"}, None)]


def test_missing_wrapper_bare_function() -> None:
    text = "Reading.\n<function=read_file>\n<parameter=path>\n/x\n</parameter>\n</function>\nDone."
    content, calls = parse_tool_calls(text, TOOLS)
    assert content == "Reading.\n\nDone."
    assert summary(calls) == [("read_file", {"path": "/x"}, None)]
    # a stray </tool_call> after a bare function belongs to it
    content, calls = parse_tool_calls(
        "<function=read_file>\n<parameter=path>\n/x\n</parameter>\n</function>\n</tool_call>", TOOLS
    )
    assert content == "" and len(calls) == 1


def test_exactly_one_newline_is_stripped_at_each_end() -> None:
    text = "<tool_call>\n<function=write_file>\n<parameter=content>\n\n  body  \n\n</parameter>\n</function>\n</tool_call>"
    assert parse_tool_calls(text, TOOLS)[1][0].arguments == {"content": "\n  body  \n"}
    inline = "<tool_call><function=write_file><parameter=content>  x  </parameter></function></tool_call>"
    assert parse_tool_calls(inline, TOOLS)[1][0].arguments == {"content": "  x  "}
    crlf = "<tool_call>\r\n<function=write_file>\r\n<parameter=content>\r\na\r\nb\r\n</parameter>\r\n</function>\r\n</tool_call>"
    assert parse_tool_calls(crlf, TOOLS)[1][0].arguments == {"content": "a\r\nb"}


def test_type_conversion_by_schema() -> None:
    text = (
        call_xml("read_file", path="007", offset="12", limit="null")
        + call_xml("run_shell_command", command="true", is_background="True")
        + call_xml("todo_write", todos="[{'id': '1', 'done': False}]", options='{"a": 1}', ratio="3.0")
        + call_xml("read_file", offset="twelve")
    )
    _, calls = parse_tool_calls(text, TOOLS)
    assert [c.arguments for c in calls] == [
        {"path": "007", "offset": 12, "limit": None},
        {"command": "true", "is_background": True},
        {"todos": [{"id": "1", "done": False}], "options": {"a": 1}, "ratio": 3},
        {"offset": "twelve"},
    ]


def test_unknown_tool_is_returned_with_string_values() -> None:
    _, calls = parse_tool_calls(call_xml("browse", url="http://x", n="5"), TOOLS)
    assert summary(calls) == [("browse", {"url": "http://x", "n": "5"}, None)]


@pytest.mark.parametrize("name", ["read file", 'read"file', "{x}", "a'b", "", "a\tb"])
def test_bad_function_names_become_errors(name: str) -> None:
    _, calls = parse_tool_calls(call_xml(name, path="/a"), TOOLS)
    assert len(calls) == 1
    assert calls[0].error


def test_bad_parameter_names_and_duplicates_become_errors() -> None:
    _, calls = parse_tool_calls(call_xml("read_file", **{"pa th": "/a"}), TOOLS)
    assert calls[0].error and "invalid parameter name" in calls[0].error
    dup = "<tool_call>\n<function=read_file>\n<parameter=path>\na\n</parameter>\n<parameter=path>\nb\n</parameter>\n</function>\n</tool_call>"
    _, calls = parse_tool_calls(dup, TOOLS)
    assert calls[0].error and "given twice" in calls[0].error


def test_malformed_tags_become_errors_not_silence() -> None:
    _, calls = parse_tool_calls(
        "<tool_call>\n<function=read_file\n<parameter=path>\n/a\n</parameter>\n</function>\n</tool_call>",
        TOOLS,
    )
    assert len(calls) == 1 and "malformed tag" in (calls[0].error or "")
    _, calls = parse_tool_calls("<tool_call>\nread the file please\n</tool_call>", TOOLS)
    assert len(calls) == 1 and "held no <function=NAME>" in (calls[0].error or "")
    _, calls = parse_tool_calls(
        "<tool_call>\n<function=read_file>\nplease read /a\n<parameter=path>\n/a\n</parameter>\n</function>\n</tool_call>",
        TOOLS,
    )
    assert calls[0].arguments == {"path": "/a"}
    assert "unexpected text inside <function=read_file>" in (calls[0].error or "")
    _, calls = parse_tool_calls("<tool_call>\n<function=read_fi", TOOLS)
    assert "cut off" in (calls[0].error or "")
    _, calls = parse_tool_calls("Calling now.\n<tool_call>\n", TOOLS)
    assert "ended right after <tool_call>" in (calls[0].error or "")


def test_a_lone_tool_call_mention_in_prose_stays_content() -> None:
    text = "The model emits <tool_call> when it wants a tool, then waits."
    assert parse_tool_calls(text, TOOLS) == (text, [])


def test_stray_closing_tags_are_dropped() -> None:
    assert parse_tool_calls("Hello </tool_call>", TOOLS) == ("Hello", [])


def test_junk_inside_wrapper_before_function_is_dropped() -> None:
    text = "<tool_call>\nI will read it.\n<function=read_file>\n<parameter=path>\n/a\n</parameter>\n</function>\n</tool_call>"
    assert summary(parse_tool_calls(text, TOOLS)[1]) == [("read_file", {"path": "/a"}, None)]


def test_json_inside_tool_call_is_accepted() -> None:
    text = 'Sure.\n<tool_call>\n{"name": "read_file", "arguments": {"path": "/a", "offset": 2}}\n</tool_call>'
    content, calls = parse_tool_calls(text, TOOLS)
    assert content == "Sure."
    assert summary(calls) == [("read_file", {"path": "/a", "offset": 2}, None)]
    text = "<tool_call>\n{'name': 'todo_write', 'arguments': {'todos': \"[{'id': 1}]\"}}\n</tool_call>"
    assert summary(parse_tool_calls(text, TOOLS)[1]) == [("todo_write", {"todos": [{"id": 1}]}, None)]
    bad = '<tool_call>\n{"name": "read_file", "arguments": {"path": \n</tool_call>\nafter'
    content, calls = parse_tool_calls(bad, TOOLS)
    assert content == "after"
    assert len(calls) == 1 and "could not read the JSON tool call" in (calls[0].error or "")


def test_json_arguments_inside_function_block() -> None:
    text = '<tool_call>\n<function=read_file>\n{"path": "/a", "limit": 5}\n</function>\n</tool_call>'
    assert summary(parse_tool_calls(text, TOOLS)[1]) == [("read_file", {"path": "/a", "limit": 5}, None)]


def test_several_functions_in_one_wrapper() -> None:
    text = "<tool_call>\n<function=read_file>\n<parameter=path>\n/a\n</parameter>\n</function>\n<function=read_file>\n<parameter=path>\n/b\n</parameter>\n</function>\n</tool_call>"
    assert [c.arguments["path"] for c in parse_tool_calls(text, TOOLS)[1]] == ["/a", "/b"]


# ---------------------------------------------------------------- fences and backticks


@pytest.mark.parametrize("fence", ["```", "```xml", "~~~", "````", "   ```"])
def test_fenced_examples_are_content_not_calls(fence: str) -> None:
    close = fence.strip()[:4] if "````" in fence else fence.strip()[:3]
    text = f"To read a file, write:\n\n{fence}\n{call_xml('read_file', path='/etc/passwd')}\n{close}\n\nThat is the format."
    assert parse_tool_calls(text, TOOLS) == (text.strip(), [])


def test_a_real_call_after_a_fenced_example_runs() -> None:
    example = "```\n" + call_xml("read_file", path="/example") + "\n```\n"
    text = "Format:\n" + example + "Now for real:\n" + call_xml("read_file", path="/real")
    content, calls = parse_tool_calls(text, TOOLS)
    assert [c.arguments["path"] for c in calls] == ["/real"]
    assert content == ("Format:\n" + example + "Now for real:").strip()


def test_fence_rules() -> None:
    # a longer closing run closes; a shorter one or one with text after does not
    text = "````\n```\n<function=read_file>\n````\n" + call_xml("read_file", path="/r")
    assert [c.arguments for c in parse_tool_calls(text, TOOLS)[1]] == [{"path": "/r"}]
    text = "```\n``` not a close\n" + call_xml("read_file", path="/r") + "\n```"
    assert parse_tool_calls(text, TOOLS)[1] == []
    # four spaces of indent is not a fence
    text = "    ```\n" + call_xml("read_file", path="/r")
    assert len(parse_tool_calls(text, TOOLS)[1]) == 1
    # an unclosed fence runs to the end
    text = "```\n" + call_xml("read_file", path="/r")
    assert parse_tool_calls(text, TOOLS)[1] == []


def test_inline_code_mentions_are_content() -> None:
    text = "Calls start with `<tool_call>` and `<function=NAME>` tags, closed by `</function>`."
    assert parse_tool_calls(text, TOOLS) == (text, [])


# ---------------------------------------------------------------- tags inside values


def test_tags_mid_line_in_a_value_do_not_end_it() -> None:
    code = 'OPEN = "<parameter="\nCLOSE = "</parameter>"\nFN = "<function=x>"  # </function>\nTC = "</tool_call>"'
    text = call_xml("write_file", path="/p.py", content=code)
    assert summary(parse_tool_calls(text, TOOLS)[1]) == [
        ("write_file", {"path": "/p.py", "content": code}, None)
    ]


def test_a_complete_example_call_inside_a_value_is_nested_text() -> None:
    doc = "# Protocol\n\n" + call_xml("write_file", path="/inner", content="x") + "\n\nEnd of doc."
    text = "Writing docs.\n" + call_xml("write_file", path="/doc.md", content=doc)
    content, calls = parse_tool_calls(text, TOOLS)
    assert content == "Writing docs."
    assert summary(calls) == [("write_file", {"path": "/doc.md", "content": doc}, None)]


def test_closing_tag_at_line_start_followed_by_text_is_value_text() -> None:
    value = "before\n</parameter>\nstill the value"
    text = call_xml("write_file", content=value, path="/a")
    assert parse_tool_calls(text, TOOLS)[1][0].arguments == {"content": value, "path": "/a"}


def test_a_value_holding_the_whole_tools_prompt_survives() -> None:
    prompt = render_tools_prompt(TOOLS)
    text = "Saving the prompt.\n" + render_call("write_file", {"path": "/prompt.txt", "content": prompt})
    content, calls = parse_tool_calls(text, TOOLS)
    assert content == "Saving the prompt."
    assert summary(calls) == [("write_file", {"path": "/prompt.txt", "content": prompt}, None)]


def test_whitespace_after_a_closing_tag_is_fine() -> None:
    text = (
        "<tool_call>\n<function=read_file>\n<parameter=path>\n/a\n</parameter>   \n</function> \n</tool_call>"
    )
    assert summary(parse_tool_calls(text, TOOLS)[1]) == [("read_file", {"path": "/a"}, None)]


def test_undeclared_parameter_tag_at_line_start_is_value_text_when_balanced() -> None:
    value = "<parameter=other>\nnested\n</parameter>"
    text = call_xml("write_file", content=value, path="/a")
    assert parse_tool_calls(text, TOOLS)[1][0].arguments == {"content": value, "path": "/a"}


def test_unbalanced_nesting_falls_back_to_plain_closing() -> None:
    value = "<function=half_open>\nno close here"
    text = call_xml("write_file", content=value, path="/a") + "\nbye"
    content, calls = parse_tool_calls(text, TOOLS)
    assert calls[0].arguments == {"content": value, "path": "/a"}
    assert content == "bye"


def test_missing_closers_then_prose_falls_back_to_last_candidate() -> None:
    text = "<function=read_file>\n<parameter=path>\n/a\n</parameter>\nThat should do it."
    content, calls = parse_tool_calls(text, TOOLS)
    assert summary(calls) == [("read_file", {"path": "/a"}, None)]
    assert content == "That should do it."


# ---------------------------------------------------------------- near-miss tags (seen from real models)


def test_a_near_miss_parameter_tag_is_repaired_not_swallowed() -> None:
    text = (
        "<tool_call>\n<function=read_file>\n<parameter=path>\nmathutil.py\n</parameter>\n"
        "<parameter>offset>\n0\n</parameter>\n</function>\n</tool_call>"
    )
    calls = parse_tool_calls(text, TOOLS)[1]
    assert summary(calls) == [("read_file", {"path": "mathutil.py", "offset": 0}, None)]
    assert calls[0].repairs == ["read <parameter>offset> as <parameter=offset>"]


def test_other_near_miss_spellings_are_repaired() -> None:
    for tag in ("<parameter offset>", '<parameter name="offset">'):
        text = call_xml("read_file", path="/a").replace("</function>", f"{tag}\n7\n</parameter>\n</function>")
        assert parse_tool_calls(text, TOOLS)[1][0].arguments == {"path": "/a", "offset": 7}, tag


def test_a_value_that_swallowed_markup_is_an_error_for_the_model() -> None:
    text = (
        "<tool_call>\n<function=run_shell_command>\n<parameter=command>\necho hi\n</parameter>\n"
        "<parameter>\n5\n</parameter>\n</function>\n</tool_call>"
    )
    call = parse_tool_calls(text, TOOLS)[1][0]
    assert call.error is not None and "protocol's own tag </parameter>" in call.error
    assert "<parameter=KEY>" in call.error  # the model is told the format

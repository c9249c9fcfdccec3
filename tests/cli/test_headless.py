"""End to end through the real ``swerve`` command against a scripted loopback model server."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time

import pytest
from cli_support import bodies, env_for, git_repo, lines, swerve, tc

from swerve.testing.openai_server import OpenAIScriptServer


def test_scripted_model_fixes_a_real_bug(tmp_path):
    repo = git_repo(tmp_path / "repo")
    script = [
        {
            "text": "Let me look.",
            "tool_calls": [tc("read_file", file_path="calc.py"), tc("read_file", file_path="test_calc.py")],
            "chunk_size": 3,
        },
        {
            "tool_calls": [
                tc("edit", file_path="calc.py", old_string="return a - b", new_string="return a + b")
            ],
            "chunk_size": 5,
        },
        {"tool_calls": [tc("run_shell_command", command="python test_calc.py")]},
        {
            "text": "Fixed: add() subtracted; it adds now and test_calc.py passes.",
            "usage": {"prompt_tokens": 900, "completion_tokens": 40},
        },
    ]
    traj = tmp_path / "traj.json"
    with OpenAIScriptServer(script) as srv:
        env = env_for(tmp_path / "home", srv.base_url)
        proc = swerve(
            [
                "-p",
                "fix the failing test",
                "--yolo",
                "--output-format",
                "stream-json",
                "--trajectory",
                str(traj),
            ],
            repo,
            env,
        )
        sent = bodies(srv)
    assert proc.returncode == 0, proc.stderr
    assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    events = lines(proc.stdout)
    assert events[0]["type"] == "system" and events[0]["subtype"] == "init"
    assert "edit" in events[0]["tools"] and events[0]["cwd"] == str(repo)
    assert [e["type"] for e in events[1:]] == [
        "assistant",
        "user",
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
        "assistant",
        "result",
    ]
    result = events[-1]
    assert result["is_error"] is False and result["subtype"] == "success" and result["num_turns"] == 4
    assert result["result"].startswith("Fixed:")
    assert result["usage"]["input_tokens"] >= 900
    shell_result = events[7]["message"]["content"][0]
    assert "ok" in shell_result["content"] and not shell_result["is_error"]
    # history on the wire: tool results answer their calls, arguments as JSON strings
    last = sent[-1]["messages"]
    assert last[0]["role"] == "system"
    calls = [m for m in last if m["role"] == "assistant" and m.get("tool_calls")]
    assert json.loads(calls[1]["tool_calls"][0]["function"]["arguments"])["new_string"] == "return a + b"
    record = json.loads(traj.read_text())
    assert record["exit_reason"] == "completed" and "+    return a + b" in record["patch"]
    assert len(record["turns"]) == 4 and record["turns"][0]["model_s"] >= 0
    everything = (
        proc.stdout + traj.read_text() + "".join(p.read_text() for p in (tmp_path / "home").rglob("*.jsonl"))
    )
    assert "sk-test-key-that-must-not-leak" not in everything


def test_first_request_is_small_and_carries_sampling_defaults(tmp_path):
    repo = git_repo(tmp_path / "repo")
    with OpenAIScriptServer([{"text": "hi"}]) as srv:
        env = env_for(tmp_path / "home", srv.base_url)
        env["OPENAI_MODEL"] = "qwen3-coder-plus"
        proc = swerve(["-p", "say hi"], repo, env)
        first = srv.completions[0]
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "hi"
    assert len(first.body) <= 12 * 1024, len(first.body)
    assert first.json["temperature"] == 0.7 and first.json["top_p"] == 0.8 and first.json["top_k"] == 20
    assert first.json["stream"] is True


def test_headless_default_mode_denies_edits_and_the_model_is_told(tmp_path):
    repo = git_repo(tmp_path / "repo")
    script = [
        {"tool_calls": [tc("write_file", file_path="new.txt", content="x")]},
        {"text": "I could not write the file."},
    ]
    with OpenAIScriptServer(script) as srv:
        proc = swerve(
            ["-p", "write new.txt", "--output-format", "json"], repo, env_for(tmp_path / "home", srv.base_url)
        )
        sent = bodies(srv)
    assert proc.returncode == 0, proc.stderr
    assert not (repo / "new.txt").exists()
    result = json.loads(proc.stdout)
    assert result["type"] == "result" and result["permission_denials"][0]["tool_name"] == "write_file"
    tool_msg = next(m for m in sent[1]["messages"] if m["role"] == "tool")
    assert "Permission denied" in tool_msg["content"] and "approval-mode" in tool_msg["content"]


def test_plan_mode_allows_reads_only(tmp_path):
    repo = git_repo(tmp_path / "repo")
    script = [
        {
            "tool_calls": [
                tc("read_file", file_path="calc.py"),
                tc("run_shell_command", command="touch hacked"),
            ]
        },
        {"text": "plan: change - to +"},
    ]
    with OpenAIScriptServer(script) as srv:
        proc = swerve(
            ["-p", "plan it", "--approval-mode", "plan", "--output-format", "json"],
            repo,
            env_for(tmp_path / "home", srv.base_url),
        )
        sent = bodies(srv)
    assert proc.returncode == 0, proc.stderr
    assert not (repo / "hacked").exists()
    tools = [m for m in sent[1]["messages"] if m["role"] == "tool"]
    assert "return a - b" in tools[0]["content"] and "plan mode" in tools[1]["content"]


def test_qwen_xml_protocol_over_a_text_only_endpoint(tmp_path):
    repo = git_repo(tmp_path / "repo")
    xml = (
        "I'll fix it.\n<tool_call>\n<function=edit>\n<parameter=file_path>\ncalc.py\n</parameter>\n"
        "<parameter=old_string>\nreturn a - b\n</parameter>\n<parameter=new_string>\nreturn a + b\n</parameter>\n"
        "</function>\n</tool_call>"
    )
    script = [{"text": xml, "chunk_size": 4}, {"text": "Done."}]
    with OpenAIScriptServer(script) as srv:
        env = env_for(tmp_path / "home", srv.base_url)
        proc = swerve(
            ["-p", "fix", "--yolo", "--tool-protocol", "qwen-xml", "--output-format", "stream-json"],
            repo,
            env,
        )
        sent = bodies(srv)
    assert proc.returncode == 0, proc.stderr
    assert "return a + b" in (repo / "calc.py").read_text()
    assert "tools" not in sent[0] or not sent[0]["tools"]
    assert "<tools>" in sent[0]["messages"][0]["content"]
    # the call went back as XML text and its result as a <tool_response> user turn
    second = sent[1]["messages"]
    assert any("<function=edit>" in (m.get("content") or "") for m in second if m["role"] == "assistant")
    assert any("<tool_response>" in (m.get("content") or "") for m in second if m["role"] == "user")
    events = lines(proc.stdout)
    first_assistant = next(e for e in events if e["type"] == "assistant")
    assert first_assistant["message"]["content"][0]["text"].strip() == "I'll fix it."
    assert first_assistant["message"]["content"][1]["input"]["new_string"] == "return a + b"


def test_xml_left_in_content_by_a_native_endpoint_is_recovered(tmp_path):
    repo = git_repo(tmp_path / "repo")
    xml = "<function=run_shell_command>\n<parameter=command>\necho recovered > out.txt\n</parameter>\n</function>"
    with OpenAIScriptServer([{"text": xml}, {"text": "ok"}]) as srv:
        proc = swerve(["-p", "go", "--yolo"], repo, env_for(tmp_path / "home", srv.base_url))
    assert proc.returncode == 0, proc.stderr
    assert (repo / "out.txt").read_text().strip() == "recovered"


def test_server_faults_are_retried_end_to_end(tmp_path):
    repo = git_repo(tmp_path / "repo")
    script = [
        {"status": 500},
        {"drop_after_chunks": 1, "text": "partial answer that is cut"},
        {"malformed_chunk": True},
        {"text": "survived"},
    ]
    with OpenAIScriptServer(script) as srv:
        env = env_for(tmp_path / "home", srv.base_url)
        env["SWERVE_RETRY_BASE_DELAY"] = "0.01"
        proc = swerve(["-p", "hi"], repo, env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "survived"


def test_dead_server_is_a_clear_error(tmp_path):
    repo = git_repo(tmp_path / "repo")
    env = env_for(tmp_path / "home", "http://127.0.0.1:9/v1")
    env["SWERVE_RETRY_BASE_DELAY"] = "0.01"
    proc = swerve(["-p", "hi", "--output-format", "json"], repo, env)
    assert proc.returncode == 1
    result = json.loads(proc.stdout)
    assert result["is_error"] and result["exit_reason"] == "model_error"
    assert "127.0.0.1:9" in result["error"]
    assert "sk-test-key" not in proc.stdout + proc.stderr


def test_loop_guard_ends_a_run_that_repeats_itself(tmp_path):
    repo = git_repo(tmp_path / "repo")
    script = [{"tool_calls": [tc("list_directory", path=".")]} for _ in range(12)]
    with OpenAIScriptServer(script) as srv:
        proc = swerve(
            ["-p", "loop", "--output-format", "json"], repo, env_for(tmp_path / "home", srv.base_url)
        )
        sent = bodies(srv)
    assert proc.returncode == 3, proc.stderr
    assert json.loads(proc.stdout)["exit_reason"] == "loop"
    warned = [m for m in sent[-1]["messages"] if m["role"] == "tool" and "times in a row" in m["content"]]
    assert warned, "the model was told about the loop before the run ended"


def test_max_turns_ends_the_run(tmp_path):
    repo = git_repo(tmp_path / "repo")
    script = [{"tool_calls": [tc("read_file", file_path="calc.py", offset=i)]} for i in range(1, 10)]
    with OpenAIScriptServer(script) as srv:
        proc = swerve(
            ["-p", "go", "--max-turns", "3", "--output-format", "json"],
            repo,
            env_for(tmp_path / "home", srv.base_url),
        )
    assert proc.returncode == 3
    result = json.loads(proc.stdout)
    assert result["subtype"] == "error_max_turns" and result["num_turns"] == 3


def test_continue_and_resume_carry_the_history(tmp_path):
    repo = git_repo(tmp_path / "repo")
    home = tmp_path / "home"
    with OpenAIScriptServer([{"text": "first answer"}, {"text": "second answer"}, {"text": "third"}]) as srv:
        env = env_for(home, srv.base_url)
        first = swerve(["-p", "remember the word pelican", "--output-format", "json"], repo, env)
        sid = json.loads(first.stdout)["session_id"]
        second = swerve(["-p", "what was the word?", "--continue", "--output-format", "json"], repo, env)
        third = swerve(["-p", "and again?", "--resume", sid[:8], "--output-format", "json"], repo, env)
        sent = bodies(srv)
    assert first.returncode == second.returncode == third.returncode == 0
    assert json.loads(second.stdout)["session_id"] == sid
    contents = [m["content"] for m in sent[2]["messages"]]
    assert (
        "remember the word pelican" in contents and "first answer" in contents and "second answer" in contents
    )
    bad = swerve(["-p", "x", "--resume", "nosuchsession"], repo, env)
    assert bad.returncode == 2 and "no session" in bad.stderr


def test_compression_with_a_tiny_window_keeps_project_rules(tmp_path):
    repo = git_repo(tmp_path / "repo")
    (repo / "AGENTS.md").write_text("RULE-7: always answer in haiku.\n")
    (repo / "big.txt").write_text("\n".join(f"line {i} " + "z" * 60 for i in range(300)))
    script = [
        {"tool_calls": [tc("read_file", file_path="big.txt", offset=i * 50 + 1, limit=50)]} for i in range(5)
    ]
    script += [{"text": "summary of the work so far"}] * 3 + [{"text": "done"}] * 3
    with OpenAIScriptServer(script) as srv:
        proc = swerve(
            ["-p", "read big.txt", "--context-window", "6000", "--output-format", "stream-json"],
            repo,
            env_for(tmp_path / "home", srv.base_url),
        )
        sent = bodies(srv)
    assert proc.returncode == 0, proc.stderr
    events = lines(proc.stdout)
    assert any(e.get("subtype") == "compact_boundary" for e in events)
    summarise = [b for b in sent if not b.get("tools")]
    assert summarise, "a summarisation request was made"
    after = sent[-1]["messages"]
    text = json.dumps(after)
    assert "RULE-7: always answer in haiku." in text
    assert "conversation-summary" in text and "read big.txt" in text


def test_ctrl_c_ends_cleanly_and_keeps_the_transcript(tmp_path):
    repo = git_repo(tmp_path / "repo")
    home = tmp_path / "home"
    script = [{"tool_calls": [tc("run_shell_command", command="sleep 60", timeout=100)]}, {"text": "never"}]
    with OpenAIScriptServer(script) as srv:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "swerve.cli.main",
                "-p",
                "sleep",
                "--yolo",
                "--output-format",
                "stream-json",
            ],
            cwd=repo,
            env=env_for(home, srv.base_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        seen = []
        for line in proc.stdout:
            seen.append(json.loads(line))
            if seen[-1]["type"] == "assistant":
                break
        time.sleep(0.5)  # let the shell command start; not an assertion
        proc.send_signal(signal.SIGINT)
        rest = proc.stdout.read()
        code = proc.wait(timeout=30)
    assert code == 130, proc.stderr.read()
    result = lines(rest)[-1]
    assert result["type"] == "result" and result["exit_reason"] == "interrupted"
    transcript = next(home.rglob("*.jsonl")).read_text()
    assert "sleep 60" in transcript and "interrupted" in transcript


def test_replay_demo_runs_offline(tmp_path):
    repo = git_repo(tmp_path / "repo")
    proc = swerve(
        ["-p", "look around", "--model", "replay:demo", "--yolo", "--output-format", "stream-json"],
        repo,
        env_for(tmp_path / "home"),
    )
    assert proc.returncode == 0, proc.stderr
    events = lines(proc.stdout)
    assert events[-1]["type"] == "result" and not events[-1]["is_error"]
    assert any(e["type"] == "user" for e in events)


def test_bad_usage_exit_codes(tmp_path):
    env = env_for(tmp_path / "home")
    proc = swerve(["-p", "hi"], tmp_path, env)
    assert proc.returncode == 2 and "OPENAI_MODEL" in proc.stderr
    proc = swerve(["-p", "", "--model", "replay:demo"], tmp_path, env, stdin="")
    assert proc.returncode == 2 and "no task" in proc.stderr
    proc = swerve(["--approval-mode", "sometimes", "-p", "x"], tmp_path, env)
    assert proc.returncode == 2


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_task_from_stdin(tmp_path, fmt):
    repo = git_repo(tmp_path / "repo")
    with OpenAIScriptServer([{"text": "from stdin"}]) as srv:
        proc = swerve(
            ["-p", "--output-format", fmt],
            repo,
            env_for(tmp_path / "home", srv.base_url),
            stdin="task on stdin",
        )
        sent = bodies(srv)
    assert proc.returncode == 0, proc.stderr
    assert "from stdin" in proc.stdout
    assert sent[0]["messages"][-1]["content"] == "task on stdin"


def test_sandbox_flag_keeps_commands_inside_the_project(tmp_path):
    repo = git_repo(tmp_path / "repo")
    outside = tmp_path / "outside.txt"
    command = f"echo inside > made.txt; echo escaped > {outside} 2>&1; echo key=$OPENAI_API_KEY"
    script = [{"tool_calls": [tc("run_shell_command", command=command)]}, {"text": "ok"}]
    with OpenAIScriptServer(script) as srv:
        proc = swerve(
            ["-p", "x", "--yolo", "--sandbox", "--output-format", "stream-json"],
            repo,
            env_for(tmp_path / "home", srv.base_url),
        )
    assert proc.returncode == 0, proc.stderr
    assert (repo / "made.txt").read_text().strip() == "inside"
    assert not outside.exists()
    shell = next(e for e in lines(proc.stdout) if e["type"] == "user")["message"]["content"][0]["content"]
    assert re.search(r"^key=$", shell, re.MULTILINE), shell  # no API key inside the sandbox

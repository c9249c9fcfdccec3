"""Project context, compression split, sessions, secrets and settings resolution."""

import json

import pytest

from swerve.agent.context import load_project_context, split_for_compression
from swerve.agent.session import SessionLog, find_session, load_messages
from swerve.config import resolve
from swerve.errors import ConfigError
from swerve.secrets import redact_obj, secret_values


def test_project_context_reads_agents_and_qwen_md_up_to_the_repo_root(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "AGENTS.md").write_text("Always use tabs.")
    sub = tmp_path / "pkg"
    sub.mkdir()
    (sub / "QWEN.md").write_text("Never touch setup.py.")
    text = load_project_context(str(sub))
    assert "Always use tabs." in text and "Never touch setup.py." in text
    assert text.index("Always use tabs.") < text.index("Never touch setup.py.")


def test_split_never_parts_a_tool_result_from_its_call():
    msgs = [{"role": "user", "content": "x" * 400}]
    for i in range(10):
        msgs.append(
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": f"c{i}",
                        "type": "function",
                        "function": {"name": "read_file", "arguments": {"file_path": "a"}},
                    }
                ],
            }
        )
        msgs.append({"role": "tool", "tool_call_id": f"c{i}", "name": "read_file", "content": "y" * 300})
    cut = split_for_compression(msgs, 0.3)
    assert 0 < cut < len(msgs)
    assert msgs[cut]["role"] != "tool"


def test_session_log_roundtrip_with_compaction_and_torn_line(tmp_path, monkeypatch):
    monkeypatch.setenv("SWERVE_HOME", str(tmp_path / "home"))
    log = SessionLog.create(str(tmp_path), {"model": "m"}, secrets=["sk-secret-value-123"])
    log.message({"role": "user", "content": "my key is sk-secret-value-123"})
    log.compaction([{"role": "system", "content": "s"}, {"role": "user", "content": "summary"}])
    log.message({"role": "assistant", "content": "ok"})
    log.close()
    with open(log.path, "a") as f:
        f.write('{"type": "message", "mess')  # a torn last line
    path = find_session(str(tmp_path), None)
    assert path == log.path
    assert find_session(str(tmp_path), log.session_id[:6]) == log.path
    messages = load_messages(path)
    assert [m["content"] for m in messages] == ["s", "summary", "ok"]
    assert "sk-secret-value-123" not in log.path.read_text()


def test_secret_values_come_from_env_names_and_are_masked():
    secrets = secret_values(
        ["given-key-000"], environ={"OPENAI_API_KEY": "sk-abcdefgh", "PATH": "/usr/bin:/bin"}
    )
    assert secrets == ["given-key-000", "sk-abcdefgh"] or set(secrets) == {"given-key-000", "sk-abcdefgh"}
    assert redact_obj({"a": ["x sk-abcdefgh y"]}, secrets) == {"a": ["x [redacted] y"]}


def test_settings_precedence_flags_env_project_user(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("SWERVE_HOME", str(home))
    (home / "settings.json").write_text(
        json.dumps(
            {
                "model": "user-model",
                "maxTurns": 7,
                "approvalMode": "plan",
                "trustedFolders": [str(tmp_path / "proj")],
            }
        )
    )
    proj = tmp_path / "proj"
    (proj / ".swerve").mkdir(parents=True)
    (proj / ".swerve" / "settings.json").write_text(
        json.dumps({"model": "project-model", "sampling": {"temperature": 0.1}})
    )
    s = resolve(str(proj), {}, env={})
    assert (s.model, s.max_turns, s.approval_mode, s.sampling["temperature"]) == (
        "project-model",
        7,
        "plan",
        0.1,
    )
    s = resolve(str(proj), {}, env={"OPENAI_MODEL": "env-model", "OPENAI_BASE_URL": "http://127.0.0.1:1/v1"})
    assert s.model == "env-model" and s.base_url == "http://127.0.0.1:1/v1" and s.provider == "openai"
    s = resolve(str(proj), {"model": "flag-model", "max_turns": None}, env={"OPENAI_MODEL": "env-model"})
    assert s.model == "flag-model" and s.max_turns == 7
    s = resolve(str(proj), {}, env={"ANTHROPIC_API_KEY": "k" * 10, "ANTHROPIC_MODEL": "claude-x"})
    assert s.provider == "anthropic" and s.api_key == "k" * 10


def test_broken_settings_file_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("SWERVE_HOME", str(tmp_path))
    (tmp_path / "settings.json").write_text('{"model": "x",,}')
    with pytest.raises(ConfigError, match=r"settings.json is not valid JSON"):
        resolve(str(tmp_path), {}, env={})
    (tmp_path / "settings.json").write_text('{"approvalMode": "sometimes"}')
    with pytest.raises(ConfigError, match="approval mode"):
        resolve(str(tmp_path), {}, env={})

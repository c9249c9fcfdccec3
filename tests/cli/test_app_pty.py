"""The real ``swerve`` app driven in a pseudo-terminal against the loopback model server.

A terminal emulator (pyte) keeps the screen and the scrollback, and answers cursor-position
queries as a real terminal does. Waits are generous; nothing here asserts on timing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect", reason="pexpect is needed to drive the app in a pty")
pyte = pytest.importorskip("pyte", reason="pyte is needed to read the app's screen")

from swerve.testing.openai_server import OpenAIScriptServer  # noqa: E402

READY = "Ask swerve anything"
ROWS, COLS = 40, 120


class Term:
    """A child process on a pty, its output fed to a terminal emulator that also answers
    cursor-position queries (as a real terminal does)."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.screen = pyte.HistoryScreen(COLS, ROWS, history=10000)
        self.stream = pyte.ByteStream(self.screen)
        self.child = pexpect.spawn(
            args[0], args[1:], cwd=str(cwd), env=env, dimensions=(ROWS, COLS), echo=False
        )
        self.child.delaybeforesend = None  # pexpect sleeps 50 ms before each send by default
        self.screen.write_process_input = self._answer
        self.log = b""

    def _answer(self, data: str) -> None:
        if self.child.isalive():
            self.child.send(data)

    def pump(self, timeout: float = 0.05) -> bool:
        """Read what the child printed; False once it has exited."""
        try:
            data = self.child.read_nonblocking(65536, timeout=timeout)
        except pexpect.TIMEOUT:
            return True
        except pexpect.EOF:
            return False
        self.log += data
        self.stream.feed(data)
        return True

    def text(self) -> str:
        rows = []
        for line in self.screen.history.top:
            rows.append("".join(line[x].data for x in sorted(line)).rstrip())
        rows += [row.rstrip() for row in self.screen.display]
        return "\n".join(rows)

    def wait(self, needle: str | re.Pattern[str], timeout: float = 60) -> str:
        """Wait until ``needle`` is on the screen (or in the scrollback); returns the screen."""
        deadline = time.monotonic() + timeout
        alive = True
        while time.monotonic() < deadline:
            text = self.text()
            found = needle.search(text) if isinstance(needle, re.Pattern) else needle in text
            if found:
                return text
            if not alive:
                break
            alive = self.pump()
        raise AssertionError(f"did not see {needle!r} within {timeout} s; the screen:\n{self.text()}")

    def settle(self, seconds: float = 0.3) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.pump():
            pass

    def send(self, text: str) -> None:
        self.child.send(text)

    def type_line(self, text: str) -> None:
        """Type ``text`` and press Enter once the text is echoed in the input box."""
        self.child.send(text)
        self.wait(text.splitlines()[-1][-40:])
        self.child.send("\r")

    def quit(self) -> str:
        """Ctrl-C twice; returns the final screen."""
        self.child.send("\x03")
        self.wait("Ctrl-C again")
        self.child.send("\x03")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.pump():
            pass
        self.child.close(force=True)
        return self.text()

    def close(self) -> None:
        if self.child.isalive():
            self.child.close(force=True)


def app_env(home: Path, base_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_"))}
    env.update(HOME=str(home), SWERVE_HOME=str(home), TERM="xterm-256color", COLUMNS=str(COLS))
    env.pop("NO_COLOR", None)
    if base_url:
        env.update(OPENAI_BASE_URL=base_url, OPENAI_API_KEY="sk-test", OPENAI_MODEL="test-model")
    return env


def start_app(cwd: Path, env: dict[str, str], *args: str) -> Term:
    """The app, once its prompt is up and (with a model configured) its session is open."""
    term = Term([sys.executable, "-m", "swerve.cli.main", *args], cwd, env)
    term.wait(READY)
    if "OPENAI_BASE_URL" in env:
        term.wait("· context ")  # the status line shows the context once the session is open
    return term


BUGGY = "def add(a, b):\n    return a - b\n"


def project(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "calc.py").write_text(BUGGY)
    subprocess.run(["git", "init", "-q"], cwd=path, check=True)
    return path


def tc(name: str, **arguments: object) -> dict:
    return {"name": name, "arguments": arguments}


def sent_messages(srv: OpenAIScriptServer) -> list[list[dict]]:
    return [r.json["messages"] for r in srv.requests if r.path.endswith("/chat/completions")]


def tool_messages(srv: OpenAIScriptServer) -> list[str]:
    return [m["content"] for msgs in sent_messages(srv) for m in msgs if m["role"] == "tool"]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def terms():
    started: list[Term] = []
    yield started
    for term in started:
        term.close()


def test_prompt_gets_a_streamed_markdown_answer(tmp_path, home, terms):
    todos = [
        {"id": "1", "content": "look around", "status": "completed"},
        {"id": "2", "content": "say hello", "status": "in_progress"},
    ]
    script = [
        {"tool_calls": [tc("todo_write", todos=todos)]},
        {"text": "Hello **there**, streaming.\n\n- one\n- two\n\nAll done here.", "chunk_size": 3},
    ]
    with OpenAIScriptServer(script) as srv:
        term = start_app(project(tmp_path / "p"), app_env(home, srv.base_url))
        terms.append(term)
        term.type_line("say\\")  # a trailing backslash continues on a new line
        term.send("\x1b[13;2u")  # Shift+Enter (CSI u) adds another line
        term.type_line("hello")
        screen = term.wait("All done here.")
        assert "Hello there, streaming." in screen  # markdown rendered: no asterisks
        assert "• one" in screen
        assert "Todos (1/2 done)" in screen and "◐ say hello" in screen
        assert sent_messages(srv)[0][-1] == {"role": "user", "content": "say\n\nhello"}
        term.type_line("/todo")
        term.wait(re.compile(r"Todos \(1/2 done\)(.|\n)*Todos \(1/2 done\)"))
        final = term.quit()
    assert "Resume it with: swerve --resume" in final


def test_edit_is_shown_as_a_diff_approved_then_restored(tmp_path, home, terms):
    repo = project(tmp_path / "p")
    script = [
        {
            "tool_calls": [
                tc("edit", file_path="calc.py", old_string="return a - b", new_string="return a + b")
            ]
        },
        {"text": "Fixed the sign."},
    ]
    with OpenAIScriptServer(script) as srv:
        term = start_app(repo, app_env(home, srv.base_url))
        terms.append(term)
        term.type_line("fix add")
        screen = term.wait("Allow this edit?")
        assert "-    return a - b" in screen and "+    return a + b" in screen
        term.send("1")
        term.wait("Fixed the sign.")
        assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
        term.type_line("/restore")
        term.wait(re.compile(r"1\. \w+ .*before edit calc.py"))
        term.type_line("/restore 1")
        term.wait("restored checkpoint")
        term.wait("conversation restored")
        assert (repo / "calc.py").read_text() == BUGGY
        term.type_line("and now?")
        term.wait("done")  # the script server's answer once the script has run out
        last = sent_messages(srv)[-1]
        assert not any("Fixed the sign." in str(m.get("content")) for m in last)
        assert any("restored the checkpoint" in str(m.get("content")) for m in last if m["role"] == "tool")
    assert not (repo / ".git" / "refs" / "heads" / "master").exists()  # the project's git is untouched


def test_denied_command_sends_the_reason_to_the_model(tmp_path, home, terms):
    script = [
        {"tool_calls": [tc("run_shell_command", command="rm -rf build && make")]},
        {"text": "Understood, not deleting."},
    ]
    with OpenAIScriptServer(script) as srv:
        term = start_app(project(tmp_path / "p"), app_env(home, srv.base_url))
        terms.append(term)
        term.type_line("rebuild")
        screen = term.wait("Run this command?")
        assert "$ rm -rf build && make" in screen
        assert "commands starting with `rm`, `make`" in screen
        term.send("3")
        term.wait("reason>")
        term.type_line("use make clean instead")
        term.wait("Understood, not deleting.")
        results = tool_messages(srv)
    assert any("use make clean instead" in r and "Permission denied" in r for r in results), results


def test_esc_interrupts_a_long_turn(tmp_path, home, terms):
    script = [{"text": "too late", "delay_s": 60}, {"text": "Second answer arrived."}]
    with OpenAIScriptServer(script) as srv:
        term = start_app(project(tmp_path / "p"), app_env(home, srv.base_url))
        terms.append(term)
        term.type_line("take your time")
        term.wait("esc to interrupt")
        term.send("\x1b")
        term.wait("Interrupted.")
        term.type_line("try again")
        screen = term.wait("Second answer arrived.")
    assert "too late" not in screen


def test_resume_a_session(tmp_path, home, terms):
    repo = project(tmp_path / "p")
    with OpenAIScriptServer([{"text": "Noted the kiwi."}, {"text": "It was kiwi."}]) as srv:
        env = app_env(home, srv.base_url)
        term = start_app(repo, env)
        terms.append(term)
        term.type_line("remember the word kiwi")
        term.wait("Noted the kiwi.")
        final = term.quit()
        session_id = re.search(r"swerve --resume (\w+)", final).group(1)
        again = start_app(repo, env, "--resume", session_id)
        terms.append(again)
        again.wait("resumed session " + session_id)
        screen = again.text()
        assert "remember the word kiwi" in screen and "Noted the kiwi." in screen
        again.type_line("which word?")
        again.wait("It was kiwi.")
        last = sent_messages(srv)[-1]
    assert [m["content"] for m in last if m["role"] == "user"] == ["remember the word kiwi", "which word?"]


MCP_SERVER = """
try:
    from mcp.server.mcpserver import MCPServer
except ImportError:
    from mcp.server.fastmcp import FastMCP as MCPServer

server = MCPServer("demo")


@server.tool()
def add(a: int, b: int) -> str:
    \"\"\"Add two integers.\"\"\"
    return f"the sum is {a + b}"


server.run("stdio")
"""


def test_tool_of_a_real_mcp_server(tmp_path, home, terms):
    pytest.importorskip("mcp", reason="the mcp package is not installed")
    repo = project(tmp_path / "p")
    (tmp_path / "demo_server.py").write_text(MCP_SERVER)
    (repo / ".swerve").mkdir()
    settings = {
        "mcpServers": {"demo": {"command": sys.executable, "args": [str(tmp_path / "demo_server.py")]}}
    }
    (repo / ".swerve" / "settings.json").write_text(json.dumps(settings))
    script = [{"tool_calls": [tc("mcp__demo__add", a=2, b=40)]}, {"text": "It is 42."}]
    with OpenAIScriptServer(script) as srv:
        term = Term([sys.executable, "-m", "swerve.cli.main"], repo, app_env(home, srv.base_url))
        terms.append(term)
        term.wait("Trust this folder?", timeout=60)  # a project's settings apply only when trusted
        term.send("1")
        term.wait(f"start the MCP server 'demo': {sys.executable}", timeout=30)  # its exact command
        term.send("1")
        term.wait("MCP servers connected: demo (1 tools)", timeout=60)
        term.type_line("add 2 and 40")
        term.wait("Allow mcp__demo__add?")
        term.send("2")
        term.wait("It is 42.")
        tools = [t["function"]["name"] for t in srv.completions[0].json["tools"]]
        results = tool_messages(srv)
    assert "mcp__demo__add" in tools
    assert results == ["the sum is 42"]


def test_commands_modes_shell_and_mentions(tmp_path, home, terms):
    repo = project(tmp_path / "p")
    (repo / ".swerve" / "commands").mkdir(parents=True)
    (repo / ".swerve" / "commands" / "greet.md").write_text(
        "---\ndescription: greet someone\n---\nSay hi to {{args}}.\n"
    )
    with OpenAIScriptServer([{"text": "Read it."}, {"text": "Hi Bob!"}]) as srv:
        term = start_app(repo, app_env(home, srv.base_url))
        terms.append(term)
        term.wait("default mode")
        term.send("\x1b[Z")  # Shift+Tab
        term.wait("auto-edit mode")
        term.type_line("/approval-mode plan")
        term.wait("plan mode")
        term.type_line("!echo shell-says-$((40+2))")
        term.wait("shell-says-42")
        term.send("look at @cal")
        term.wait("calc.py")
        term.send("\t")
        term.wait("> look at @calc.py")
        term.send(" please")
        term.wait("> look at @calc.py please")
        term.send("\r")
        term.wait("attached calc.py (2 lines)")
        term.wait("Read it.")
        term.type_line("/greet Bob")
        term.wait("Hi Bob!")
        term.type_line("/init")
        term.wait("wrote")
        term.type_line("/stats")
        term.wait(re.compile(r"test-model\s+│?\s*2"))
        first, second = sent_messages(srv)[:2]
    prompt = first[-1]["content"]
    assert "shell-says-42" in prompt and '<file path="calc.py">' in prompt and "return a - b" in prompt
    assert second[-1]["content"] == "Say hi to Bob."
    assert (repo / "AGENTS.md").read_text().startswith("# p")


def test_missing_model_is_explained(tmp_path, home, terms):
    term = start_app(project(tmp_path / "p"), app_env(home, None))
    terms.append(term)
    term.wait("No model is configured")
    screen = term.wait("settings.json")  # the help's later lines may come in a later write
    assert "OPENAI_BASE_URL" in screen
    term.type_line("hello?")
    term.wait("/model NAME --base-url URL")
    with OpenAIScriptServer([{"text": "Now I can answer."}]) as srv:
        term.type_line(f"/model local-model --base-url {srv.base_url}")
        term.wait("using local-model")
        term.wait("local-model · context")
        term.type_line("and now?")
        term.wait("Now I can answer.")
        assert srv.completions[-1].json["model"] == "local-model"

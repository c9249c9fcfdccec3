"""run_shell_command, read_background_output and todo_write."""

import asyncio
import sys
from pathlib import Path

import pytest

from swerve.errors import ToolError
from swerve.sandbox.proctree import is_alive
from swerve.tools.shell import timeout_seconds
from swerve.tools.todo import TODOS_KEY


async def eventually(predicate, what: str, deadline_s: float = 20.0) -> None:
    """Poll until ``predicate()`` holds; fail naming ``what`` if it never does."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline_s
    while not predicate():
        if loop.time() > end:
            pytest.fail(f"never happened: {what}")
        await asyncio.sleep(0.05)


async def test_output_is_merged_in_order_with_the_exit_code(call):
    result = await call("run_shell_command", command="echo a; echo b >&2; echo c; exit 4", description="demo")
    assert not result.is_error
    assert result.output == "a\nb\nc\n[Exit code: 4]"
    result = await call("run_shell_command", command="true")
    assert result.output == "(no output)\n[Exit code: 0]"
    result = await call("run_shell_command", command="printf 'no newline'")
    assert result.output == "no newline\n[Exit code: 0]"


async def test_runs_in_the_workspace_root(call, root: Path):
    result = await call("run_shell_command", command="pwd")
    assert result.output.splitlines()[0] == str(root)


async def test_timeout_kills_the_tree_and_says_so(call, root: Path):
    script = (
        f"setsid sleep 300 & echo $! > daemon.pid; "
        f"{sys.executable} -c 'import os, time\n"
        f"if os.fork(): os._exit(0)\n"
        f"os.setsid()\n"
        f"if os.fork(): os._exit(0)\n"
        f'open("forked.pid", "w").write(str(os.getpid())); time.sleep(300)\' ; '
        "until [ -s forked.pid ]; do sleep 0.05; done; echo started; sleep 300"
    )
    result = await call("run_shell_command", command=script, timeout=4)
    assert result.is_error
    assert result.output.startswith("started\n")
    assert result.output.endswith(
        "[Timed out after 4 s: the command and every process it started were killed.]"
    )
    for name in ("daemon.pid", "forked.pid"):
        pid = int((root / name).read_text())
        await eventually(lambda pid=pid: not is_alive(pid), f"process from {name} gone")


async def test_huge_output_is_bounded(call):
    result = await call("run_shell_command", command="seq 1 300000")
    assert len(result.output) < 26_000
    assert result.output.startswith("1\n2\n3\n")
    assert "omitted" in result.output
    assert result.output.endswith("300000\n[Exit code: 0]")


def test_timeout_rules():
    assert timeout_seconds(None) == 120
    assert timeout_seconds(5) == 5
    assert timeout_seconds(900) == 600  # more than the cap
    assert timeout_seconds(3_600_000) == 600
    assert timeout_seconds(30_000) == 30  # milliseconds, as some models send them
    with pytest.raises(ToolError):
        timeout_seconds(0)


async def test_background_job_output_can_be_read_and_the_job_killed(call, ctx, root: Path):
    result = await call(
        "run_shell_command", command="echo ready; echo $$ > job.pid; sleep 300 & wait", is_background=True
    )
    assert not result.is_error
    assert result.output.startswith("Started background job bg1: ")
    assert 'read_background_output(job_id="bg1")' in result.output
    job = ctx.state["background_jobs"]["bg1"]
    await eventually(lambda: "ready" in job.output(), "job printed 'ready'")
    result = await call("read_background_output", job_id="bg1")
    assert result.output.startswith("Job bg1 (running): echo ready;")
    assert result.output.endswith("\nready")
    listing = await call("read_background_output")
    assert listing.output.startswith("bg1: running: echo ready")
    pid = int((root / "job.pid").read_text())
    result = await call("read_background_output", job_id="bg1", kill=True)
    assert "(exited with code 137)" in result.output and "ready" in result.output
    await eventually(lambda: not is_alive(pid), "killed job gone")
    result = await call("read_background_output", job_id="bg9")
    assert result.is_error and "no background job 'bg9'; jobs: bg1" in result.output


async def test_todo_write_stores_and_renders(call, ctx):
    todos = [
        {"id": "1", "content": "Read the code", "status": "completed"},
        {"id": "2", "content": "Fix the bug", "status": "in_progress"},
        {"id": "3", "content": "Run the tests", "status": "pending"},
    ]
    result = await call("todo_write", todos=todos)
    assert not result.is_error
    assert result.output == (
        "Todo list (1/3 completed):\n[x] 1. Read the code\n[>] 2. Fix the bug\n[ ] 3. Run the tests"
    )
    assert ctx.state[TODOS_KEY] == todos
    assert result.display == {"type": "todos", "todos": todos}
    result = await call("todo_write", todos=[{**t, "status": "in_progress"} for t in todos])
    assert not result.is_error and "more than one item is in_progress" in result.output


@pytest.mark.parametrize(
    ("todos", "needle"),
    [
        (
            [{"id": "1", "content": "x", "status": "done"}],
            'must be one of "pending", "in_progress", "completed"',
        ),
        ([{"id": "1", "content": "x"}], "missing required parameter 'todos[0].status'"),
        ([{"id": "1", "content": "x", "status": "pending"}] * 2, "used twice"),
        ([{"id": "1", "content": "  ", "status": "pending"}], "non-empty id and content"),
        ("not a list", "must be an array"),
    ],
)
async def test_todo_write_validation(call, ctx, todos, needle):
    result = await call("todo_write", todos=todos)
    assert result.is_error and needle in result.output
    assert TODOS_KEY not in ctx.state

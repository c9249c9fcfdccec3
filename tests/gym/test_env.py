"""The farm's environments with real sandboxes: directories with a verification command, and the
calculator task graded by the real evaluation harness."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from pathlib import Path

import pytest
from calc_project import CALC
from ns_support import host_mounts_with, host_processes_with

from swerve.errors import InfraError
from swerve.eval.harness import EvalOptions, Harness
from swerve.eval.sandboxes import sandbox_named
from swerve.gym.env import DirectoryEnv, LayerCache, TaskEnv
from swerve.gym.gated import GatedWorkspace
from swerve.models.base import ToolCall
from swerve.sandbox.host import HostWorkspace

pytestmark = pytest.mark.timeout(120)

VERIFY = "test -f answer.txt && grep -qx 42 answer.txt"


def call(name: str, **arguments) -> ToolCall:
    return ToolCall(f"c-{name}", name, arguments)


def shell(command: str, **more) -> ToolCall:
    return call("run_shell_command", command=command, **more)


def directory_env(path: Path, verify: str = VERIFY, **kw) -> DirectoryEnv:
    return DirectoryEnv("t-1", str(path), verify, prompt="Write 42 to answer.txt.", **kw)


# -- directory environments ---------------------------------------------------------------------


async def test_steps_change_the_copy_and_verify_rewards_the_final_state(
    namespaces_available, start_dir
) -> None:
    env = directory_env(start_dir)
    try:
        assert await env.reset() == "Write 42 to answer.txt."
        assert env.workspace.root == str(start_dir)
        assert env.tools is not None and env.context is not None and env.context.workspace is env.workspace

        first = await env.verify()
        assert (first.reward, first.resolved, first.tests_status) == (0.0, False, {"exit_code": 1})
        assert first.report["outcome"] == "unresolved"

        wrote = await env.step(call("write_file", file_path="answer.sh", content="echo 42 > answer.txt\n"))
        assert not wrote.is_error, wrote.observation
        ran = await env.step(shell("sh answer.sh && sh greet.sh"))
        assert not ran.is_error and "hello" in ran.observation and "[Exit code: 0]" in ran.observation
        assert ran.seconds > 0

        passed = await env.verify()
        assert (passed.reward, passed.resolved, passed.tests_status) == (1.0, True, {"exit_code": 0})
        assert passed.report["command"] == VERIFY and "total_s" in passed.report["timings"]

        await env.step(shell("echo 41 > answer.txt"))
        assert (await env.verify()).reward == 0.0
        # the starting directory itself is never written
        assert sorted(p.name for p in start_dir.iterdir()) == ["greet.sh", "notes.txt"]
    finally:
        await env.close()


async def test_verification_runs_in_a_copy_neither_side_can_change(namespaces_available, start_dir) -> None:
    env = directory_env(start_dir, "echo checked > verified.txt; cat notes.txt")
    try:
        await env.reset()
        await env.step(shell("echo second line >> notes.txt"))
        verdict = await env.verify()
        assert verdict.reward == 1.0
        assert verdict.report["output_tail"] == "first line\nsecond line\n"  # the agent's change is seen
        seen = await env.step(shell("ls"))
        assert "verified.txt" not in seen.observation  # the verification's writes stay in its copy

        copy = await env.fresh_copy()
        try:
            await env.step(shell("echo later > notes.txt"))
            assert (await copy.read_bytes(f"{copy.root}/notes.txt")) == b"first line\nsecond line\n"
            assert (await copy.exec("cat notes.txt")).output == "first line\nsecond line\n"
        finally:
            await copy.close()
    finally:
        await env.close()


async def test_bad_tool_calls_are_error_observations(namespaces_available, start_dir) -> None:
    env = directory_env(start_dir)
    assert (await env.step(shell("true"))).is_error  # not reset yet
    try:
        await env.reset()
        unknown = await env.step(call("no_such_tool"))
        assert unknown.is_error and "Unknown tool" in unknown.observation
        missing = await env.step(call("write_file", content="x"))
        assert missing.is_error and "file_path" in missing.observation
        garbled = await env.step(ToolCall("c-1", "run_shell_command", {}, error="the arguments are not JSON"))
        assert garbled.is_error and "not JSON" in garbled.observation
        outside = await env.step(call("read_file", file_path="/etc/hostname"))
        assert outside.is_error
        assert await env.healthy()
    finally:
        await env.close()


async def test_a_verification_that_times_out_is_reward_zero(namespaces_available, start_dir) -> None:
    env = directory_env(start_dir, "sleep 60", verify_timeout_s=0.5)
    try:
        await env.reset()
        verdict = await env.verify()
        assert verdict.reward == 0.0 and not verdict.resolved
        assert verdict.report["timed_out"] is True and verdict.report["outcome"] == "timeout"
        assert "timed out" in verdict.report["cause"]
    finally:
        await env.close()


async def test_commands_of_the_agent_are_capped_by_timeout_s(namespaces_available, start_dir) -> None:
    env = directory_env(start_dir, timeout_s=0.5)
    try:
        await env.reset()
        slow = await env.step(shell("sleep 30", timeout=120))
        assert slow.is_error and "Timed out" in slow.observation
        assert await env.healthy()
    finally:
        await env.close()


async def test_a_killed_persistent_sandbox_is_an_infra_error(namespaces_available, start_dir) -> None:
    env = directory_env(start_dir, persistent=True)
    try:
        await env.reset()
        assert not (await env.step(shell("echo 42 > answer.txt"))).is_error
        assert await env.healthy()
        marker = env.sandbox.upper_dir
        pids = host_processes_with(marker)
        assert pids, "the sandbox's init process was not found"
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        assert not await env.healthy()
        with pytest.raises(InfraError):
            await env.verify()
        assert (await env.step(shell("true"))).is_error
    finally:
        await env.close()
    assert not host_processes_with(marker)


async def test_a_stateless_sandbox_outlives_a_killed_command(namespaces_available, start_dir) -> None:
    env = directory_env(start_dir)
    try:
        await env.reset()
        marker = "sleep 987654.321"
        running = asyncio.ensure_future(env.step(shell(marker)))
        pids: list[int] = []
        for _ in range(500):
            pids = host_processes_with(marker)
            if pids:
                break
            await asyncio.sleep(0.02)
        assert pids, "the command's processes were not found"
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        result = await running
        assert result.is_error or "[Exit code: 0]" not in result.observation
        assert await env.healthy()
        await env.step(shell("echo 42 > answer.txt"))
        assert (await env.verify()).reward == 1.0
    finally:
        await env.close()


async def test_a_sandbox_whose_state_is_gone_is_an_infra_error(namespaces_available, start_dir) -> None:
    env = directory_env(start_dir)
    try:
        await env.reset()
        shutil.rmtree(os.path.dirname(env.sandbox.upper_dir))
        assert not await env.healthy()
        with pytest.raises(InfraError):
            await env.verify()
    finally:
        await env.close()


async def test_reset_of_a_missing_directory_is_an_infra_error(namespaces_available, tmp_path) -> None:
    env = directory_env(tmp_path / "missing")
    with pytest.raises(InfraError, match="missing"):
        await env.reset()
    await env.close()


async def test_close_leaves_no_process_mount_or_directory(namespaces_available, start_dir) -> None:
    env = directory_env(start_dir, persistent=True)
    await env.reset()
    await env.step(shell("echo 42 > answer.txt"))
    await env.step(shell("sleep 600", is_background=True))
    state = os.path.dirname(env.sandbox.upper_dir)
    assert os.path.isdir(state) and host_processes_with(state)
    await env.verify()
    await env.close()
    await env.close()  # twice is fine
    assert not os.path.exists(state)
    assert not host_processes_with(state)
    assert host_mounts_with(state) == 0
    assert not await env.healthy()


async def test_reset_again_starts_from_the_starting_state(namespaces_available, start_dir) -> None:
    env = directory_env(start_dir)
    try:
        await env.reset()
        await env.step(shell("echo 42 > answer.txt"))
        first = os.path.dirname(env.sandbox.upper_dir)
        await env.reset()
        assert not os.path.exists(first)
        assert (await env.verify()).reward == 0.0
    finally:
        await env.close()


# -- the gate ---------------------------------------------------------------------------------------


async def test_the_gate_bounds_commands_and_the_view_narrows_the_workspace(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    inner = HostWorkspace(str(tmp_path))
    gated = GatedWorkspace(
        inner, asyncio.Semaphore(1), root=str(tmp_path / "sub"), env={"GREETING": "hi"}, max_timeout_s=0.5
    )
    # both succeed only when they never overlap: the second mkdir fails while the first holds it
    exclusive = "mkdir ../held && sleep 0.3 && rmdir ../held"
    results = await asyncio.gather(gated.exec(exclusive), gated.exec(exclusive), gated.exec(exclusive))
    assert [r.exit_code for r in results] == [0, 0, 0], [r.output for r in results]
    here = await gated.exec('pwd; echo "$GREETING"')
    assert here.output == f"{tmp_path / 'sub'}\nhi\n"
    assert (await gated.exec("echo $GREETING", env={"GREETING": "own"})).output == "own\n"
    assert (await gated.exec("sleep 10", timeout=60)).timed_out
    assert gated.root == str(tmp_path / "sub") and gated.output_limit_bytes == inner.output_limit_bytes
    await gated.write_bytes(str(tmp_path / "sub" / "f"), b"x")
    assert await gated.read_bytes(str(tmp_path / "sub" / "f")) == b"x"


# -- tasks -------------------------------------------------------------------------------------------


def fix_add() -> ToolCall:
    """The calculator task's fix, as the agent's edit."""
    return call(
        "edit",
        file_path="calc.py",
        old_string="    return a - b\n\n\ndef sub",
        new_string="    return a + b\n\n\ndef sub",
    )


def task_harness(calc_repo, env_cache: Path, sandbox: str = "namespace") -> Harness:
    repos, _ = calc_repo
    options = EvalOptions(run_id="gym", repos=[str(repos)], cache=env_cache, sandbox=sandbox_named(sandbox))
    return Harness(options)


async def test_task_env_gold_change_through_steps_resolves(
    namespaces_available, calc_repo, env_cache, calc_task, tmp_path
) -> None:
    harness = task_harness(calc_repo, env_cache)
    env = TaskEnv(calc_task(), harness, log_dir=tmp_path / "logs", layers=LayerCache(harness))
    try:
        assert await env.reset() == "add() subtracts"
        assert env.workspace.root == env.testbed and env.testbed.endswith("/testbed")
        listed = await env.step(call("list_directory", path="."))
        assert "calc.py" in listed.observation
        which = await env.step(
            shell("command -v python; python -c 'import pytest; print(pytest.__version__)'")
        )
        assert "/venv/bin/python" in which.observation and "8.3.3" in which.observation
        # the agent runs the tests (leaving __pycache__ behind), fixes the bug, adds a file
        await env.step(shell("python -m pytest -q -p no:cacheprovider"))
        fixed = await env.step(fix_add())
        assert not fixed.is_error, fixed.observation
        await env.step(call("write_file", file_path="NOTES.md", content="fixed add\n"))
        verdict = await env.verify()
        assert (verdict.reward, verdict.resolved) == (1.0, True), verdict.report
        assert verdict.report["outcome"] == "resolved"
        assert verdict.tests_status["FAIL_TO_PASS"]["success"] == ["tests/test_calc.py::test_add"]
        assert "+    return a + b" in env.patch and "b/NOTES.md" in env.patch
        assert "__pycache__" not in env.patch and ".pyc" not in env.patch
        assert (tmp_path / "logs" / "report.json").is_file()
        assert "passed" in verdict.report["output_tail"]
        # grading happened elsewhere: the agent's checkout holds no test patch
        tests = await env.step(call("read_file", file_path="tests/test_calc.py"))
        assert "test_add" not in tests.observation
    finally:
        await env.close()


async def test_task_env_without_a_change_or_with_a_wrong_one_is_reward_zero(
    namespaces_available, calc_repo, env_cache, calc_task
) -> None:
    harness = task_harness(calc_repo, env_cache)
    layers = LayerCache(harness)
    env = TaskEnv(calc_task(), harness, layers=layers)
    try:
        await env.reset()
        untouched = await env.verify()
        assert (untouched.reward, untouched.report["outcome"]) == (0.0, "empty_patch")
        assert env.patch == ""
        await env.step(call("write_file", file_path="calc.py", content=CALC.replace("a * b", "a ** b")))
        wrong = await env.verify()
        assert (wrong.reward, wrong.report["outcome"]) == (0.0, "unresolved")
        assert wrong.tests_status["FAIL_TO_PASS"]["failure"] == ["tests/test_calc.py::test_add"]
        assert wrong.report["log_dir"] == ""
    finally:
        await env.close()
    # a second environment of the same task reuses the prepared layer and starts clean
    again = TaskEnv(calc_task(), harness, layers=layers)
    try:
        await again.reset()
        assert "a * b" in (await again.step(call("read_file", file_path="calc.py"))).observation
    finally:
        await again.close()


async def test_task_env_that_cannot_be_built_is_an_infra_error(
    namespaces_available, calc_repo, env_cache, calc_task
) -> None:
    env = TaskEnv(calc_task(env=None), task_harness(calc_repo, env_cache))
    with pytest.raises(InfraError, match="environment unavailable"):
        await env.reset()
    assert env.sandbox is None
    missing = TaskEnv(calc_task(repo="demo/missing"), task_harness(calc_repo, env_cache))
    with pytest.raises(InfraError, match="environment unavailable"):
        await missing.reset()


async def test_task_env_on_the_host_sandbox(calc_repo, env_cache, calc_task) -> None:
    harness = task_harness(calc_repo, env_cache, "host")
    env = TaskEnv(calc_task(), harness, layers=LayerCache(harness))
    try:
        await env.reset()
        private = list(env._scratch)
        assert private and private[0].is_dir()
        await env.step(fix_add())
        assert (await env.verify()).reward == 1.0
    finally:
        await env.close()
    assert not private[0].exists()


async def test_a_same_size_edit_in_the_checkouts_racy_second_is_in_the_patch(
    calc_repo, env_cache, calc_task
) -> None:
    # git trusts an index entry whose stat data match the file unless the index is no newer than
    # the file (racily clean). The diff works on a copy of the index: the copy keeps its mtime.
    harness = task_harness(calc_repo, env_cache, "host")
    env = TaskEnv(calc_task(), harness, layers=LayerCache(harness))
    racy = "touch -m -d @1577836800"
    try:
        await env.reset()
        setup = await env.step(
            shell(
                f"git config core.trustctime false && {racy} calc.py && git update-index -q --refresh"
                f' && {racy} "$(git rev-parse --git-path index)"'
            )
        )
        assert not setup.is_error, setup.observation
        await env.step(fix_add())
        assert not (await env.step(shell(f"{racy} calc.py"))).is_error
        assert (await env.verify()).reward == 1.0
        assert "+    return a + b" in env.patch
    finally:
        await env.close()


async def test_the_environment_runs_the_hosts_python_and_gives_a_real_patch(
    namespaces_available, start_dir
) -> None:
    import subprocess

    which = "python3 -c 'import sys; print(sys.base_prefix)'"
    host = subprocess.run(["bash", "-c", which], capture_output=True, text=True, check=True).stdout.strip()
    env = directory_env(start_dir)
    try:
        await env.reset()
        ran = await env.step(shell(which))
        assert ran.observation.splitlines()[0] == host  # the host's interpreter, not a fallback
        await env.step(shell("echo 42 > answer.txt"))
        verdict = await env.verify()
        assert verdict.reward == 1.0
        assert "+++ b/answer.txt" in env.patch and "+42" in env.patch  # not a git tree: still a diff
    finally:
        await env.close()


async def test_a_verifier_that_cannot_run_its_tests_is_an_infra_error(
    namespaces_available, start_dir
) -> None:
    for verify in (
        "no-such-test-runner -q",
        "python3 -m pytest_missing_runner_xyz || python3 -c 'import nose2'",
    ):
        env = directory_env(start_dir, verify)
        try:
            await env.reset()
            with pytest.raises(InfraError, match="could not run its tests"):
                await env.verify()
        finally:
            await env.close()

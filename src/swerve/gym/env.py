"""The farm's environments: a plain directory with a verification command, and a swerve Task.

Both open a fresh copy-on-write sandbox at ``reset()``, bind the terminal agent's own tools to it
(``tools``, ``context``, ``workspace``), run tool calls through them at ``step()``, and grade at
``verify()`` in a fresh copy the agent never touched.

- ``DirectoryEnv``: a namespace sandbox over a directory; ``verify()`` runs a shell command in a
  snapshot of the final state (exit 0: reward 1.0, anything else 0.0).
- ``TaskEnv``: a sandbox over the task's instance layer (built or reused by the evaluation
  harness), with the repository checkout as the workspace root and the instance venv first on
  PATH; ``verify()`` takes the diff of the checkout against its starting state and grades it
  exactly as ``swerve eval`` grades a prediction, in a fresh sandbox over the untouched layer.

Failures of the machinery (a sandbox that cannot open or died, an environment that cannot be
built, grading that could not run) raise ``InfraError``; everything the agent did ends in a reward.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from swerve.errors import InfraError, SandboxError
from swerve.gym.base import StepResult, Verification
from swerve.gym.gated import GatedWorkspace
from swerve.models.base import ToolCall
from swerve.sandbox.base import Workspace

if TYPE_CHECKING:
    from swerve.eval.harness import Harness
    from swerve.sandbox.ns import NamespaceWorkspace
    from swerve.tasks.envbuild import InstanceLayer
    from swerve.tasks.model import Task
    from swerve.tools.base import ToolContext
    from swerve.tools.registry import ToolRegistry

OUTPUT_TAIL_BYTES = 4096  # of a verification's output, kept in the verdict's report
COMMAND_TIMEOUT_S = 600.0  # the longest one command of the agent may run
VERIFY_TIMEOUT_S = 600.0
HEALTH_TIMEOUT_S = 30.0
GIT_TIMEOUT_S = 300.0
# New untracked files that are never part of a patch (caches, build by-products, patch leftovers).
JUNK_PATTERNS = (
    "__pycache__/",
    "*.pyc",
    "*.pyo",
    "*.egg-info/",
    ".eggs/",
    ".pytest_cache/",
    ".mypy_cache/",
    ".ruff_cache/",
    ".hypothesis/",
    ".tox/",
    ".nox/",
    ".coverage",
    ".coverage.*",
    "*.orig",
    "*.rej",
)
GIT_ENV = {
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_PAGER": "cat",
    "GIT_CONFIG_COUNT": "1",
    "GIT_CONFIG_KEY_0": "safe.directory",
    "GIT_CONFIG_VALUE_0": "*",
}
_STARTING_STATE = "git rev-parse --verify --quiet 'HEAD^{commit}' || exit 7\nprintf '\\0'\ngit ls-files -z --others --exclude-standard\n"
_NEW_FILES = "git ls-files -z --others --exclude-standard " + " ".join(
    f"-x {shlex.quote(p)}" for p in JUNK_PATTERNS
)
# stdin: the new files to include, NUL-separated; stdout: the diff against {base}
_DIFF = """idx=$(mktemp) || exit 3
trap 'rm -f "$idx" "$idx.err"' EXIT
gi=$(git rev-parse --git-path index) || exit 3
if [ -f "$gi" ]; then cp -p "$gi" "$idx" || exit 3; fi  # its mtime: git trusts stat data older than its index
export GIT_INDEX_FILE="$idx"
git --literal-pathspecs add --intent-to-add --pathspec-from-file=- --pathspec-file-nul >/dev/null 2>"$idx.err" \\
  || { cat "$idx.err"; exit 4; }
git diff --no-color --no-ext-diff --binary {base} -- 2>"$idx.err" || { cat "$idx.err"; exit 5; }
"""


def _tail(text: str, limit: int = OUTPUT_TAIL_BYTES) -> str:
    data = text.encode("utf-8", errors="replace")
    if len(data) <= limit:
        return text
    return "[...]" + data[-limit:].decode("utf-8", errors="replace")


class _SandboxEnv:
    """What both environments share: stepping through the tools, health, closing."""

    id: str
    prompt: str

    def __init__(self, exec_gate: asyncio.Semaphore | None) -> None:
        self.exec_gate = exec_gate
        self.sandbox: Workspace | None = None  # the sandbox itself (commands here are not gated)
        self.workspace: Workspace | None = None  # what the tools see
        self.tools: ToolRegistry | None = None
        self.context: ToolContext | None = None

    def _bind_tools(self, workspace: Workspace) -> None:
        from swerve.tools import default_tools
        from swerve.tools.base import ToolContext
        from swerve.tools.registry import ToolRegistry

        self.workspace = workspace
        self.tools = ToolRegistry(default_tools())
        self.context = ToolContext(workspace)

    def _open_sandbox(self) -> Workspace:
        if self.sandbox is None:
            raise InfraError(f"environment {self.id} is not open: call reset() first")
        return self.sandbox

    async def step(self, call: ToolCall) -> StepResult:
        """One tool call; every failure is an error observation."""
        start = time.monotonic()
        if self.tools is None or self.context is None or self.sandbox is None:
            return StepResult("The environment is not open.", is_error=True)
        try:
            result = await self.tools.call(call, self.context)
        except Exception as exc:  # the registry returns errors; this is a last guard
            name = getattr(call, "name", "the tool call")
            return StepResult(f"{name} failed: {type(exc).__name__}: {exc}", True, time.monotonic() - start)
        return StepResult(result.output, result.is_error, time.monotonic() - start)

    async def healthy(self) -> bool:
        """Whether a trivial command still runs in the sandbox."""
        if self.sandbox is None:
            return False
        try:
            ran = await self.sandbox.exec("true", timeout=HEALTH_TIMEOUT_S)
        except Exception:
            return False
        return ran.exit_code == 0 and not ran.timed_out

    async def close(self) -> None:
        """Stop and remove the sandbox; safe to call twice."""
        sandbox, self.sandbox = self.sandbox, None
        self.tools = None
        self.context = None
        if sandbox is not None:
            with contextlib.suppress(Exception):
                await sandbox.close()


# -- directories ---------------------------------------------------------------------------------


class DirectoryEnv(_SandboxEnv):
    """A namespace sandbox over ``path`` (copy-on-write: the directory is never written);
    ``verify_command`` decides the reward.

    ``timeout_s`` caps each command of the agent, ``verify_timeout_s`` the verification command
    (running past it is the agent's: reward 0). ``persistent`` keeps one init process per
    environment, so background jobs survive between steps (stateless, the default, holds no
    process while idle). ``limits`` is a ``swerve.sandbox.ns.limits.Limits``.
    """

    def __init__(
        self,
        task_id: str,
        path: str,
        verify_command: str,
        *,
        prompt: str,
        timeout_s: float = COMMAND_TIMEOUT_S,
        verify_timeout_s: float = VERIFY_TIMEOUT_S,
        network: bool = False,
        limits: Any = None,
        exec_gate: asyncio.Semaphore | None = None,
        persistent: bool = False,
    ) -> None:
        super().__init__(exec_gate)
        self.id = task_id
        self.path = str(path)
        self.verify_command = verify_command
        self.prompt = prompt
        self.timeout_s = timeout_s
        self.verify_timeout_s = verify_timeout_s
        self.network = network
        self.limits = limits
        self.persistent = persistent
        self.namespace: NamespaceWorkspace | None = None  # the sandbox, as the kind it is
        self.patch = ""  # the final state's changes against the directory, after verify

    async def reset(self) -> str:
        await self.close()
        try:
            from swerve.agent.protect import PROTECTED_PATHS
            from swerve.sandbox.ns import NamespaceWorkspace

            sandbox = await NamespaceWorkspace.create(
                [self.path],
                mode="persistent" if self.persistent else "stateless",
                network=self.network,
                host_python=True,  # the interpreter and packages the directory's tests were made with
                read_only=PROTECTED_PATHS,
                **({"limits": self.limits} if self.limits is not None else {}),
            )
        except (SandboxError, OSError, ImportError) as exc:
            raise InfraError(f"cannot open a sandbox over {self.path}: {exc}") from exc
        self.sandbox = self.namespace = sandbox
        self._bind_tools(GatedWorkspace(sandbox, self.exec_gate, max_timeout_s=self.timeout_s))
        return self.prompt

    async def fresh_copy(self) -> Workspace:
        """A new sandbox holding the current state, which later steps do not change; the caller
        closes it. Raises SandboxError when the state cannot be copied."""
        self._open_sandbox()
        assert self.namespace is not None
        return await self.namespace.snapshot()

    async def verify(self) -> Verification:
        started = time.monotonic()
        try:
            copy = await self.fresh_copy()
        except (SandboxError, OSError) as exc:
            raise InfraError(f"cannot copy the final state of {self.id}: {exc}") from exc
        copied = time.monotonic()
        try:
            try:
                ran = await copy.exec(self.verify_command, cwd=copy.root, timeout=self.verify_timeout_s)
                assert self.namespace is not None
                self.patch = await self.namespace.diff()  # against the directory (git diff in a git tree)
            except (SandboxError, OSError) as exc:
                raise InfraError(f"the verification of {self.id} could not run: {exc}") from exc
        finally:
            with contextlib.suppress(Exception):
                await copy.close()
        broken = verifier_broken(ran.exit_code, ran.output)
        if broken and not ran.timed_out:
            raise InfraError(f"the verification of {self.id} could not run its tests: {broken}")
        passed = ran.exit_code == 0 and not ran.timed_out
        report: dict[str, Any] = {
            "outcome": "resolved" if passed else ("timeout" if ran.timed_out else "unresolved"),
            "command": self.verify_command,
            "exit_code": ran.exit_code,
            "timed_out": ran.timed_out,
            "output_tail": _tail(ran.output),
            "timings": {
                "copy_s": round(copied - started, 4),
                "command_s": round(ran.duration_s, 4),
                "total_s": round(time.monotonic() - started, 4),
            },
        }
        if ran.timed_out:
            report["cause"] = f"the verification command timed out after {self.verify_timeout_s:g} s"
        return Verification(1.0 if passed else 0.0, passed, {"exit_code": ran.exit_code}, report)


# what a verifier prints when its test runner is missing, as opposed to tests that fail
_RUNNER_MISSING = re.compile(
    r"No module named '?(pytest|nose2?|unittest|hypothesis|tox)'?|"
    r"(?:^|\n)\S*: (?:line \d+: )?(pytest|python3?|tox|nosetests|npm|node|go|cargo|make): (?:command )?not found",
)


def verifier_broken(exit_code: int, output: str) -> str | None:
    """Why a verification command could not run its tests at all (an infrastructure fault, never a
    reward), or None: the shell found no such command (126/127), or the runner itself is missing."""
    if exit_code in (126, 127):
        return f"exit code {exit_code} (command not found or not executable): {_tail(output, 300)}"
    m = _RUNNER_MISSING.search(output)
    return f"{m.group(0).strip()}" if m else None


# -- tasks -----------------------------------------------------------------------------------------


class LayerCache:
    """A process's prepared instance layers, by task id (for sandboxes that share layers), so many
    episodes of one task build or look up its layers once."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self._layers: dict[str, InstanceLayer] = {}
        self._pending: dict[str, asyncio.Task[InstanceLayer]] = {}

    async def get(self, task: Task, scratch: list[Path]) -> InstanceLayer:
        """The task's layer; a private one (its folder added to ``scratch``) when the sandbox
        cannot share layers."""
        if not self.harness.sandbox.shares_layers:
            return await self.harness.prepare(task, scratch=scratch)
        layer = self._layers.get(task.id)
        if layer is not None and os.path.isdir(layer.path):
            return layer
        loop = asyncio.get_running_loop()
        pending = self._pending.get(task.id)
        if pending is None or pending.get_loop() is not loop:
            pending = loop.create_task(self.harness.prepare(task))
            self._pending[task.id] = pending
        try:
            layer = await asyncio.shield(pending)
        finally:
            if pending.done() and self._pending.get(task.id) is pending:
                del self._pending[task.id]
        self._layers[task.id] = layer
        return layer


class TaskEnv(_SandboxEnv):
    """A sandbox over ``task``'s instance layer, graded as ``swerve eval`` grades a prediction.

    ``log_dir``: where each verification writes the instance's evaluation files (test output,
    eval script, reports); None keeps them only for the verification itself. ``layers`` shares
    prepared layers between environments of one process. ``patch`` holds the diff graded by the
    last ``verify()``.
    """

    def __init__(
        self,
        task: Task,
        harness: Harness,
        *,
        exec_gate: asyncio.Semaphore | None = None,
        log_dir: str | os.PathLike[str] | None = None,
        layers: LayerCache | None = None,
        timeout_s: float = COMMAND_TIMEOUT_S,
    ) -> None:
        super().__init__(exec_gate)
        self.task = task
        self.harness = harness
        self.id = task.id
        self.prompt = task.problem_statement
        self.log_dir = Path(log_dir) if log_dir is not None else None
        self.layers = layers
        self.timeout_s = timeout_s
        self.patch = ""
        self.testbed = ""
        self._base = ""
        self._starting_untracked: frozenset[str] = frozenset()
        self._scratch: list[Path] = []

    async def reset(self) -> str:
        from swerve.errors import EnvUnavailable
        from swerve.eval.environments import SandboxUnavailable

        await self.close()
        self.patch = ""
        try:
            env = await self._open()
            await self._read_starting_state()
        except BaseException as exc:
            await self.close()
            if isinstance(exc, EnvUnavailable):
                raise InfraError(f"environment unavailable for {self.id}: {exc.cause}") from exc
            if isinstance(exc, SandboxUnavailable):
                raise InfraError(f"environment unavailable for {self.id}: {exc}") from exc
            if isinstance(exc, SandboxError | OSError):
                raise InfraError(
                    f"cannot open the environment of {self.id}: {type(exc).__name__}: {exc}"
                ) from exc
            raise
        view = GatedWorkspace(
            self._open_sandbox(), self.exec_gate, root=self.testbed, env=env, max_timeout_s=self.timeout_s
        )
        self._bind_tools(view)
        return self.prompt

    async def _open(self) -> dict[str, str]:
        """Open the sandbox; returns the variables every command of the agent gets."""
        from swerve.eval.environments import provides_environment

        sandbox = self.harness.sandbox
        if provides_environment(sandbox):
            await sandbox.check()
            opened = await sandbox.open_task(self.task)
            self.sandbox, self.testbed = opened.workspace, opened.testbed
            return {}
        if self.layers is not None:
            layer = await self.layers.get(self.task, self._scratch)
        else:
            layer = await self.harness.prepare(self.task, scratch=self._scratch)
        self.sandbox = await self.harness.open(layer)
        self.testbed = layer.testbed
        return await _activation_env(self.sandbox, layer)

    async def _read_starting_state(self) -> None:
        """The base commit and the untracked files of the starting state (not part of a patch)."""
        ran = await self._open_sandbox().exec(
            _STARTING_STATE, cwd=self.testbed, env=GIT_ENV, timeout=GIT_TIMEOUT_S
        )
        head, _, rest = ran.output.partition("\0")
        if ran.exit_code != 0 or not re.fullmatch(r"[0-9a-f]{40,64}", head.strip()):
            raise SandboxError(
                f"the checkout at {self.testbed} is not a git work tree: {_tail(ran.output, 500)}"
            )
        self._base = head.strip()
        self._starting_untracked = frozenset(f for f in rest.split("\0") if f)

    async def final_patch(self) -> tuple[str, str]:
        """(the diff of the checkout against its starting state, "") or ("", why it cannot be
        had) when the agent's doing broke git; raises SandboxError when the sandbox fails."""
        sandbox = self._open_sandbox()
        listed = await sandbox.exec(_NEW_FILES, cwd=self.testbed, env=GIT_ENV, timeout=GIT_TIMEOUT_S)
        if listed.exit_code != 0 or listed.timed_out:
            return "", f"cannot list the new files of the checkout: {_tail(listed.output, 500)}"
        if listed.truncated_bytes:
            return "", "the agent left too many new files to list"
        new = [f for f in listed.output.split("\0") if f and f not in self._starting_untracked]
        ran = await sandbox.exec(
            _DIFF.replace("{base}", self._base),
            cwd=self.testbed,
            env=GIT_ENV,
            timeout=GIT_TIMEOUT_S,
            stdin=b"".join(f.encode() + b"\0" for f in new),
        )
        if ran.exit_code != 0 or ran.timed_out:
            return "", f"cannot diff the checkout: {_tail(ran.output, 500)}"
        if ran.truncated_bytes:
            return (
                "",
                f"the diff is larger than the sandbox's output limit ({ran.truncated_bytes} bytes dropped)",
            )
        return ran.output, ""

    async def verify(self) -> Verification:
        from swerve.eval.reports import ENV_UNAVAILABLE, ERROR, PATCH_FAILED, RESOLVED

        started = time.monotonic()
        self._open_sandbox()
        try:
            patch, broken = await self.final_patch()
        except (SandboxError, OSError) as exc:
            raise InfraError(
                f"cannot read the final state of {self.id}: {type(exc).__name__}: {exc}"
            ) from exc
        self.patch = patch
        if broken:
            report = {
                "outcome": PATCH_FAILED,
                "cause": broken,
                "timings": {"total_s": time.monotonic() - started},
            }
            return Verification(0.0, False, {}, report)
        log_dir = self.log_dir or Path(tempfile.mkdtemp(prefix="swerve-verify-"))
        try:
            try:
                result = await self.harness.evaluate_patch(self.task, patch, log_dir)
            except (SandboxError, OSError) as exc:
                raise InfraError(f"grading {self.id} failed: {type(exc).__name__}: {exc}") from exc
            output = _read_tail(log_dir / "test_output.txt")
        finally:
            if self.log_dir is None:
                shutil.rmtree(log_dir, ignore_errors=True)
        if result.outcome in (ENV_UNAVAILABLE, ERROR):
            raise InfraError(f"grading {self.id} failed ({result.outcome}): {result.cause}")
        report = result.to_json()
        report.pop("instance_id", None)
        report.pop("model", None)
        if self.log_dir is None:
            report["log_dir"] = ""
        report["output_tail"] = output
        report["patch_bytes"] = len(patch.encode())
        report["timings"] = {**result.timings, "verify_s": round(time.monotonic() - started, 3)}
        resolved = result.outcome == RESOLVED
        return Verification(1.0 if resolved else 0.0, resolved, dict(result.tests_status), report)

    async def close(self) -> None:
        await super().close()
        scratch, self._scratch = self._scratch, []
        for path in scratch:
            await asyncio.to_thread(shutil.rmtree, path, True)


async def _activation_env(sandbox: Workspace, layer: InstanceLayer) -> dict[str, str]:
    """The variables the instance's activation script sets (the instance venv first on PATH, its
    HOME, the task's own variables), as the sandbox's shell computes them."""
    try:
        script = Path(layer.activate).read_text()
    except OSError:
        return {"VIRTUAL_ENV": layer.venv}
    names = set(re.findall(r"^export ([A-Za-z_][A-Za-z0-9_]*)=", script, re.M))
    ran = await sandbox.exec(f". {shlex.quote(layer.activate)} >/dev/null 2>&1; env -0", timeout=60)
    if ran.exit_code != 0:
        raise SandboxError(f"the instance's activation script failed: {_tail(ran.output, 500)}")
    env = {}
    for item in ran.output.split("\0"):
        key, sep, value = item.partition("=")
        if sep and key in names:
            env[key] = value
    return env


def _read_tail(path: Path, limit: int = OUTPUT_TAIL_BYTES) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - limit))
            data = f.read()
    except OSError:
        return ""
    text = data.decode("utf-8", errors="replace")
    return ("[...]" + text) if size > limit else text

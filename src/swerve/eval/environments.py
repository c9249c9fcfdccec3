"""Where evaluations run: a fresh sandbox over an instance layer.

An evaluation sandbox opens a Workspace whose root shows the instance layer (its ``lowers``) with
writes kept private, and which shows the ``expose`` paths (the env layer, the base Python)
read-only at their own paths.

- ``NamespaceSandbox`` (the default): swerve's namespace sandbox, copy-on-write, no network.
  Instance layers are cached and shared read-only by every evaluation.
- ``HostSandbox``: no isolation at all, for machines without user namespaces; every evaluation
  gets a private instance layer built for it (slower, nothing shared).
- ``SwebenchImageSandbox`` (``swerve.eval.docker_images``): SWE-bench's own prebuilt instance image
  in Docker. It brings its own environment (``provides_environment``): the harness builds no layers
  and asks it for the task's ``TaskEnvironment`` through ``open_task``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeGuard, runtime_checkable

from swerve.errors import SandboxError
from swerve.sandbox.base import Workspace

if TYPE_CHECKING:
    from swerve.tasks.model import Task

OUTPUT_LIMIT = 8 << 20  # the test log goes to a file; command output only carries the apply steps


class SandboxUnavailable(SandboxError):
    """No sandbox of this kind can run here; the message says why."""


class EvalSandbox(Protocol):
    name: str
    shares_layers: bool  # True: evaluations may share one cached instance layer (copy-on-write)

    async def check(self) -> None:
        """Raise SandboxUnavailable with the cause when this sandbox cannot run here."""
        ...

    async def open(self, lowers: list[str], root: str, expose: list[str]) -> Workspace: ...


@dataclass
class TaskEnvironment:
    """A workspace that already holds a task's environment, and where things are in it."""

    workspace: Workspace
    testbed: str  # the repository checkout: patches are applied and the eval script runs here
    run_dir: str  # a writable folder for patch.diff, eval.sh and test_output.txt
    eval_script: str  # the script to run, made for this environment


@runtime_checkable
class EnvironmentSandbox(Protocol):
    """A sandbox that brings each task's environment itself (a prebuilt image, say): the harness
    builds no layers for it and calls ``open_task`` instead of ``open``."""

    name: str
    provides_environment: bool  # True

    async def check(self) -> None: ...

    async def open_task(self, task: Task) -> TaskEnvironment:
        """A fresh environment for ``task``; raises ``EnvUnavailable`` (tasks.envbuild) or
        ``SandboxUnavailable`` with the cause when it cannot be had."""
        ...


def provides_environment(sandbox: object) -> TypeGuard[EnvironmentSandbox]:
    """True for a sandbox that opens tasks itself (``EnvironmentSandbox``)."""
    return isinstance(sandbox, EnvironmentSandbox) and bool(sandbox.provides_environment)


class NamespaceSandbox:
    """swerve's namespace sandbox in stateless mode, without network."""

    name = "namespace"
    shares_layers = True

    def __init__(self, *, limits: object | None = None, network: bool = False) -> None:
        self.limits = limits
        self.network = network
        self._checked: str | None = None

    async def check(self) -> None:
        if self._checked == "ok":
            return
        if self._checked is not None:
            raise SandboxUnavailable(self._checked)
        try:
            from swerve.sandbox.ns import workspace as namespace
        except ImportError as exc:
            self._checked = f"the namespace sandbox is not available in this build ({exc})"
            raise SandboxUnavailable(self._checked) from None
        try:
            await namespace.check_support()
        except (SandboxError, OSError) as exc:
            self._checked = f"namespace sandboxes cannot run here: {exc}"
            raise SandboxUnavailable(self._checked) from None
        self._checked = "ok"

    async def open(self, lowers: list[str], root: str, expose: list[str]) -> Workspace:
        from swerve.agent.protect import PROTECTED_PATHS
        from swerve.sandbox.ns import NamespaceWorkspace

        kwargs: dict[str, object] = {}
        if self.limits is not None:
            kwargs["limits"] = self.limits
        return await NamespaceWorkspace.create(
            lowers,
            root=root,
            mode="stateless",
            network=self.network,
            ro_binds={p: p for p in expose},
            read_only=PROTECTED_PATHS,  # what changes how git or an agent behaves, as the task has it
            output_limit_bytes=OUTPUT_LIMIT,
            **kwargs,  # type: ignore[arg-type]
        )


class HostSandbox:
    """No isolation: the layer is used in place (each evaluation gets its own layer)."""

    name = "host"
    shares_layers = False

    async def check(self) -> None:
        return None

    async def open(self, lowers: list[str], root: str, expose: list[str]) -> Workspace:
        from swerve.sandbox.host import HostWorkspace

        if not os.path.isdir(root):
            raise SandboxError(f"workspace root does not exist: {root}")
        return HostWorkspace(root, output_limit_bytes=OUTPUT_LIMIT)

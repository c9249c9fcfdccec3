"""SWE-bench's own prebuilt instance images as evaluation sandboxes (``--sandbox docker``).

Instead of swerve's env and instance layers, each evaluation runs in a fresh container of the
instance's image, laid out as SWE-bench builds them: the repository at ``/testbed`` at the base
commit, and a conda env ``testbed`` under ``/opt/miniconda3`` with the repository installed.

- The image is the instance's v5 ``image`` field when the dataset has one, else the name SWE-bench
  derives from the instance id (``swebench_image_name``):
  ``<namespace>/sweb.eval.<arch>.<instance_id>:<tag>`` with ``__`` written ``_1776_`` (Docker Hub
  allows no double underscores), all lowercase; with no namespace (``none``, images built on this
  machine) the bare ``sweb.eval.<arch>.<instance_id>:<tag>``, lowercase.
- An image that is not on the machine is pulled; when that fails too the instance is
  environment-unavailable with the cause, never unresolved. A daemon that does not answer makes
  the sandbox unavailable (``SandboxUnavailable``) with the cause.
- The eval script is the dataset's own ``eval_script`` (SWE-bench v5), run as SWE-bench runs it:
  its shebang and ``set`` line put back on top and the test command's exit status recorded after
  the end marker. A classic instance gets the script swerve generates, made for ``/testbed``
  and activating the conda env the way SWE-bench's scripts do (``source
  /opt/miniconda3/bin/activate`` then ``conda activate testbed``).

The harness shares everything else: the patch goes to ``/tmp/patch.diff`` (where SWE-bench puts
it) and is applied in SWE-bench's order in ``/testbed``, the script's stdout and stderr go to one
file, and our grader reads it. Containers get the daemon's default network, as in SWE-bench
(its eval scripts may reinstall the repository), unless asked for none.
"""

from __future__ import annotations

import asyncio
import shlex
from typing import TYPE_CHECKING, Any

from swerve.errors import EnvUnavailable, SandboxError
from swerve.eval.environments import SandboxUnavailable, TaskEnvironment
from swerve.sandbox.base import Workspace
from swerve.tasks.evalscript import generate_eval_script, with_exit_code

if TYPE_CHECKING:
    from swerve.tasks.model import Task

DEFAULT_NAMESPACE = "swebench"
DEFAULT_ARCH = "x86_64"
DEFAULT_TAG = "latest"
TESTBED = "/testbed"
RUN_DIR = "/tmp"
CONDA_ACTIVATE = "/opt/miniconda3/bin/activate"
CONDA_ENV = "testbed"
NO_NAMESPACE = ("", "none", "null")  # SWE-bench's spelling of "images built here, no registry"
LABEL_INSTANCE = "org.swerve.instance-id"
EXIT_VAR = "SWEBENCH_TEST_EXIT_CODE"
_SCRIPT_HEAD = ("#!/bin/bash", "set -uxo pipefail")
_LAYER_PLACES = ("{instance_site}", "{env_site}")  # eval_env values tied to swerve's own layers


def swebench_image_name(
    instance_id: str,
    *,
    namespace: str | None = DEFAULT_NAMESPACE,
    arch: str = DEFAULT_ARCH,
    tag: str = DEFAULT_TAG,
) -> str:
    """SWE-bench's image name for an instance (``namespace`` None or ``none``: built locally)."""
    if not instance_id:
        raise ValueError("an image name needs an instance id")
    key = f"sweb.eval.{arch}.{instance_id}:{tag}"
    if namespace is not None and namespace.strip().lower() not in NO_NAMESPACE:
        key = f"{namespace.strip().rstrip('/')}/{key}".replace("__", "_1776_")
    return key.lower()


def dataset_eval_script(script: str) -> str:
    """A dataset's own eval script as SWE-bench runs it in the image."""
    body = [line for line in script.strip("\n").split("\n") if line.strip() not in _SCRIPT_HEAD]
    return "\n".join([*_SCRIPT_HEAD, *with_exit_code(body)]) + "\n"


def _exports(task: Task) -> list[str]:
    """The task's test environment variables (those not tied to swerve's own layers)."""
    lines = []
    for key, value in task.env.eval_env if task.env else ():
        if any(place in value for place in _LAYER_PLACES):
            continue
        lines.append(f"export {key}={shlex.quote(value.replace('{testbed}', TESTBED))}")
    return lines


def swebench_eval_script(task: Task) -> str:
    """The eval script to run in the task's SWE-bench image."""
    if task.eval_script.strip():
        return dataset_eval_script(task.eval_script)
    lines = generate_eval_script(task, testbed=TESTBED, activate=CONDA_ACTIVATE).rstrip("\n").split("\n")
    activation = f"source {shlex.quote(CONDA_ACTIVATE)}"
    extra = [f"conda activate {CONDA_ENV}", *_exports(task)]
    if activation in lines:
        at = lines.index(activation) + 1
    else:  # a generator that no longer sources it: activate right after the set line
        at = next((i + 1 for i, line in enumerate(lines) if line.startswith("set ")), 0)
        extra.insert(0, activation)
    return "\n".join([*lines[:at], *extra, *lines[at:]]) + "\n"


def _explain(exc: BaseException) -> str:
    text = str(getattr(exc, "explanation", "") or exc or type(exc).__name__).strip()
    return text if len(text) <= 400 else text[:400] + "..."


class SwebenchImageSandbox:
    """Evaluations in SWE-bench's prebuilt instance images, one fresh container each.

    ``namespace``: the registry namespace of derived image names (``swebench``; None or ``none``
    for images built on this machine); ``arch`` and ``tag`` complete the name. ``pull``: try to
    pull an image that is not here. ``network``: containers get the daemon's default network, as
    in SWE-bench, whose eval scripts may reinstall the repository from PyPI (False: no network).
    ``memory_mb``: a memory limit per container. ``ttl_s``: a container nobody closes stops by
    itself after this long.
    """

    name = "docker"
    shares_layers = False
    provides_environment = True

    def __init__(
        self,
        *,
        namespace: str | None = DEFAULT_NAMESPACE,
        arch: str = DEFAULT_ARCH,
        tag: str = DEFAULT_TAG,
        pull: bool = True,
        network: bool = True,
        memory_mb: int | None = None,
        ttl_s: float = 6 * 3600,
    ) -> None:
        self.namespace = namespace
        self.arch = arch
        self.tag = tag
        self.pull = pull
        self.network = network
        self.memory_mb = memory_mb
        self.ttl_s = ttl_s
        self._api: Any = None  # docker.APIClient, once the daemon answered
        self._problem: str | None = None
        self._images: dict[str, str | None] = {}  # image -> None (here) or why it cannot be had

    # -- the daemon -----------------------------------------------------------------------

    @staticmethod
    def _connect() -> Any:
        import docker
        from docker.utils import kwargs_from_env

        kwargs = kwargs_from_env()
        where = kwargs.get("base_url") or "unix:///var/run/docker.sock"
        try:
            api = docker.APIClient(**kwargs, version="auto", timeout=300)
            api.ping()
        except Exception as exc:
            raise SandboxUnavailable(
                f"docker is not available: no Docker daemon answers at {where} ({_explain(exc)}); "
                "start one (scripts/ensure-docker.sh) or use another --sandbox"
            ) from None
        return api

    async def check(self) -> None:
        """Raise SandboxUnavailable when no Docker daemon answers (the answer is remembered)."""
        if self._api is not None:
            return
        if self._problem is not None:
            raise SandboxUnavailable(self._problem)
        try:
            import docker  # noqa: F401
        except ImportError:
            self._problem = "the docker sandbox needs the 'docker' package: pip install 'swerve[docker]'"
            raise SandboxUnavailable(self._problem) from None
        try:
            api = await asyncio.to_thread(self._connect)
        except SandboxUnavailable as exc:
            self._problem = str(exc)
            raise
        if self._api is None:
            self._api = api
        else:  # another instance connected meanwhile
            api.close()

    # -- images ---------------------------------------------------------------------------

    def image_for(self, task: Task) -> str:
        """The task's own ``image`` when it names one, else SWE-bench's name for its id."""
        image = (task.image or "").strip()
        if image:
            return image
        return swebench_image_name(task.id, namespace=self.namespace, arch=self.arch, tag=self.tag)

    def _find_or_pull(self, image: str) -> str | None:
        """None when ``image`` is here (pulling it if need be), else why it cannot be had."""
        import docker
        from docker.utils import parse_repository_tag

        api = self._api
        try:
            api.inspect_image(image)
            return None
        except docker.errors.ImageNotFound:
            pass
        except Exception as exc:
            return f"image {image} cannot be inspected: {_explain(exc)}"
        if not self.pull:
            return f"image {image} is not available locally (pulling is off)"
        try:
            repo, tag = parse_repository_tag(image)
            for event in api.pull(repo, tag=tag or DEFAULT_TAG, stream=True, decode=True):
                if isinstance(event, dict) and event.get("error"):
                    raise SandboxError(str(event["error"]))
            api.inspect_image(image)
        except Exception as exc:
            return f"image {image} is not available locally and could not be pulled: {_explain(exc)}"
        return None

    async def ensure_image(self, image: str) -> None:
        """Make sure ``image`` is on the machine; raises EnvUnavailable with the cause when not.

        Call ``check`` first. Failures are remembered for the life of this sandbox."""
        if image not in self._images:
            self._images[image] = await asyncio.to_thread(self._find_or_pull, image)
        problem = self._images[image]
        if problem is not None:
            raise EnvUnavailable(problem)

    # -- opening --------------------------------------------------------------------------

    async def open(self, lowers: list[str], root: str, expose: list[str]) -> Workspace:
        raise SandboxError("the docker image sandbox brings its own environment: use open_task(task)")

    async def open_task(self, task: Task) -> TaskEnvironment:
        """A fresh container of the task's image, checked to hold a git checkout at /testbed."""
        from swerve.sandbox.docker import open_docker_workspace

        await self.check()
        image = self.image_for(task)
        await self.ensure_image(image)
        ws = await open_docker_workspace(
            None,
            image=image,
            workdir=TESTBED,
            network=self.network,
            memory_mb=self.memory_mb,
            ttl_s=max(self.ttl_s, 2 * task.timeout_s + 600),
            labels={LABEL_INSTANCE: task.id},
        )
        try:
            probe = await ws.exec("git rev-parse --is-inside-work-tree", cwd=TESTBED, timeout=60)
        except BaseException:
            await asyncio.shield(ws.close())
            raise
        if probe.exit_code != 0:
            await ws.close()
            raise EnvUnavailable(
                f"image {image} is not laid out as SWE-bench's: no git checkout at {TESTBED} "
                f"({probe.output.strip()[-200:] or f'exit {probe.exit_code}'})"
            )
        return TaskEnvironment(ws, TESTBED, RUN_DIR, swebench_eval_script(task))

    def close(self) -> None:
        """Drop the connection to the daemon (a later call connects again)."""
        if self._api is not None:
            self._api.close()
            self._api = None

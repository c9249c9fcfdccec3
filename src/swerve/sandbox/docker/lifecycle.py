"""Opening Docker workspaces (image, base copy, container with labels and a TTL) and sweeping the
containers whose owner died or whose TTL passed."""

from __future__ import annotations

import asyncio
import math
import os
import posixpath
import secrets
import time
from collections.abc import Mapping
from typing import Any

from swerve.errors import SandboxError
from swerve.sandbox.docker.api import (
    LABEL_EXPIRES,
    LABEL_OWNER_NS,
    LABEL_OWNER_PID,
    LABEL_OWNER_START,
    LABEL_SANDBOX,
    STATE,
    call,
    docker_client,
    explain,
    http_status,
    in_thread,
    is_not_found,
    log,
    owner_ns,
    remove_quietly,
)
from swerve.sandbox.docker.workspace import DockerWorkspace
from swerve.sandbox.ns.limits import Limits
from swerve.sandbox.proctree import start_time

# -- opening and sweeping -----------------------------------------------------------------------


def _validate_open(
    base: str | None,
    image: object,
    timeout: object,
    memory_mb: object,
    workdir: object,
    ttl_s: object,
    labels: object,
) -> tuple[str | None, str, dict[str, str]]:
    if not isinstance(image, str) or not image.strip():
        raise SandboxError("image must be a non-empty image name")
    if base is not None:
        base = os.fspath(base)
        if not os.path.isdir(base):
            what = "is not a directory" if os.path.exists(base) else "does not exist"
            raise SandboxError(f"base directory {what}: {base}")
        base = os.path.realpath(base)
    for name, value in (("timeout", timeout), ("ttl_s", ttl_s)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
            raise SandboxError(f"{name} must be a positive number of seconds, not {value!r}")
    if memory_mb is not None and (
        isinstance(memory_mb, bool) or not isinstance(memory_mb, int) or memory_mb < 6
    ):
        raise SandboxError(f"memory_mb must be a whole number of MiB, at least 6, not {memory_mb!r}")
    if not isinstance(workdir, str) or not workdir.startswith("/") or "\0" in workdir:
        raise SandboxError(f"workdir must be an absolute path, not {workdir!r}")
    root = posixpath.normpath(workdir)
    if root == "/":
        raise SandboxError("workdir must not be /")
    if labels is not None and not isinstance(labels, Mapping):
        raise SandboxError("labels must be a dict of strings")
    clean: dict[str, str] = {}
    for key, value in (labels or {}).items():
        if not isinstance(key, str) or not isinstance(value, str) or not key:
            raise SandboxError(f"labels must map strings to strings, not {key!r}: {value!r}")
        if key.startswith("swerve."):
            raise SandboxError(f"label {key!r}: the swerve.* labels are reserved")
        clean[key] = value
    return base, root, clean


async def _ensure_image(api: Any, image: str) -> str:
    """Pull ``image`` when it is not on the machine; returns its USER."""
    try:
        info = await in_thread(api.inspect_image, image)
        return str((info.get("Config") or {}).get("User") or "")
    except Exception as exc:
        if not is_not_found(exc):
            raise SandboxError(f"docker: cannot inspect the image {image!r}: {explain(exc)}") from exc

    def pull() -> None:
        from docker.utils import parse_repository_tag

        repo, tag = parse_repository_tag(image)
        for event in api.pull(repo, tag=tag or "latest", stream=True, decode=True):
            if isinstance(event, dict) and event.get("error"):
                raise SandboxError(str(event["error"]))

    try:
        await in_thread(pull)
        info = await in_thread(api.inspect_image, image)
    except Exception as exc:
        raise SandboxError(
            f"docker: the image {image!r} is not on this machine and pulling it failed: {explain(exc)}"
        ) from exc
    return str((info.get("Config") or {}).get("User") or "")


async def open_docker_workspace(
    base: str | None,
    *,
    image: str,
    timeout: float = 120.0,
    memory_mb: int | None = None,
    limits: Limits | None = None,
    network: bool = False,
    workdir: str = "/workspace",
    ttl_s: float = 3600,
    labels: dict | None = None,
) -> DockerWorkspace:
    """Create a container from ``image`` and return it as a Workspace rooted at ``workdir``.

    ``base`` (a host directory) is copied to ``workdir`` when given. The container has no
    network unless ``network`` (then the daemon's default network), the sandbox ``limits`` (the
    defaults when not given: memory, processes, CPUs, open files; ``memory_mb`` overrides the
    memory), and stops by itself after ``ttl_s`` seconds. An image that is not on
    the machine is pulled first (not counted in ``timeout``, which bounds creating the container
    and copying the base). Raises SandboxError with the cause when anything fails.
    """
    base, root, extra_labels = _validate_open(base, image, timeout, memory_mb, workdir, ttl_s, labels)
    docker = await docker_client()
    api = docker.api
    await _sweep_once()
    user = await _ensure_image(api, image)
    ttl = max(1, math.ceil(ttl_s))
    expires = int(time.time()) + ttl
    pid = os.getpid()
    all_labels = {
        **extra_labels,
        LABEL_SANDBOX: "1",
        LABEL_OWNER_PID: str(pid),
        LABEL_OWNER_START: str(start_time(pid) or 0),
        LABEL_OWNER_NS: owner_ns(),
        LABEL_EXPIRES: str(expires),
    }
    name = f"swerve-{secrets.token_hex(8)}"
    host_config: dict[str, Any] = {"auto_remove": True, "init": False}
    if not network:
        host_config["network_mode"] = "none"
    limits = limits or Limits()
    memory = memory_mb if memory_mb is not None else limits.memory_mb
    if memory is not None:
        host_config["mem_limit"] = f"{memory}m"
        host_config["memswap_limit"] = f"{memory}m"
    if limits.processes:
        host_config["pids_limit"] = limits.processes
    if limits.cpus:
        host_config["nano_cpus"] = int(limits.cpus * 1e9)
    if limits.open_files:
        host_config["ulimits"] = [{"Name": "nofile", "Soft": limits.open_files, "Hard": limits.open_files}]

    def create() -> str:
        created = api.create_container(
            image,
            command=[f"sleep {ttl} & wait"],
            entrypoint=["/bin/sh", "-c"],
            working_dir=root,
            labels=all_labels,
            name=name,
            detach=True,
            host_config=api.create_host_config(**host_config),
        )
        return created["Id"]

    workspace = None
    created = False
    try:
        async with asyncio.timeout(timeout):
            container = await call(f"creating a container from {image!r}", create)
            created = True
            await call("starting the container", api.start, container)
            workspace = DockerWorkspace(
                docker,
                container,
                root=root,
                image=image,
                expires_at=expires,
                user=user,
                base_is_git=base is not None and os.path.lexists(os.path.join(base, ".git")),
            )
            if base is not None:
                await workspace._copy_base(base)
    except BaseException as exc:
        if created or not isinstance(exc, SandboxError):
            await asyncio.shield(remove_quietly(api, name))
        if workspace is not None and workspace._snapshot is not None:
            workspace._snapshot.close()
        if isinstance(exc, TimeoutError):
            raise SandboxError(f"docker: the container was not ready within {timeout:g} s") from exc
        raise
    return workspace


def _is_orphan(labels: Mapping[str, str], state: str | None, now: float, here: str) -> bool:
    try:
        if float(labels.get(LABEL_EXPIRES, "")) <= now:
            return True
    except ValueError:
        pass
    if state in ("exited", "dead"):
        return True
    if here and labels.get(LABEL_OWNER_NS) == here:
        try:
            pid, start = int(labels.get(LABEL_OWNER_PID, "")), int(labels.get(LABEL_OWNER_START, ""))
        except ValueError:
            return False
        return pid > 0 and start_time(pid) != start
    return False


def _sweep(api: Any, now: float) -> list[str]:
    here = owner_ns()
    removed = []
    for container in api.containers(all=True, filters={"label": f"{LABEL_SANDBOX}=1"}):
        if not _is_orphan(container.get("Labels") or {}, container.get("State"), now, here):
            continue
        try:
            api.remove_container(container["Id"], force=True)
        except Exception as exc:
            if not (is_not_found(exc) or http_status(exc) == 409):
                log.warning("could not remove orphan container %s: %s", container["Id"][:12], explain(exc))
                continue
        removed.append(container["Id"])
    return removed


async def sweep_docker_orphans(*, now: float | None = None) -> list[str]:
    """Remove swerve containers whose owner process died (same machine and pid namespace) or
    whose TTL passed; returns their ids."""
    docker = await docker_client()
    return await call("sweeping orphan containers", _sweep, docker.api, time.time() if now is None else now)


async def _sweep_once() -> None:
    if STATE["swept_pid"] == os.getpid():
        return
    STATE["swept_pid"] = os.getpid()
    try:
        removed = await sweep_docker_orphans()
    except SandboxError as exc:
        log.warning("sweeping orphan docker sandboxes failed: %s", exc)
        return
    if removed:
        log.info("removed %d orphan docker sandbox(es)", len(removed))

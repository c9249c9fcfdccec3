"""The Docker daemon as swerve talks to it: the endpoint, a bounded thread pool for docker-py's
blocking calls, error explanations, and the labels every swerve container carries."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from swerve.errors import SandboxError

log = logging.getLogger(__name__)

LABEL_SANDBOX = "swerve.sandbox"
LABEL_OWNER_PID = "swerve.owner_pid"
LABEL_OWNER_START = "swerve.owner_start"
LABEL_OWNER_NS = "swerve.owner_ns"
LABEL_EXPIRES = "swerve.expires"
THREADS_ENV = "SWERVE_DOCKER_THREADS"  # size of the thread pool for blocking docker calls
API_TIMEOUT_S = 300  # per HTTP request to the daemon (not per command)
OP_TIMEOUT_S = 120.0  # file operations and diff
DRAIN_MAX_S = 3.0  # after a command exited: read leftovers while they keep coming, at most this long
KILL_WAIT_S = 5.0  # after a kill: how long to wait for the stream to end
STDERR_KEEP = 1 << 16
SENTINEL = re.compile(rb"swerve-exit:(\d+)\n")
NO_CWD = b"swerve-nocwd"
NO_STDIN = b"swerve-nostdin"
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_T = TypeVar("_T")

# Runs one command: $1 working directory, $2 command, $3 file to use as stdin ("" for none).

# -- the daemon -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """Where the daemon listens, for the streams this module opens itself."""

    unix_path: str | None
    host: str | None
    port: int | None
    ssl: Any  # ssl.SSLContext | None
    version: str

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            if self.unix_path is not None:
                return await asyncio.open_unix_connection(self.unix_path)
            return await asyncio.open_connection(self.host, self.port, ssl=self.ssl)
        except OSError as exc:
            raise SandboxError(f"cannot reach the Docker daemon: {exc}") from exc


@dataclass(frozen=True)
class Docker:
    api: Any  # docker.APIClient
    endpoint: Endpoint


_lock = threading.Lock()
STATE: dict[str, Any] = {"pid": None, "docker": None, "executor": None, "swept_pid": None}


def _executor() -> ThreadPoolExecutor:
    with _lock:
        if STATE["executor"] is None or STATE["pid"] != os.getpid():
            size = max(2, int(os.environ.get(THREADS_ENV, "32") or 32))
            STATE["executor"] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="swerve-docker")
            STATE["docker"] = None
            STATE["pid"] = os.getpid()
        return STATE["executor"]


async def in_thread(fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor(), lambda: fn(*args, **kwargs))


def explain(exc: BaseException) -> str:
    explanation = getattr(exc, "explanation", None)
    if explanation:
        return str(explanation)
    text = str(exc) or type(exc).__name__
    return text if len(text) < 500 else text[:500] + "..."


def is_not_found(exc: BaseException) -> bool:
    return type(exc).__name__ in ("NotFound", "ImageNotFound")


def http_status(exc: BaseException) -> int | None:
    return getattr(exc, "status_code", None)


async def call(what: str, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """A blocking docker-py call in the pool; its failures become SandboxError."""
    try:
        return await in_thread(fn, *args, **kwargs)
    except SandboxError:
        raise
    except Exception as exc:
        raise SandboxError(f"docker: {what} failed: {explain(exc)}") from exc


def _connect() -> Docker:
    try:
        import docker
        from docker.utils import kwargs_from_env, parse_host
    except ImportError as exc:
        raise SandboxError(
            "the docker backend needs the 'docker' package: pip install 'swerve[docker]'"
        ) from exc
    kwargs = kwargs_from_env()
    tls = kwargs.get("tls")
    url = parse_host(kwargs.get("base_url"), False, tls=bool(tls))
    size = max(2, int(os.environ.get(THREADS_ENV, "32") or 32))
    try:
        api = docker.APIClient(**kwargs, version="auto", timeout=API_TIMEOUT_S, max_pool_size=size)
        version = api.api_version
    except Exception as exc:
        raise SandboxError(f"cannot reach the Docker daemon at {url}: {explain(exc)}") from exc
    return Docker(api, _endpoint(url, tls, version))


def _endpoint(url: str, tls: Any, version: str) -> Endpoint:
    if url.startswith("http+unix://"):
        return Endpoint(url[len("http+unix://") :], None, None, None, version)
    for scheme in ("http://", "https://"):
        if url.startswith(scheme):
            hostport = url[len(scheme) :].split("/", 1)[0]
            host, _, port = hostport.rpartition(":")
            context = _ssl_context(tls) if scheme == "https://" else None
            return Endpoint(None, host.strip("[]"), int(port), context, version)
    raise SandboxError(f"the docker backend supports unix:// and tcp:// daemons, not {url}")


def _ssl_context(tls: Any) -> Any:
    import ssl

    verify = bool(getattr(tls, "verify", False))
    ca_cert = getattr(tls, "ca_cert", None)
    context = ssl.create_default_context(cafile=ca_cert if verify and ca_cert else None)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    cert = getattr(tls, "cert", None)
    if isinstance(cert, tuple):
        context.load_cert_chain(*cert)
    elif cert:
        context.load_cert_chain(cert)
    return context


async def docker_client() -> Docker:
    _executor()
    found = STATE["docker"]
    if found is not None:
        return found
    found = await in_thread(_connect)
    with _lock:
        if STATE["docker"] is None:
            STATE["docker"] = found
        return STATE["docker"]


def owner_ns() -> str:
    """This machine's boot and this pid namespace: where owner pids mean something."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot = f.read().strip()
        ns = os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""
    m = re.search(r"\[(\d+)\]", ns)
    return f"{boot}:{m.group(1) if m else ns}"


async def remove_quietly(api: Any, container: str) -> None:
    try:
        await in_thread(api.remove_container, container, force=True)
    except Exception as exc:
        if not (is_not_found(exc) or http_status(exc) == 409):  # gone, or removal under way
            log.warning("could not remove docker container %s: %s", container[:12], explain(exc))

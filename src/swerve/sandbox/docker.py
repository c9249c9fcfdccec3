"""The Docker workspace: files and commands inside a container, through the Docker Engine API.

``open_docker_workspace`` creates a container from an image (network "none" unless asked
otherwise), copies a base directory into it, and keeps it alive with ``sleep <ttl>`` under a
shell that reaps orphans; when the TTL passes the container stops and the daemon removes it
(``auto_remove``), even when nobody closes it. Every container carries ``swerve.*`` labels (owner
pid, owner start time, owner pid namespace, expiry), and ``sweep_docker_orphans`` removes those
whose owner died or whose TTL passed; the first workspace a process opens runs it once.

Calls to the daemon go through the ``docker`` package (imported lazily) in a bounded thread
pool, except one: the output stream of a command. docker-py hands out the raw socket under its
buffered HTTP reader, which loses the first bytes of output whenever they arrive together with
the response headers (seen on a loaded machine); so this module attaches to a started exec itself,
over asyncio, and reads the multiplexed frames without a thread per command.

Commands run as ``/bin/bash -c`` (``/bin/sh`` where the image has no bash) under a small POSIX
shell wrapper that merges stderr into stdout (one stream, in order), reports the exit code on the
exec's own stderr and changes to the working directory. Every process of a command carries
``SWERVE_PROC_TAG=<tag>`` in its environment; a timeout, a cancellation or ``BackgroundJob.kill``
stops and then kills every process in the container that carries the tag or descends from one
(a shell loop over /proc, run as the container's user), so the image needs only a POSIX shell and
the usual tools (cat, tr, grep, readlink, stat, xargs, mkdir, rm), which busybox and coreutils
images both have. File operations are small shell scripts run the same way, as the container's
user, so they follow symlinks and respect permissions as a process in the container would;
``stat`` uses the archive HEAD endpoint (no exec).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import errno
import io
import json
import logging
import math
import os
import posixpath
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from swerve.sandbox.base import DirEntry, ExecResult, FileStat, SandboxError
from swerve.sandbox.host import DEFAULT_OUTPUT_LIMIT, DRAIN_GRACE_S, QUIET_ENV, OutputBuffer
from swerve.sandbox.proctree import TAG_VAR, new_tag
from swerve.sandbox.sweeper import start_time

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
_STDERR_KEEP = 1 << 16
_SENTINEL = re.compile(rb"swerve-exit:(\d+)\n")
_NO_CWD = b"swerve-nocwd"
_NO_STDIN = b"swerve-nostdin"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_T = TypeVar("_T")

# Runs one command: $1 working directory, $2 command, $3 file to use as stdin ("" for none).
_COMMAND_WRAPPER = r"""
cd -- "$1" 2>/dev/null || { echo swerve-nocwd >&2; exit 126; }
if [ -n "$3" ]; then
  [ -r "$3" ] || { echo swerve-nostdin >&2; exit 126; }
  exec 0<"$3"
  rm -f -- "$3"
fi
if [ -x /bin/bash ]; then /bin/bash -c "$2" 2>&1; else /bin/sh -c "$2" 2>&1; fi
c=$?
echo "swerve-exit:$c" >&2
exit "$c"
"""

# Runs an internal script ($1) with the remaining arguments; stdout and stderr stay apart.
_OP_WRAPPER = r"""
s=$1
shift
/bin/sh -c "$s" swerve "$@"
echo "swerve-exit:$?" >&2
"""

# Exit codes of the file scripts are errno values (2 ENOENT, 13 EACCES, 20 ENOTDIR, 21 EISDIR).
_READ = r"""
[ -e "$1" ] || exit 2
[ -d "$1" ] && exit 21
[ -r "$1" ] || exit 13
exec cat -- "$1"
"""

_WRITE = r"""
if [ ! -d "$2" ]; then
  mkdir -p -- "$2" || { rm -f -- "$3"; [ -e "$2" ] && exit 20; exit 13; }
fi
[ -d "$1" ] && { rm -f -- "$3"; exit 21; }
cat -- "$3" > "$1" || { rm -f -- "$3"; exit 13; }
rm -f -- "$3"
"""

# Records "<type><link><name>\0" (type d: directory, f: regular file, o: other; both after
# following a symlink), an empty record, then the sizes of the f entries, one a line, in order.
_LIST = r"""
cd -- "$1" 2>/dev/null || { [ -e "$1" ] || exit 2; [ -d "$1" ] || exit 20; exit 13; }
for f in .* *; do
  case $f in .|..) continue ;; esac
  [ -e "$f" ] || [ -L "$f" ] || continue
  t=o
  if [ -d "$f" ]; then t=d; elif [ -f "$f" ]; then t=f; fi
  l=0
  [ -L "$f" ] && l=1
  printf '%s%s%s\0' "$t" "$l" "$f"
done
printf '\0'
for f in .* *; do
  case $f in .|..) continue ;; esac
  [ -f "$f" ] && [ ! -d "$f" ] && printf '%s\0' "$f"
done | xargs -0 -r stat -L -c %s -- 2>/dev/null
exit 0
"""

_REALPATH = r"""
p=$1
rest=
while :; do
  r=$(readlink -f -- "$p" 2>/dev/null) && [ -n "$r" ] && break
  if [ "$p" = / ]; then r=/; break; fi
  rest=/${p##*/}$rest
  p=${p%/*}
  [ -n "$p" ] || p=/
done
printf '%s' "$r$rest"
"""

# Stops, then kills, every process that carries the tag or descends from one that does.
_KILL = r"""
tag="SWERVE_PROC_TAG=$1"
seen=" "
n=0
while [ "$n" -lt 50 ]; do
  n=$((n + 1))
  new=
  for d in /proc/[0-9]*; do
    p=${d#/proc/}
    [ "$p" = "$$" ] && continue
    case $seen in *" $p "*) continue ;; esac
    hit=
    if read -r st 2>/dev/null < "$d/stat"; then
      st=${st##*) }
      set -f
      set -- $st
      set +f
      case $seen in *" $2 "*) hit=1 ;; esac
    fi
    if [ -z "$hit" ] && tr '\0' '\n' < "$d/environ" 2>/dev/null | grep -qxF -- "$tag"; then hit=1; fi
    [ -n "$hit" ] && new="$new $p"
  done
  [ -z "$new" ] && break
  kill -STOP $new 2>/dev/null
  seen="$seen${new# } "
done
[ "$seen" = " " ] || kill -KILL $seen 2>/dev/null
exit 0
"""

# Uncommitted changes against HEAD, untracked files included, through a copy of the index.
# Exit 3: no such directory, 4: no git in the image, 5: not a git work tree.
_GIT_DIFF = r"""
cd -- "$1" 2>/dev/null || exit 3
command -v git >/dev/null 2>&1 || exit 4
export GIT_OPTIONAL_LOCKS=0 GIT_TERMINAL_PROMPT=0 GIT_PAGER=cat
g() { git -c 'safe.directory=*' -c core.quotepath=false "$@"; }
[ "$(g rev-parse --is-inside-work-tree 2>/dev/null)" = true ] || exit 5
index=$(g rev-parse --git-path index) || exit 6
base=HEAD
g rev-parse --verify --quiet 'HEAD^{commit}' >/dev/null || base=$(g hash-object -t tree /dev/null)
tmp=$(mktemp -d 2>/dev/null) || { echo "mktemp failed" >&2; exit 6; }
trap 'rm -rf "$tmp"' EXIT
if [ -f "$index" ]; then cp -p -- "$index" "$tmp/index" || exit 6; fi
GIT_INDEX_FILE=$tmp/index g add --intent-to-add --all -- . >/dev/null || exit 6
GIT_INDEX_FILE=$tmp/index g diff --no-color --no-ext-diff --relative "$base" -- .
"""


# -- the daemon -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Endpoint:
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
class _Docker:
    api: Any  # docker.APIClient
    endpoint: _Endpoint


_lock = threading.Lock()
_state: dict[str, Any] = {"pid": None, "docker": None, "executor": None, "swept_pid": None}


def _executor() -> ThreadPoolExecutor:
    with _lock:
        if _state["executor"] is None or _state["pid"] != os.getpid():
            size = max(2, int(os.environ.get(THREADS_ENV, "32") or 32))
            _state["executor"] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="swerve-docker")
            _state["docker"] = None
            _state["pid"] = os.getpid()
        return _state["executor"]


async def _in_thread(fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor(), lambda: fn(*args, **kwargs))


def _explain(exc: BaseException) -> str:
    explanation = getattr(exc, "explanation", None)
    if explanation:
        return str(explanation)
    text = str(exc) or type(exc).__name__
    return text if len(text) < 500 else text[:500] + "..."


def _is_not_found(exc: BaseException) -> bool:
    return type(exc).__name__ in ("NotFound", "ImageNotFound")


def _status(exc: BaseException) -> int | None:
    return getattr(exc, "status_code", None)


async def _call(what: str, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """A blocking docker-py call in the pool; its failures become SandboxError."""
    try:
        return await _in_thread(fn, *args, **kwargs)
    except SandboxError:
        raise
    except Exception as exc:
        raise SandboxError(f"docker: {what} failed: {_explain(exc)}") from exc


def _connect() -> _Docker:
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
        raise SandboxError(f"cannot reach the Docker daemon at {url}: {_explain(exc)}") from exc
    return _Docker(api, _endpoint(url, tls, version))


def _endpoint(url: str, tls: Any, version: str) -> _Endpoint:
    if url.startswith("http+unix://"):
        return _Endpoint(url[len("http+unix://") :], None, None, None, version)
    for scheme in ("http://", "https://"):
        if url.startswith(scheme):
            hostport = url[len(scheme) :].split("/", 1)[0]
            host, _, port = hostport.rpartition(":")
            context = _ssl_context(tls) if scheme == "https://" else None
            return _Endpoint(None, host.strip("[]"), int(port), context, version)
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


async def _docker() -> _Docker:
    _executor()
    found = _state["docker"]
    if found is not None:
        return found
    found = await _in_thread(_connect)
    with _lock:
        if _state["docker"] is None:
            _state["docker"] = found
        return _state["docker"]


# -- command streams ----------------------------------------------------------------------------


class _Sink:
    """Where an exec's frames go: stdout into ``out``, stderr kept apart for the wrapper's report."""

    def __init__(self, out: Any) -> None:
        self.out = out  # OutputBuffer or io.BytesIO
        self.err = bytearray()
        self.exit_code: int | None = None
        self.exited = asyncio.Event()
        self.last_data = time.monotonic()

    def frame(self, stream: int, payload: bytes) -> None:
        self.last_data = time.monotonic()
        if stream != 2:
            self.out.write(payload)
            return
        self.err += payload
        if len(self.err) > _STDERR_KEEP:
            del self.err[: len(self.err) - _STDERR_KEEP]
        for match in _SENTINEL.finditer(self.err):
            self.exit_code = int(match.group(1))
        if self.exit_code is not None:
            self.exited.set()

    def message(self) -> str:
        """What the script printed on stderr, without the wrapper's report."""
        return _SENTINEL.sub(b"", bytes(self.err)).decode("utf-8", "replace").strip()


async def _pump(reader: asyncio.StreamReader, sink: _Sink) -> None:
    """Read multiplexed frames (8-byte header: stream, 3 zero bytes, big-endian length) to EOF."""
    while True:
        try:
            header = await reader.readexactly(8)
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise SandboxError("the Docker daemon ended a command's stream mid-frame") from exc
            return
        size = int.from_bytes(header[4:8], "big")
        try:
            payload = await reader.readexactly(size) if size else b""
        except asyncio.IncompleteReadError as exc:
            sink.frame(header[0], exc.partial)
            return
        sink.frame(header[0], payload)


async def _attach(endpoint: _Endpoint, exec_id: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Start a created exec and take over the connection that carries its output."""
    body = b'{"Detach":false,"Tty":false}'
    request = (
        f"POST /v{endpoint.version}/exec/{exec_id}/start HTTP/1.1\r\n"
        "Host: docker\r\nContent-Type: application/json\r\n"
        "Connection: Upgrade\r\nUpgrade: tcp\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    reader, writer = await endpoint.connect()
    try:
        writer.write(request + body)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        parts = head.split(b" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        if status in (101, 200):
            return reader, writer
        detail = await _error_body(reader, head)
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
        writer.close()
        raise SandboxError(f"docker: starting a command failed: {exc}") from exc
    except BaseException:
        writer.close()
        raise
    writer.close()
    raise SandboxError(f"docker: starting a command failed ({status}): {detail}")


async def _error_body(reader: asyncio.StreamReader, head: bytes) -> str:
    match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    try:
        if match:
            data = await asyncio.wait_for(reader.readexactly(min(int(match.group(1)), 1 << 16)), 2.0)
        else:
            data = await asyncio.wait_for(reader.read(1 << 16), 2.0)
    except (TimeoutError, asyncio.IncompleteReadError, OSError):
        return "(no detail)"
    with contextlib.suppress(ValueError, KeyError, TypeError):
        return str(json.loads(data)["message"])
    return data.decode("utf-8", "replace").strip()


class _Run:
    """One started exec: its stream, the task that reads it, and the tag of its processes."""

    def __init__(self, exec_id: str, tag: str, writer: asyncio.StreamWriter, sink: _Sink, pump: asyncio.Task):
        self.exec_id = exec_id
        self.tag = tag
        self.writer = writer
        self.sink = sink
        self.pump = pump

    async def wait(self, timeout: float | None, *, until_eof: bool = False) -> bool:
        """True once the command exited (or the stream ended) within ``timeout`` seconds.

        After the wrapper reported the exit, output still on its way is read: to the end of the
        stream with ``until_eof``, else while it keeps coming (leftover background processes may
        hold the stream open), for at most DRAIN_MAX_S."""
        exited = asyncio.ensure_future(self.sink.exited.wait())
        try:
            done, _ = await asyncio.wait(
                {self.pump, exited}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            exited.cancel()
        if not done:
            return False
        if until_eof:
            await asyncio.wait({self.pump}, timeout=timeout)
            return self.pump.done()
        limit = time.monotonic() + DRAIN_MAX_S
        while not self.pump.done():
            now = time.monotonic()
            quiet = self.sink.last_data + DRAIN_GRACE_S - now
            if quiet <= 0 or now >= limit:
                break
            await asyncio.wait({self.pump}, timeout=min(quiet, limit - now))
        return True

    def failure(self) -> BaseException | None:
        if self.pump.done() and not self.pump.cancelled():
            return self.pump.exception()
        return None

    def close(self) -> None:
        if self.pump.done():
            self.failure()  # retrieved, so that asyncio does not report it as forgotten
        else:
            self.pump.cancel()
        self.writer.close()


# -- helpers ------------------------------------------------------------------------------------


def _os_error(code: int, path: str, message: str) -> OSError:
    if code in (errno.ENOENT, errno.EACCES, errno.ENOTDIR, errno.EISDIR):
        return OSError(code, os.strerror(code), path)
    return OSError(errno.EIO, message or f"failed with exit code {code}", path)


def _check_text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise SandboxError(f"{what} must be a string, not {type(value).__name__}")
    if "\0" in value:
        raise SandboxError(f"{what} contains a NUL byte")
    return value


def _tar_of(name: str, data: bytes, mode: int, ids: tuple[int, int]) -> bytes:
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = mode
        info.uid, info.gid = ids
        info.mtime = int(time.time())
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _numeric_user(user: str) -> tuple[int, int] | None:
    """(uid, gid) of an image's USER when it says so without a name lookup."""
    if user in ("", "root", "0", "0:0", "root:root", "root:0", "0:root"):
        return 0, 0
    m = re.match(r"^(\d+):(\d+)$", user)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _parse_go_time(text: str) -> float:
    """Seconds since the epoch of an RFC 3339 time with up to nanoseconds, as Go writes it."""
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$", text or "")
    if not m:
        return 0.0
    stamp = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
    zone = m.group(3) or "Z"
    offset = timedelta(0)
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        offset = sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    stamp = stamp.replace(tzinfo=timezone(offset))
    return stamp.timestamp() + (float("0." + m.group(2)) if m.group(2) else 0.0)


_GO_MODE_DIR = 1 << 31
_GO_MODE_SYMLINK = 1 << 27
_GO_MODE_TYPES = (1 << 31) | (1 << 27) | (1 << 26) | (1 << 25) | (1 << 24) | (1 << 21) | (1 << 19)


def _owner_ns() -> str:
    """This machine's boot and this pid namespace: where owner pids mean something."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot = f.read().strip()
        ns = os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""
    m = re.search(r"\[(\d+)\]", ns)
    return f"{boot}:{m.group(1) if m else ns}"


# -- the workspace ------------------------------------------------------------------------------


class DockerJob:
    """A command left running in the container by ``DockerWorkspace.spawn``."""

    def __init__(self, workspace: DockerWorkspace, job_id: str, command: str, run: _Run) -> None:
        self.id = job_id
        self.command = command
        self._workspace = workspace
        self._run = run
        self._code: int | None = None
        self._waiter = asyncio.ensure_future(self._watch())

    async def _watch(self) -> None:
        await asyncio.wait({self._run.pump})  # until every writer of the stream is gone
        if self._run.sink.exit_code is None:
            with contextlib.suppress(SandboxError):
                info = await _call(
                    "exec inspect", self._workspace._docker.api.exec_inspect, self._run.exec_id
                )
                code = info.get("ExitCode")
                self._code = -1 if code is None else int(code)
        self._run.close()

    def output(self) -> str:
        return self._run.sink.out.text()

    def returncode(self) -> int | None:
        code = self._run.sink.exit_code
        return code if code is not None else self._code

    async def kill(self) -> None:
        """Kill the job and everything it started; keep the output read so far."""
        await self._workspace._kill(self._run.tag)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._waiter), KILL_WAIT_S)
        if self.returncode() is None:
            self._code = 137
        self._run.close()

    def _abandon(self) -> None:
        self._waiter.cancel()
        self._run.close()


class DockerWorkspace:
    """A Workspace in a Docker container (see ``open_docker_workspace``).

    ``root`` is the working directory in the container. Commands keep at most
    ``output_limit_bytes`` of output (head and tail); ``env`` is added to every command's
    environment.
    """

    def __init__(
        self,
        docker: _Docker,
        container_id: str,
        *,
        root: str,
        image: str,
        expires_at: float,
        user: str = "",
        base_is_git: bool = False,
        output_limit_bytes: int = DEFAULT_OUTPUT_LIMIT,
    ) -> None:
        self._docker = docker
        self.container_id = container_id
        self.root = root
        self.image = image
        self.expires_at = expires_at
        self.env: dict[str, str] = {}
        self.output_limit_bytes = output_limit_bytes
        self._snapshot: Any = None  # tar of the base, for diff() when the base is no git tree
        self._base_is_git = base_is_git
        self._ids = _numeric_user(user)  # the container user's (uid, gid), looked up when needed
        self._diff_lock = asyncio.Lock()
        self._jobs: dict[str, DockerJob] = {}
        self._job_counter = 0
        self._closed = False

    async def __aenter__(self) -> DockerWorkspace:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- running things ---------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise SandboxError("the docker workspace is closed")

    def _path(self, path: str) -> str:
        path = _check_text(path, "path")
        if not path:
            raise SandboxError("empty path")
        return posixpath.normpath(posixpath.join(self.root, path))

    def _env(self, extra: Mapping[str, str] | None, tag: str) -> dict[str, str]:
        env = {**QUIET_ENV, **self.env, **(extra or {})}
        for key, value in env.items():
            if not isinstance(key, str) or not _ENV_NAME.match(key):
                raise SandboxError(f"invalid environment variable name {key!r}")
            _check_text(value, f"environment variable {key}")
        env[TAG_VAR] = tag
        return env

    async def _start(
        self, argv: list[str], *, env: dict[str, str], tag: str, out: Any, user: str = ""
    ) -> _Run:
        self._check_open()
        api = self._docker.api
        try:
            created = await _in_thread(
                api.exec_create,
                self.container_id,
                argv,
                stdout=True,
                stderr=True,
                stdin=False,
                tty=False,
                environment=env,
                user=user,
            )
        except Exception as exc:
            raise self._failure("starting a command", exc) from exc
        exec_id = created["Id"]
        reader, writer = await _attach(self._docker.endpoint, exec_id)
        sink = _Sink(out)
        return _Run(exec_id, tag, writer, sink, asyncio.ensure_future(_pump(reader, sink)))

    def _failure(self, what: str, exc: BaseException) -> SandboxError:
        if isinstance(exc, SandboxError):
            return exc
        if _is_not_found(exc) or _status(exc) == 409:
            return SandboxError(
                f"docker: {what} failed: the container {self.container_id[:12]} is gone or stopped "
                f"(closed, removed, or its TTL ran out): {_explain(exc)}"
            )
        return SandboxError(f"docker: {what} failed: {_explain(exc)}")

    async def _kill(self, tag: str) -> None:
        """Kill the processes that carry ``tag`` (best effort: the container may be gone)."""
        with contextlib.suppress(SandboxError):
            # as the commands' own user: root in a container lacks CAP_SYS_PTRACE, so it could
            # not read the environment (the tag) of another user's processes
            await self._op(_KILL, tag, timeout=30.0, kill_on_timeout=False)

    async def _op(
        self,
        script: str,
        *args: str,
        user: str = "",
        timeout: float = OP_TIMEOUT_S,
        kill_on_timeout: bool = True,
    ) -> tuple[int, bytes, str]:
        """Run an internal script; returns its exit code, stdout and stderr."""
        tag = new_tag()
        out = io.BytesIO()
        run = await self._start(
            ["/bin/sh", "-c", _OP_WRAPPER, "swerve", script, *args],
            env={TAG_VAR: tag},
            tag=tag,
            out=out,
            user=user,
        )
        try:
            finished = await run.wait(timeout, until_eof=True)
            if not finished:
                if kill_on_timeout:
                    await self._kill(tag)
                raise SandboxError(f"docker: an internal command did not finish within {timeout:g} s")
        except BaseException:
            if kill_on_timeout and not run.pump.done():
                await asyncio.shield(self._kill(tag))
            raise
        finally:
            run.close()
        failure = run.failure()
        if failure is not None:
            raise self._failure("an internal command", failure)
        if run.sink.exit_code is None:
            await self._check_running()
            raise SandboxError(
                f"docker: an internal command ended without an exit code: {run.sink.message()}"
            )
        return run.sink.exit_code, out.getvalue(), run.sink.message()

    async def _check_running(self) -> None:
        try:
            info = await _in_thread(self._docker.api.inspect_container, self.container_id)
        except Exception as exc:
            raise self._failure("inspecting the container", exc) from exc
        if not (info.get("State") or {}).get("Running"):
            raise SandboxError(
                f"docker: the container {self.container_id[:12]} has stopped "
                f"(state {info.get('State', {}).get('Status')!r}; its TTL may have run out)"
            )

    async def _user_ids(self) -> tuple[int, int]:
        """The (uid, gid) the container's commands run as, so that files put there are theirs."""
        if self._ids is None:
            code, out, _ = await self._op("id -u && id -g")
            numbers = out.split()
            if code == 0 and len(numbers) == 2 and all(n.isdigit() for n in numbers):
                self._ids = int(numbers[0]), int(numbers[1])
            else:
                self._ids = 0, 0
        return self._ids

    async def _put_file(self, path: str, data: bytes, mode: int = 0o600) -> None:
        archive = _tar_of(path.lstrip("/"), data, mode, await self._user_ids())
        try:
            await _in_thread(self._docker.api.put_archive, self.container_id, "/", archive)
        except Exception as exc:
            raise self._failure(f"copying {path} into the container", exc) from exc

    async def _copy_base(self, base: str) -> None:
        """Copy the host directory ``base`` to the root; keep its archive for diff() unless it is
        a git tree (then git in the container knows the base)."""
        ids = await self._user_ids()
        parent, name = posixpath.split(self.root)
        archive = await _in_thread(_base_archive, base, name, ids)
        try:  # the root itself is in the archive, so that it too becomes the user's
            await _in_thread(self._docker.api.put_archive, self.container_id, parent, archive)
        except BaseException as exc:
            archive.close()
            if isinstance(exc, Exception):
                raise self._failure(f"copying {base} into the container", exc) from exc
            raise
        if self._base_is_git:
            archive.close()
        else:
            self._snapshot = archive

    async def _start_command(
        self, command: str, cwd: str | None, env: Mapping[str, str] | None, stdin: bytes | None, tag: str
    ) -> _Run:
        self._check_open()
        command = _check_text(command, "command")
        cwd = self._path(cwd) if cwd is not None else self.root
        full_env = self._env(env, tag)
        stdin_path = ""
        if stdin:
            if not isinstance(stdin, bytes | bytearray):
                raise SandboxError("stdin must be bytes")
            stdin_path = f"/tmp/.swerve-stdin-{tag}"
            await self._put_file(stdin_path, bytes(stdin))
        argv = ["/bin/sh", "-c", _COMMAND_WRAPPER, "swerve", cwd, command, stdin_path]
        return await self._start(argv, env=full_env, tag=tag, out=OutputBuffer(self.output_limit_bytes))

    async def exec(
        self,
        command: str,
        *,
        cwd: str | None = None,
        timeout: float = 120.0,
        env: dict[str, str] | None = None,
        stdin: bytes | None = None,
    ) -> ExecResult:
        """Run a shell command in the container; a timeout kills its whole process tree."""
        if not isinstance(timeout, int | float) or not timeout > 0 or math.isinf(timeout):
            raise SandboxError(f"timeout must be a positive number of seconds, not {timeout!r}")
        start = time.monotonic()
        tag = new_tag()
        run = await self._start_command(command, cwd, env, stdin, tag)
        timed_out = False
        try:
            if not await run.wait(timeout):
                timed_out = True
                await self._kill(tag)
                await run.wait(KILL_WAIT_S)
        except BaseException:  # cancelled: leave nothing running
            await asyncio.shield(self._kill(tag))
            run.close()
            raise
        run.close()
        code = await self._exit_code(run, timed_out, cwd)
        buffer = run.sink.out
        return ExecResult(
            exit_code=code,
            output=buffer.text(),
            duration_s=time.monotonic() - start,
            timed_out=timed_out,
            truncated_bytes=buffer.dropped,
        )

    async def _exit_code(self, run: _Run, timed_out: bool, cwd: str | None) -> int:
        if _NO_CWD in run.sink.err:
            raise SandboxError(f"working directory does not exist: {self._path(cwd or self.root)}")
        if _NO_STDIN in run.sink.err:
            raise SandboxError("the command's stdin could not be passed to it (is /tmp writable?)")
        if run.sink.exit_code is not None:
            return run.sink.exit_code
        if timed_out:
            return 137  # killed: 128 + SIGKILL
        failure = run.failure()
        if failure is not None:
            raise self._failure("reading a command's output", failure)
        await self._check_running()
        try:
            info = await _in_thread(self._docker.api.exec_inspect, run.exec_id)
        except Exception as exc:
            raise self._failure("inspecting a command", exc) from exc
        code = info.get("ExitCode")
        return -1 if code is None else int(code)

    async def spawn(
        self, command: str, *, cwd: str | None = None, env: dict[str, str] | None = None
    ) -> DockerJob:
        """Start a command in the background; its output is read as it comes."""
        tag = new_tag()
        run = await self._start_command(command, cwd, env, None, tag)
        self._job_counter += 1
        job = DockerJob(self, f"bg{self._job_counter}", command, run)
        self._jobs[job.id] = job
        return job

    # -- files ------------------------------------------------------------------------------

    async def read_bytes(self, path: str) -> bytes:
        path = self._path(path)
        code, out, message = await self._op(_READ, path)
        if code:
            raise _os_error(code, path, message)
        return out

    async def write_bytes(self, path: str, data: bytes) -> None:
        """Write a file as the container's user, creating parent directories; an existing file
        keeps its mode and owner, and a symlink is followed, as ``open(path, "wb")`` would."""
        self._check_open()
        path = self._path(path)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise SandboxError("data must be bytes")
        incoming = f"/tmp/.swerve-write-{new_tag()}"
        await self._put_file(incoming, bytes(data))
        code, _, message = await self._op(_WRITE, path, posixpath.dirname(path) or "/", incoming)
        if code:
            raise _os_error(code, path, message)

    async def list_dir(self, path: str) -> list[DirEntry]:
        path = self._path(path)
        code, out, message = await self._op(_LIST, path)
        if code:
            raise _os_error(code, path, message)
        return _parse_listing(out)

    async def stat(self, path: str) -> FileStat | None:
        """None when nothing is there. Does not follow a final symlink."""
        path = self._path(path)
        self._check_open()
        api = self._docker.api

        def head() -> Any:
            return api.head(api._url("/containers/{0}/archive", self.container_id), params={"path": path})

        try:
            response = await _in_thread(head)
        except Exception as exc:
            raise self._failure(f"stat {path}", exc) from exc
        header = response.headers.get("X-Docker-Container-Path-Stat")
        if response.status_code != 200 or not header:
            await self._check_running()  # a missing container answers 404 too
            if response.status_code in (404, 500):  # 500: a parent is not a directory
                return None
            raise SandboxError(f"docker: stat {path} failed with HTTP {response.status_code}")
        info = json.loads(base64.b64decode(header))
        mode = int(info.get("mode", 0))
        return FileStat(
            path=path,
            is_dir=bool(mode & _GO_MODE_DIR),
            is_file=not mode & _GO_MODE_TYPES,
            is_symlink=bool(mode & _GO_MODE_SYMLINK),
            size=int(info.get("size", 0)),
            mtime=_parse_go_time(info.get("mtime", "")),
        )

    async def realpath(self, path: str) -> str:
        path = self._path(path)
        code, out, message = await self._op(_REALPATH, path)
        if code:
            raise SandboxError(f"docker: realpath {path} failed: {message}")
        resolved = out.decode("utf-8", "replace")
        return "/" + resolved.lstrip("/") if resolved else path

    # -- state ------------------------------------------------------------------------------

    async def diff(self) -> str:
        """Changes against the base: ``git diff`` (untracked files included) in the container
        when the base was a git tree or when there was no base, else a patch computed against
        the copy of the base taken at open time; "" when neither applies."""
        self._check_open()
        if self._snapshot is not None:
            async with self._diff_lock:
                return await self._snapshot_diff()
        code, out, message = await self._op(_GIT_DIFF, self.root, timeout=600.0)
        if code == 0:
            return out.decode("utf-8", "replace")
        if code == 5 or (code == 4 and not self._base_is_git):
            return ""
        if code == 4:
            raise SandboxError(f"diff() needs git in the image {self.image!r} (the base is a git tree)")
        if code == 3:
            raise SandboxError(f"the workspace root {self.root} no longer exists in the container")
        raise SandboxError(f"git diff failed in {self.root}: {message[:500]}")

    async def _snapshot_diff(self) -> str:
        api = self._docker.api

        def fetch() -> Any:
            stream, _ = api.get_archive(self.container_id, self.root, chunk_size=1 << 16)
            spool = tempfile.SpooledTemporaryFile(max_size=32 << 20)  # noqa: SIM115
            for chunk in stream:
                spool.write(chunk)
            spool.seek(0)
            return spool

        try:
            current = await _in_thread(fetch)
        except Exception as exc:
            raise self._failure(f"reading {self.root} back", exc) from exc
        try:
            return await _in_thread(_tree_diff, self._snapshot, current)
        finally:
            current.close()

    async def close(self) -> None:
        """Remove the container (and so everything running in it). Idempotent."""
        if self._closed:
            return
        self._closed = True
        for job in self._jobs.values():
            job._abandon()
        self._jobs.clear()
        if self._snapshot is not None:
            self._snapshot.close()
            self._snapshot = None
        await _remove_quietly(self._docker.api, self.container_id)


def _parse_listing(out: bytes) -> list[DirEntry]:
    records = out.split(b"\0")
    try:
        end = records.index(b"")
    except ValueError:
        end = len(records)
    rows = [r for r in records[:end] if len(r) >= 3]
    sizes_text = b"\0".join(records[end + 1 :]).split()
    files = [r for r in rows if r[:1] == b"f"]
    sizes = [int(s) for s in sizes_text if s.isdigit()]
    if len(sizes) != len(files):  # a file came or went between the two passes
        sizes = [0] * len(files)
    by_name = dict(zip((r[2:] for r in files), sizes, strict=True))
    return [
        DirEntry(
            name=r[2:].decode("utf-8", "replace"),
            is_dir=r[:1] == b"d",
            is_symlink=r[1:2] == b"1",
            size=by_name.get(r[2:], 0) if r[:1] == b"f" else 0,
        )
        for r in rows
    ]


# -- diff against a copy of the base ------------------------------------------------------------


def _tree_diff(before: Any, after: Any) -> str:
    """A git-style patch from the tree in tar ``before`` to the tree in tar ``after``; both hold
    one directory ("<dir>/path"), as the archive endpoint returns one."""
    import tarfile

    before.seek(0)
    after.seek(0)
    with (
        tarfile.open(fileobj=before, mode="r:") as old_tar,
        tarfile.open(fileobj=after, mode="r:") as new_tar,
    ):
        old = _tar_index(old_tar)
        new = _tar_index(new_tar)
        return "".join(
            _file_patch(path, _tar_blob(old_tar, old.get(path)), _tar_blob(new_tar, new.get(path)))
            for path in sorted(old.keys() | new.keys())
        )


def _tar_index(tar: Any) -> dict[str, Any]:
    """Path below the top directory -> member, for regular files, hard links and symlinks."""
    index = {}
    for member in tar:
        if not (member.isreg() or member.islnk() or member.issym()):
            continue
        name = posixpath.normpath(member.name.lstrip("/")).partition("/")[2]
        if name and name != "." and not name.startswith("../"):
            index[name] = member
    return index


def _tar_blob(tar: Any, member: Any) -> tuple[str, bytes] | None:
    """(git mode, content) of a member; a symlink's content is its target."""
    if member is None:
        return None
    if member.issym():
        return "120000", member.linkname.encode("utf-8", "surrogateescape")
    f = tar.extractfile(member)
    data = f.read() if f is not None else b""
    return ("100755" if member.mode & 0o111 else "100644"), data


def _as_text(data: bytes) -> str | None:
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _lines(text: str) -> list[str]:
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _hunks(old: str, new: str) -> str:
    import difflib

    out = []
    for line in list(difflib.unified_diff(_lines(old), _lines(new), n=3))[2:]:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _file_patch(path: str, old: tuple[str, bytes] | None, new: tuple[str, bytes] | None) -> str:
    if old == new:
        return ""
    if old is not None and new is not None and old[0] != new[0] and "120000" in (old[0], new[0]):
        return _file_patch(path, old, None) + _file_patch(path, None, new)  # file <-> symlink
    out = [f"diff --git a/{path} b/{path}\n"]
    if old is None and new is not None:
        out.append(f"new file mode {new[0]}\n")
    elif new is None and old is not None:
        out.append(f"deleted file mode {old[0]}\n")
    elif old is not None and new is not None and old[0] != new[0]:
        out += [f"old mode {old[0]}\n", f"new mode {new[0]}\n"]
    old_data = old[1] if old else b""
    new_data = new[1] if new else b""
    if old_data == new_data:
        return "".join(out)
    src = f"a/{path}" if old else "/dev/null"
    dst = f"b/{path}" if new else "/dev/null"
    old_text, new_text = _as_text(old_data), _as_text(new_data)
    if old_text is None or new_text is None:
        out.append(f"Binary files {src} and {dst} differ\n")
    else:
        out += [f"--- {src}\n", f"+++ {dst}\n", _hunks(old_text, new_text)]
    return "".join(out)


async def _remove_quietly(api: Any, container: str) -> None:
    try:
        await _in_thread(api.remove_container, container, force=True)
    except Exception as exc:
        if not (_is_not_found(exc) or _status(exc) == 409):  # gone, or removal under way
            log.warning("could not remove docker container %s: %s", container[:12], _explain(exc))


# -- opening and sweeping -----------------------------------------------------------------------


def _base_archive(base: str, name: str, ids: tuple[int, int]) -> Any:
    """A tar of ``base`` as ``name`` (entries owned by ``ids``, symlinks kept), spooled to disk
    when large."""
    import tarfile

    def owned(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid, info.gid = ids
        info.uname = info.gname = ""
        return info

    spool = tempfile.SpooledTemporaryFile(max_size=32 << 20)  # noqa: SIM115
    try:
        with tarfile.open(fileobj=spool, mode="w", format=tarfile.PAX_FORMAT) as tar:
            tar.add(base, arcname=name, recursive=True, filter=owned)
    except OSError as exc:
        spool.close()
        raise SandboxError(f"cannot read the base directory {base}: {exc}") from exc
    spool.seek(0)
    return spool


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
        info = await _in_thread(api.inspect_image, image)
        return str((info.get("Config") or {}).get("User") or "")
    except Exception as exc:
        if not _is_not_found(exc):
            raise SandboxError(f"docker: cannot inspect the image {image!r}: {_explain(exc)}") from exc

    def pull() -> None:
        from docker.utils import parse_repository_tag

        repo, tag = parse_repository_tag(image)
        for event in api.pull(repo, tag=tag or "latest", stream=True, decode=True):
            if isinstance(event, dict) and event.get("error"):
                raise SandboxError(str(event["error"]))

    try:
        await _in_thread(pull)
        info = await _in_thread(api.inspect_image, image)
    except Exception as exc:
        raise SandboxError(
            f"docker: the image {image!r} is not on this machine and pulling it failed: {_explain(exc)}"
        ) from exc
    return str((info.get("Config") or {}).get("User") or "")


async def open_docker_workspace(
    base: str | None,
    *,
    image: str,
    timeout: float = 120.0,
    memory_mb: int | None = None,
    network: bool = False,
    workdir: str = "/workspace",
    ttl_s: float = 3600,
    labels: dict | None = None,
) -> DockerWorkspace:
    """Create a container from ``image`` and return it as a Workspace rooted at ``workdir``.

    ``base`` (a host directory) is copied to ``workdir`` when given. The container has no
    network unless ``network`` (then the daemon's default network), at most ``memory_mb`` MiB
    of memory when given, and stops by itself after ``ttl_s`` seconds. An image that is not on
    the machine is pulled first (not counted in ``timeout``, which bounds creating the container
    and copying the base). Raises SandboxError with the cause when anything fails.
    """
    base, root, extra_labels = _validate_open(base, image, timeout, memory_mb, workdir, ttl_s, labels)
    docker = await _docker()
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
        LABEL_OWNER_NS: _owner_ns(),
        LABEL_EXPIRES: str(expires),
    }
    name = f"swerve-{secrets.token_hex(8)}"
    host_config: dict[str, Any] = {"auto_remove": True, "init": False}
    if not network:
        host_config["network_mode"] = "none"
    if memory_mb is not None:
        host_config["mem_limit"] = f"{memory_mb}m"
        host_config["memswap_limit"] = f"{memory_mb}m"

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
            container = await _call(f"creating a container from {image!r}", create)
            created = True
            await _call("starting the container", api.start, container)
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
            await asyncio.shield(_remove_quietly(api, name))
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
    here = _owner_ns()
    removed = []
    for container in api.containers(all=True, filters={"label": f"{LABEL_SANDBOX}=1"}):
        if not _is_orphan(container.get("Labels") or {}, container.get("State"), now, here):
            continue
        try:
            api.remove_container(container["Id"], force=True)
        except Exception as exc:
            if not (_is_not_found(exc) or _status(exc) == 409):
                log.warning("could not remove orphan container %s: %s", container["Id"][:12], _explain(exc))
                continue
        removed.append(container["Id"])
    return removed


async def sweep_docker_orphans(*, now: float | None = None) -> list[str]:
    """Remove swerve containers whose owner process died (same machine and pid namespace) or
    whose TTL passed; returns their ids."""
    docker = await _docker()
    return await _call("sweeping orphan containers", _sweep, docker.api, time.time() if now is None else now)


async def _sweep_once() -> None:
    if _state["swept_pid"] == os.getpid():
        return
    _state["swept_pid"] = os.getpid()
    try:
        removed = await sweep_docker_orphans()
    except SandboxError as exc:
        log.warning("sweeping orphan docker sandboxes failed: %s", exc)
        return
    if removed:
        log.info("removed %d orphan docker sandbox(es)", len(removed))

"""The Docker sandbox: files and commands inside a container, through the Docker Engine API.

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

Exposes ``open_docker_workspace``, ``DockerWorkspace``, ``sweep_docker_orphans`` and the labels.
Imports nothing above the sandbox layer; the ``docker`` package is imported on first use.
"""

from swerve.sandbox.docker.api import (
    LABEL_EXPIRES,
    LABEL_OWNER_NS,
    LABEL_OWNER_PID,
    LABEL_OWNER_START,
    LABEL_SANDBOX,
)
from swerve.sandbox.docker.lifecycle import open_docker_workspace, sweep_docker_orphans
from swerve.sandbox.docker.workspace import DockerJob, DockerWorkspace

__all__ = [
    "LABEL_EXPIRES",
    "LABEL_OWNER_NS",
    "LABEL_OWNER_PID",
    "LABEL_OWNER_START",
    "LABEL_SANDBOX",
    "DockerJob",
    "DockerWorkspace",
    "open_docker_workspace",
    "sweep_docker_orphans",
]

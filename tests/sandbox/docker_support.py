"""Docker for the tests and benchmarks: a daemon that answers, and a small image built here.

``daemon_problem()`` pings the daemon and, when none answers, runs ``scripts/ensure-docker.sh``
(installs docker.io and busybox-static on Debian, starts dockerd) and pings again. ``local_image()``
builds ``swerve-test-busybox:<hash>`` with ``docker import`` from a root file system holding
this machine's static busybox (every applet linked to it) and, when the machine has git, git with
the shared libraries it needs. No registry is involved.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import shutil
import struct
import subprocess
import tarfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ENSURE_SCRIPT = REPO / "scripts" / "ensure-docker.sh"
IMAGE_REPO = "swerve-test-busybox"
_LAYOUT_VERSION = b"1"
_PT_INTERP = 3

_cache: dict[str, object] = {}


def api_client(timeout: int = 60):
    """A docker.APIClient for the daemon the environment names (DOCKER_HOST...), as swerve uses."""
    import docker
    from docker.utils import kwargs_from_env

    return docker.APIClient(**kwargs_from_env(), version="auto", timeout=timeout)


def _ping() -> str | None:
    try:
        api = api_client(10)
        api.ping()
        api.close()
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:300]


def daemon_problem() -> str | None:
    """None when a Docker daemon answers (starting one if need be), else the reason why not."""
    if "daemon" in _cache:
        return _cache["daemon"]  # type: ignore[return-value]
    if importlib.util.find_spec("docker") is None:
        _cache["daemon"] = "the docker Python package is not installed (pip install -e '.[docker]')"
        return _cache["daemon"]  # type: ignore[return-value]
    problem = _ping()
    if problem is not None and ENSURE_SCRIPT.exists():
        try:
            proc = subprocess.run(
                ["bash", str(ENSURE_SCRIPT)], capture_output=True, text=True, timeout=600, check=False
            )
            said = [line for line in proc.stderr.splitlines() if line.startswith("ensure-docker:")]
            detail = [line.removeprefix("ensure-docker: ") for line in said[-2:]]
        except (OSError, subprocess.TimeoutExpired) as exc:
            detail = [str(exc)]
        problem = _ping()
        if problem is not None and detail:
            problem += " / ensure-docker.sh: " + " | ".join(detail)
    _cache["daemon"] = problem
    return problem


def is_static_elf(path: str) -> bool:
    """True for an ELF executable without a program interpreter (so it runs in an empty root)."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if head[:4] != b"\x7fELF" or head[4] != 2:  # 64-bit only
                return False
            endian = "<" if head[5] == 1 else ">"
            phoff = struct.unpack_from(endian + "Q", head, 32)[0]
            phentsize, phnum = struct.unpack_from(endian + "HH", head, 54)
            f.seek(phoff)
            table = f.read(phentsize * phnum)
    except (OSError, struct.error, IndexError):
        return False
    for i in range(phnum):
        (p_type,) = struct.unpack_from(endian + "I", table, i * phentsize)
        if p_type == _PT_INTERP:
            return False
    return True


def find_static_busybox() -> str | None:
    for candidate in (shutil.which("busybox"), "/bin/busybox", "/usr/bin/busybox"):
        if candidate and os.path.isfile(candidate) and is_static_elf(candidate):
            return os.path.realpath(candidate)
    return None


def _git_files() -> list[str]:
    """git and the shared objects it loads (from ldd), or [] when there is no usable git."""
    git = shutil.which("git")
    if not git:
        return []
    try:
        out = subprocess.run(["ldd", git], capture_output=True, text=True, timeout=30, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    files = [git]
    for line in out.splitlines():
        parts = line.split()
        if "=>" in parts:
            target = parts[parts.index("=>") + 1]
            if target.startswith("/"):
                files.append(target)
        elif parts and parts[0].startswith("/"):
            files.append(parts[0])  # the program interpreter
    return files if all(os.path.isfile(f) for f in files) else []


def _add_dir(tar: tarfile.TarFile, name: str, mode: int = 0o755) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = mode
    tar.addfile(info)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    tar.addfile(info, io.BytesIO(data))


def rootfs_tar(busybox: str, git_files: list[str]) -> bytes:
    """A root file system: busybox and its applets in /bin, git at /usr/bin/git with its libraries."""
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True).stdout.split()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for d in ("bin", "etc", "root", "usr", "usr/bin", "dev", "proc", "sys"):
            _add_dir(tar, d)
        _add_dir(tar, "tmp", 0o1777)
        _add_bytes(tar, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
        _add_bytes(tar, "etc/group", b"root:x:0:\n")
        with open(busybox, "rb") as f:
            _add_bytes(tar, "bin/busybox", f.read(), 0o755)
        for applet in applets:
            if applet != "busybox" and "/" not in applet:
                link = tarfile.TarInfo(f"bin/{applet}")
                link.type = tarfile.SYMTYPE
                link.linkname = "busybox"
                tar.addfile(link)
        made = {"bin", "etc", "root", "usr", "usr/bin", "dev", "proc", "sys", "tmp"}
        for i, path in enumerate(git_files):
            name = "usr/bin/git" if i == 0 else path.lstrip("/")
            parent = os.path.dirname(name)
            parts = parent.split("/")
            for depth in range(1, len(parts) + 1):
                d = "/".join(parts[:depth])
                if d not in made:
                    _add_dir(tar, d)
                    made.add(d)
            with open(path, "rb") as f:
                _add_bytes(tar, name, f.read(), 0o755)
    return buf.getvalue()


def local_image() -> tuple[str | None, str | None, bool]:
    """(image name, problem, has git): the local test image, built on first use."""
    if "image" in _cache:
        return _cache["image"]  # type: ignore[return-value]
    busybox = find_static_busybox()
    if busybox is None:
        result: tuple[str | None, str | None, bool] = (
            None,
            "no static busybox on this machine (apt-get install busybox-static)",
            False,
        )
        _cache["image"] = result
        return result
    git_files = _git_files()
    digest = hashlib.sha256(_LAYOUT_VERSION)
    for path in [busybox, *git_files]:
        with open(path, "rb") as f:
            digest.update(f.read())
    tag = digest.hexdigest()[:12]
    name = f"{IMAGE_REPO}:{tag}"
    import docker

    api = api_client(120)
    try:
        try:
            api.inspect_image(name)
        except docker.errors.ImageNotFound:
            api.import_image_from_data(rootfs_tar(busybox, git_files), repository=IMAGE_REPO, tag=tag)
            api.inspect_image(name)
        result = (name, None, bool(git_files))
    except Exception as exc:
        result = (None, f"could not build the test image: {exc}"[:300], False)
    finally:
        api.close()
    _cache["image"] = result
    return result


def user_image(image: str, user: str) -> str:
    """``image`` with ``USER user`` (committed from a container that never ran), built once."""
    name = f"{IMAGE_REPO}-user{user.replace(':', '-')}:{image.rpartition(':')[2]}"
    import docker

    api = api_client(120)
    try:
        try:
            api.inspect_image(name)
        except docker.errors.ImageNotFound:
            container = api.create_container(image, command=["true"])
            try:
                repo, _, tag = name.rpartition(":")
                api.commit(container["Id"], repository=repo, tag=tag, changes=[f"USER {user}"])
            finally:
                api.remove_container(container["Id"], force=True)
    finally:
        api.close()
    return name

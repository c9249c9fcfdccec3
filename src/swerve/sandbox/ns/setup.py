"""What a namespace environment is made of, checked and resolved before anything starts: its
layers, root, hidden paths, read-only binds and environment variables (see ``workspace``)."""

from __future__ import annotations

import fnmatch
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from swerve.errors import SandboxError
from swerve.sandbox.ns.files import DEFAULT_PATH
from swerve.sandbox.ns.limits import Limits
from swerve.sandbox.ns.state import ProcessState
from swerve.sandbox.output import QUIET_ENV

Mode = Literal["stateless", "persistent"]

DEFAULT_OUTPUT_LIMIT = 1 << 20
# host variables that may pass into a sandbox; everything else (API keys included) stays out
DEFAULT_ENV_ALLOWLIST = (
    "PATH",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "LC_MESSAGES",
    "LC_COLLATE",
    "LC_NUMERIC",
    "LC_TIME",
    "TERM",
    "TZ",
    "COLUMNS",
    "LINES",
    "NO_COLOR",
)
# host paths a sandbox never sees (directories become empty, files /dev/null)
DEFAULT_HIDDEN = (
    "/root",
    "/home",
    "/var/tmp",
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/ssh",
    "/etc/sudoers",
    "/etc/sudoers.d",
    "/var/lib/docker",
    "/var/lib/containerd",
    # service credentials, readable to a sandbox when swerve runs as root
    "/etc/docker",
    "/var/cache/debconf/passwords.dat",
    "/etc/ssl/private",
    "/etc/krb5.keytab",
    "/etc/mysql/debian.cnf",
    "/etc/letsencrypt",
    "/etc/kubernetes",
    "/var/lib/kubelet",
    "/var/lib/sss",
    "/var/lib/private",
    "/etc/credstore",
)
# files at the top of a workspace that hold credentials: hidden inside the sandbox too
DEFAULT_SECRET_GLOBS = (".env", ".env.*", ".netrc", ".git-credentials", ".npmrc", ".pypirc")
SANDBOX_HOME = "/root"


def _check_layer_path(path: str, what: str) -> str:
    if any(c in path for c in ",:\\\n"):
        raise SandboxError(
            f"{what} {path!r} contains one of , : \\ or a newline, which overlayfs cannot take"
        )
    return path


def layered(
    lowers: Sequence[str | os.PathLike[str]], root: str | None, secret_globs: Iterable[str]
) -> tuple[list[str], str, list[str]]:
    """(layers as real paths, the sandbox root, the secret files to hide) for ``create``."""
    if not lowers:
        raise SandboxError("a namespace sandbox needs at least one lower layer")
    layers = []
    for layer in lowers:
        path = os.path.realpath(os.fspath(layer))
        if not os.path.isdir(path):
            raise SandboxError(f"layer is not a directory: {os.fspath(layer)}")
        layers.append(_check_layer_path(path, "layer"))
    root = _absolute_root(root or layers[-1])
    return layers, root, _secret_paths(root, layers, secret_globs)


def read_only_binds(layers: Sequence[str], root: str, read_only: Iterable[str]) -> dict[str, str]:
    """Read-only binds that keep ``read_only`` paths (relative to the root) as the layers have them:
    the top layer that holds each one shows it, read-only, at its place under the root."""
    binds = {}
    for rel in read_only:
        for layer in layers:
            host = os.path.normpath(os.path.join(layer, rel))
            if _under(host, layer) and os.path.lexists(host) and not os.path.islink(host):
                binds[os.path.normpath(os.path.join(root, rel))] = host
                break
    return binds


def project(
    project_dir: str | os.PathLike[str],
    expose: Iterable[str],
    secret_globs: Iterable[str],
    read_only: Iterable[str] = (),
) -> tuple[str, dict[str, str], list[str]]:
    """(the project's real path, read-only binds, the secret files to hide) for ``open_project``.
    The Python that runs swerve is exposed when it lives under a hidden directory; the existing
    ``read_only`` paths (relative to the project) stay read-only inside."""
    path = os.path.realpath(os.fspath(project_dir))
    if not os.path.isdir(path):
        raise SandboxError(f"project directory does not exist: {os.fspath(project_dir)}")
    exposed = [os.path.realpath(p) for p in expose] + python_installations()
    binds = {p: p for p in exposed if not _under(p, path)}
    for rel in read_only:
        inside = os.path.normpath(os.path.join(path, rel))
        if _under(inside, path) and os.path.lexists(inside) and not os.path.islink(inside):
            binds[inside] = inside
    return path, binds, _secret_paths(path, [path], secret_globs)


# under a hidden home, what a Python installation may show: never the user's keys or settings
_PRIVATE_TOPS = {".ssh", ".gnupg", ".aws", ".azure", ".kube", ".docker", ".config", ".netrc", ".swerve"}
_USER_BASE_PARTS = ("bin", "lib")  # of ~/.local: pip --user's scripts and packages, not ~/.local/share


def python_installations(path_env: str | None = None) -> list[str]:
    """The Python installations a command here would use that live in hidden places (pyenv, conda,
    ``pip --user`` under the home directory): the one running swerve, and those of ``python3`` /
    ``python`` on PATH. Shown read-only, a sandbox runs the same interpreter with the same packages
    as the host instead of falling back to the system's."""
    hidden = [os.path.realpath(h) for h in (*DEFAULT_HIDDEN, os.path.expanduser("~"))]
    candidates = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
    for folder in (path_env if path_env is not None else os.environ.get("PATH", "")).split(os.pathsep):
        for name in ("python3", "python"):
            exe = os.path.join(folder, name)
            if folder and os.access(exe, os.X_OK):
                candidates.update({os.path.abspath(folder), os.path.dirname(os.path.realpath(exe))})
    out: list[str] = []
    for candidate in sorted(candidates):
        top = next((h for h in hidden if _under(candidate, h) and candidate != h), None)
        if top is None:
            continue
        first = os.path.relpath(candidate, top).split(os.sep)[0]
        if first in _PRIVATE_TOPS:
            continue
        root = os.path.join(top, first)
        shown = [os.path.join(root, p) for p in _USER_BASE_PARTS] if first == ".local" else [root]
        out += [p for p in shown if os.path.isdir(p) and p not in out]
    return out


def resolve(
    *,
    root: str,
    project_dir: str | None,
    mode: Mode,
    limits: Limits | None,
    env: Mapping[str, str] | None,
    env_allowlist: Iterable[str],
    hidden: Iterable[str],
    ro_binds: Mapping[str, str] | None,
    state: ProcessState,
    output_limit_bytes: int,
    same_uid: bool,
) -> dict[str, Any]:
    """The checked settings of a new environment: ``limits``, ``env``, ``hidden`` and ``ro_binds``
    as the workspace keeps them. Raises SandboxError for settings that cannot work."""
    if mode not in ("stateless", "persistent"):
        raise SandboxError(f"mode must be 'stateless' or 'persistent', not {mode!r}")
    limits = limits or Limits()
    if not isinstance(limits, Limits):
        raise SandboxError("limits must be a swerve.sandbox.ns.limits.Limits")
    if output_limit_bytes < 2:
        raise SandboxError("output_limit_bytes must be at least 2")
    binds = []
    for dst, src in (ro_binds or {}).items():
        if not os.path.isabs(dst) or not os.path.exists(src):
            raise SandboxError(
                f"read-only bind {src} -> {dst}: the sandbox path must be absolute and the host path exist"
            )
        binds.append((os.path.realpath(src), os.path.normpath(dst)))
    home = os.path.realpath(os.path.expanduser("~"))
    hidden_all: list[str] = []
    for h in [*DEFAULT_HIDDEN, home, state.root, *hidden]:
        h = os.path.normpath(h)
        if os.path.isabs(h) and h != "/" and h not in hidden_all and h != root:
            hidden_all.append(h)
    base_env = {k: os.environ[k] for k in env_allowlist if k in os.environ}
    base_env.setdefault("PATH", DEFAULT_PATH)
    base_env.update({"HOME": SANDBOX_HOME, "USER": "root", "LOGNAME": "root"} if not same_uid else {})
    base_env.update({"TMPDIR": "/tmp", **QUIET_ENV, **(env or {})})
    return {"limits": limits, "env": base_env, "hidden": hidden_all, "ro_binds": binds}


def _under(path: str, parent: str) -> bool:
    parent = parent.rstrip("/") or "/"
    return path == parent or path.startswith(parent + "/") or parent == "/"


def _absolute_root(root: str) -> str:
    if not isinstance(root, str) or not os.path.isabs(root) or "\0" in root:
        raise SandboxError(f"the workspace root must be an absolute path, not {root!r}")
    root = os.path.normpath(root)
    if root == "/":
        raise SandboxError("the workspace root cannot be /")
    return _check_layer_path(root, "workspace root")


def _secret_paths(root: str, layers: list[str], globs: Iterable[str]) -> list[str]:
    """Sandbox paths of top-level files in the layers that match ``globs``."""
    patterns = list(globs)
    if not patterns:
        return []
    out = []
    for layer in layers:
        try:
            names = os.listdir(layer)
        except OSError:
            continue
        for name in names:
            if any(fnmatch.fnmatchcase(name, p) for p in patterns):
                path = os.path.join(root, name)
                if path not in out:
                    out.append(path)
    return out

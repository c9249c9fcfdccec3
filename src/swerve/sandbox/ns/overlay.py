"""Overlay layers seen from the host: lookups with overlayfs rules, diffs, frozen copies.

A layer directory holds files, whiteouts (a character device 0/0: "deleted here") and opaque
directories (xattr ``user.overlay.opaque=y``, or ``trusted.`` for layers made by root without a
user namespace: "nothing below shows through"). Layers are listed top first, as in
overlayfs's ``lowerdir=``.
"""

from __future__ import annotations

import asyncio
import difflib
import os
import stat as stat_mod

from swerve.errors import SandboxError
from swerve.gitenv import safe_git_env

OPAQUE_XATTRS = ("user.overlay.opaque", "trusted.overlay.opaque")
MAX_DIFF_FILE = 8 << 20  # larger files are reported as changed, not diffed line by line

# the diff of a git work tree inside a sandbox, untracked files included, without touching its index
GIT_DIFF_SCRIPT = r"""
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then echo __SWERVE_NOT_GIT__; exit 0; fi
idx=$(mktemp) || exit 3
gi=$(git rev-parse --git-path index) && [ -f "$gi" ] && cp -p "$gi" "$idx"  # its mtime: git trusts stat data older than its index
export GIT_INDEX_FILE="$idx"
git add --intent-to-add --all -- . >/dev/null 2>&1
base=HEAD
git rev-parse --verify --quiet 'HEAD^{commit}' >/dev/null || base=$(git hash-object -t tree /dev/null)
git diff --no-color --no-ext-diff --no-textconv --binary --relative "$base" -- . 2>/tmp/.swerve-diff-err || {
  echo __SWERVE_DIFF_FAILED__; cat /tmp/.swerve-diff-err; exit 4; }
"""
GIT_ENV = safe_git_env()  # no hook, fsmonitor, pager or external diff of the repository's runs


def is_whiteout(st: os.stat_result) -> bool:
    return stat_mod.S_ISCHR(st.st_mode) and st.st_rdev == 0


def is_opaque(path: str) -> bool:
    for name in OPAQUE_XATTRS:
        try:
            if os.getxattr(path, name, follow_symlinks=False) == b"y":
                return True
        except OSError:
            continue
    return False


class LayerView:
    """The merged view of ``layers`` (top first), read from the host."""

    def __init__(self, layers: list[str]) -> None:
        self.layers = layers

    def lookup(self, rel: str) -> tuple[str, os.stat_result] | None:
        """The host path and lstat of what the merged view shows at ``rel``, or None."""
        parts = [p for p in rel.split("/") if p]
        candidates = list(self.layers)
        for depth, name in enumerate(parts):
            last = depth == len(parts) - 1
            next_candidates = []
            for layer_dir in candidates:
                path = os.path.join(layer_dir, name)
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                if is_whiteout(st):
                    break
                if last:
                    return path, st
                if not stat_mod.S_ISDIR(st.st_mode):
                    break  # a file hides whatever lies below it
                next_candidates.append(path)
                if is_opaque(path):
                    break
            if not next_candidates:
                return None
            candidates = next_candidates
        if not parts:
            return self.layers[0], os.lstat(self.layers[0])
        return None

    def listdir(self, rel: str) -> dict[str, tuple[str, os.stat_result]]:
        """Entries of a merged directory: name -> (host path, lstat)."""
        out: dict[str, tuple[str, os.stat_result]] = {}
        hidden: set[str] = set()
        parts = [p for p in rel.split("/") if p]
        dirs = []
        for layer_dir in self.layers:
            path = os.path.join(layer_dir, *parts)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if is_whiteout(st) or not stat_mod.S_ISDIR(st.st_mode):
                break
            dirs.append(path)
            if is_opaque(path):
                break
        for d in dirs:
            try:
                names = os.listdir(d)
            except OSError:
                continue
            for name in names:
                if name in out or name in hidden:
                    continue
                p = os.path.join(d, name)
                try:
                    st = os.lstat(p)
                except OSError:
                    continue
                if is_whiteout(st):
                    hidden.add(name)
                else:
                    out[name] = (p, st)
        return out

    def files_under(self, rel: str) -> list[str]:
        """Relative paths of every non-directory in the merged view under ``rel``."""
        found = self.lookup(rel)
        if found is None:
            return []
        if not stat_mod.S_ISDIR(found[1].st_mode):
            return [rel]
        out = []
        for name, (_, st) in sorted(self.listdir(rel).items()):
            child = f"{rel}/{name}" if rel else name
            if stat_mod.S_ISDIR(st.st_mode):
                out += self.files_under(child)
            else:
                out.append(child)
        return out


class Delegate(Exception):
    """The host cannot answer this exactly; ask the sandbox."""


def _inside(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


class HostReader:
    """Read-only lookups in a workspace's merged layers, answered on the host.

    Exact only for paths plainly inside the workspace root: anything that passes through a
    symlink, leaves the root, or touches a hidden or separately mounted path raises
    ``Delegate`` so that the sandbox answers instead.
    """

    def __init__(self, root: str, layers: list[str], blocked: list[str]) -> None:
        self.root = root
        self.view = LayerView(layers)
        self.blocked = [b for b in blocked if _inside(b, root) and b != root]

    def entry(self, path: str, *, follow: bool) -> tuple[str, os.stat_result] | None:
        """(host path, lstat) of ``path``; None when nothing is there."""
        if not _inside(path, self.root) or any(_inside(path, b) for b in self.blocked):
            raise Delegate
        rel = path[len(self.root) :].strip("/")
        parts = [p for p in rel.split("/") if p and p != "."]
        if ".." in parts:
            raise Delegate  # ".." after a symlink is not lexical
        candidates = list(self.view.layers)
        found: tuple[str, os.stat_result] | None = (self.view.layers[0], os.lstat(self.view.layers[0]))
        for depth, name in enumerate(parts):
            last = depth == len(parts) - 1
            found, next_candidates = None, []
            for layer_dir in candidates:
                p = os.path.join(layer_dir, name)
                try:
                    st = os.lstat(p)
                except FileNotFoundError:
                    continue
                except OSError:
                    raise Delegate from None
                if is_whiteout(st):
                    break
                if found is None:
                    found = (p, st)
                if not stat_mod.S_ISDIR(st.st_mode):
                    break
                next_candidates.append(p)
                if is_opaque(p):
                    break
            if found is None:
                return None
            mode = found[1].st_mode
            if stat_mod.S_ISLNK(mode) and (follow or not last):
                raise Delegate
            if not last and not stat_mod.S_ISDIR(mode):
                raise NotADirectoryError(20, os.strerror(20), path)
            candidates = next_candidates
        return found

    def listdir(self, path: str) -> list[tuple[str, bool, bool, int]]:
        """(name, is_dir, is_symlink, size) of a merged directory, following no symlink."""
        if any(os.path.dirname(b) == os.path.normpath(path) for b in self.blocked):
            raise Delegate
        found = self.entry(path, follow=True)
        if found is None:
            raise FileNotFoundError(2, os.strerror(2), path)
        if not stat_mod.S_ISDIR(found[1].st_mode):
            raise NotADirectoryError(20, os.strerror(20), path)
        rel = path[len(self.root) :].strip("/")
        out = []
        for name, (_, st) in self.view.listdir(rel).items():
            if stat_mod.S_ISLNK(st.st_mode):
                raise Delegate  # what it points to is for the sandbox to say
            is_dir = stat_mod.S_ISDIR(st.st_mode)
            out.append((name, is_dir, False, 0 if is_dir else st.st_size))
        return out


def _content(found: tuple[str, os.stat_result] | None) -> bytes | None:
    if found is None:
        return None
    path, st = found
    if stat_mod.S_ISLNK(st.st_mode):
        return os.readlink(path).encode()
    if stat_mod.S_ISREG(st.st_mode):
        if st.st_size > MAX_DIFF_FILE:
            return b"\0large:" + str(st.st_size).encode() + b":" + str(st.st_mtime_ns).encode()
        with open(path, "rb") as f:
            return f.read()
    return b""


def _file_patch(rel: str, old: bytes | None, new: bytes | None) -> str:
    if old == new:
        return ""
    a = f"a/{rel}" if old is not None else "/dev/null"
    b = f"b/{rel}" if new is not None else "/dev/null"
    head = f"diff --git a/{rel} b/{rel}\n"
    if old is None:
        head += "new file mode 100644\n"
    elif new is None:
        head += "deleted file mode 100644\n"
    try:
        if b"\0" in (old or b"") or b"\0" in (new or b""):
            raise UnicodeDecodeError("utf-8", b"", 0, 1, "binary")
        old_lines = (old or b"").decode().splitlines(keepends=True)
        new_lines = (new or b"").decode().splitlines(keepends=True)
    except UnicodeDecodeError:
        return head + f"Binary files {a} and {b} differ\n"
    body = []
    for line in difflib.unified_diff(old_lines, new_lines, a, b, n=3):
        body.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return head + "".join(body)


def may_be_git(root: str, layers: list[str]) -> bool:
    """Whether git could find a repository for ``root`` in the sandbox: a ``.git`` in one of the
    layers that make up the root, or in a folder above it on the host. Without one the diff is the
    layers' own, and no command runs to ask git."""
    if any(os.path.lexists(os.path.join(layer, ".git")) for layer in layers):
        return True
    here = os.path.dirname(os.path.abspath(root))
    while True:
        if os.path.lexists(os.path.join(here, ".git")):
            return True
        parent = os.path.dirname(here)
        if parent == here:
            return False
        here = parent


def layer_diff(upper: str, lowers: list[str]) -> str:
    """A unified diff of what ``upper`` changes over ``lowers`` (paths relative to the root)."""
    old_view, new_view = LayerView(lowers), LayerView([upper, *lowers])
    changed: set[str] = set()

    def visit(rel: str) -> None:
        directory = os.path.join(upper, rel) if rel else upper
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            return
        if rel and is_opaque(directory):
            changed.update(old_view.files_under(rel))
        for name in names:
            child = f"{rel}/{name}" if rel else name
            st = os.lstat(os.path.join(directory, name))
            if is_whiteout(st):
                changed.update(old_view.files_under(child))
            elif stat_mod.S_ISDIR(st.st_mode):
                old = old_view.lookup(child)
                if old is not None and not stat_mod.S_ISDIR(old[1].st_mode):
                    changed.add(child)
                visit(child)
            else:
                old = old_view.lookup(child)
                if old is not None and stat_mod.S_ISDIR(old[1].st_mode):
                    changed.update(old_view.files_under(child))
                changed.add(child)

    visit("")
    patches = []
    for rel in sorted(changed):
        old, new = old_view.lookup(rel), new_view.lookup(rel)
        if old is not None and stat_mod.S_ISDIR(old[1].st_mode):
            old = None
        if new is not None and stat_mod.S_ISDIR(new[1].st_mode):
            new = None
        patches.append(_file_patch(rel, _content(old), _content(new)))
    return "".join(patches)


async def copy_layer(src: str, dst: str) -> None:
    """Copy a layer exactly (whiteouts, xattrs, modes, links) into a new directory ``dst``."""
    os.makedirs(dst, exist_ok=False)
    proc = await asyncio.create_subprocess_exec(
        "cp",
        "-a",
        "--",
        f"{src}/.",
        dst,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise SandboxError(f"cannot copy the layer {src}: {out.decode(errors='replace').strip()[:500]}")


def fs_type(path: str) -> str:
    """The file system type of the mount holding ``path`` (from /proc/self/mountinfo)."""
    path = os.path.realpath(path)
    best, kind = "", ""
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                left, _, right = line.partition(" - ")
                mountpoint = left.split()[4].replace("\\040", " ")
                if _inside(path, mountpoint) and len(mountpoint) >= len(best):
                    best, kind = mountpoint, right.split()[0]
    except OSError:
        pass
    return kind


def usage_bytes(path: str) -> int:
    """Disk blocks used under ``path`` (like ``du -s``), in bytes."""
    total = 0
    stack = [path]
    while stack:
        d = stack.pop()
        try:
            it = os.scandir(d)
        except OSError:
            continue
        with it:
            for e in it:
                try:
                    st = e.stat(follow_symlinks=False)
                except OSError:
                    continue
                total += st.st_blocks * 512
                if e.is_dir(follow_symlinks=False):
                    stack.append(e.path)
    return total

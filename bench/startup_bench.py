"""Start-up benchmark: ``--help`` wall time, spawn to first model request, first request size.

Measures swerve and, in the same run, mini-swe-agent (installed from PyPI into bench/.out/mini-venv)
against the same loopback OpenAI-compatible server. Prints medians and ratios.

    .venv/bin/python bench/startup_bench.py [--runs 10] [--no-peers] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from swerve.testing.openai_server import OpenAIScriptServer

HERE = Path(__file__).resolve().parent
OUT = HERE / ".out"
VENV_BIN = Path(sys.executable).parent
GOALS = {"help_s": 0.150, "first_request_s": 0.400, "first_request_bytes": 12 * 1024}


def clean_env(base_url: str, home: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_", "MSWEA_"))}
    env.update(
        HOME=home,
        SWERVE_HOME=home,
        OPENAI_BASE_URL=base_url,
        OPENAI_API_BASE=base_url,
        OPENAI_API_KEY="sk-bench",
        OPENAI_MODEL="qwen3-coder-plus",
    )
    return env


def time_command(cmd: list[str], runs: int, env: dict[str, str], cwd: str) -> list[float]:
    times = []
    for _ in range(runs + 1):  # the first run warms the file cache and is dropped
        t0 = time.perf_counter()
        subprocess.run(
            cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
        )
        times.append(time.perf_counter() - t0)
    return times[1:]


def first_request(cmd: list[str], runs: int, env_for, cwd: str) -> tuple[list[float], list[int]]:
    """Seconds from spawn until the first request reaches the server, and its body size."""
    latencies, sizes = [], []
    for i in range(runs + 1):
        with OpenAIScriptServer([{"text": "hi"}] * 4) as srv:
            env = env_for(srv.base_url)
            t0 = time.time()
            proc = subprocess.Popen(
                cmd,
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            deadline = time.time() + 60
            while not srv.requests and time.time() < deadline and proc.poll() is None:
                time.sleep(0.002)
            proc.kill()
            proc.wait()
            if not srv.requests:
                raise RuntimeError(f"no request from {cmd[0]} (exit {proc.returncode})")
            req = srv.requests[0]
            if i:
                latencies.append(req.time - t0)
                sizes.append(len(req.body))
    return latencies, sizes


def mini_venv() -> Path | None:
    venv = OUT / "mini-venv"
    if not (venv / "bin" / "mini").exists():
        OUT.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        proc = subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "mini-swe-agent", "mcp"],
            capture_output=True,
            text=True,
        )
        if proc.returncode:
            print(f"mini-swe-agent could not be installed: {proc.stderr.strip()[-300:]}", file=sys.stderr)
            return None
    return venv


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--no-peers", action="store_true", help="measure swerve only")
    ap.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="swerve-bench-")
    repo = Path(work) / "repo"
    repo.mkdir()
    (repo / "hello.py").write_text("print('hello')\n")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    home = str(Path(work) / "home")
    swerve = str(VENV_BIN / "swerve")
    results: dict[str, dict[str, float]] = {}

    env = clean_env("http://127.0.0.1:9/v1", home)
    help_s = time_command([swerve, "--help"], args.runs, env, str(repo))
    fr_s, fr_b = first_request(
        [swerve, "-p", "Reply with the word hi."], args.runs, lambda u: clean_env(u, home), str(repo)
    )
    results["swerve"] = {
        "help_s": med(help_s),
        "first_request_s": med(fr_s),
        "first_request_bytes": med(fr_b),
    }

    if not args.no_peers:
        venv = mini_venv()
        if venv is not None:
            mini = str(venv / "bin" / "mini")

            def mini_env(url: str) -> dict[str, str]:
                e = clean_env(url, home)
                e.update(
                    MSWEA_CONFIGURED="true",
                    MSWEA_COST_TRACKING="ignore_errors",
                    MSWEA_SILENT_STARTUP="1",
                    LITELLM_LOCAL_MODEL_COST_MAP="True",
                )
                return e

            mhelp = time_command([mini, "--help"], args.runs, mini_env("http://127.0.0.1:9/v1"), str(repo))
            mcmd = [
                mini,
                "-m",
                "openai/qwen3-coder-plus",
                "-t",
                "Reply with the word hi.",
                "-y",
                "--exit-immediately",
                "-l",
                "0",
            ]
            mfr_s, mfr_b = first_request(mcmd, args.runs, mini_env, str(repo))
            results["mini-swe-agent"] = {
                "help_s": med(mhelp),
                "first_request_s": med(mfr_s),
                "first_request_bytes": med(mfr_b),
            }

    shutil.rmtree(work, ignore_errors=True)
    print(f"median of {args.runs} runs; machine: {os.cpu_count()} cores")
    print(f"{'':18}{'--help':>12}{'spawn->1st req':>16}{'1st req bytes':>15}")
    for name, r in results.items():
        print(
            f"{name:18}{r['help_s'] * 1000:>10.0f}ms{r['first_request_s'] * 1000:>14.0f}ms{r['first_request_bytes']:>15.0f}"
        )
    s = results["swerve"]
    print(
        "goals (swerve): "
        + ", ".join(
            f"{k} {'met' if s[k] <= g else 'MISSED'} ({s[k] if k.endswith('bytes') else round(s[k] * 1000)} vs {g if k.endswith('bytes') else round(g * 1000)})"
            for k, g in GOALS.items()
        )
    )
    if "mini-swe-agent" in results:
        m = results["mini-swe-agent"]
        print("ratios (mini-swe-agent / swerve): " + ", ".join(f"{k} {m[k] / s[k]:.1f}x" for k in GOALS))
    if args.json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

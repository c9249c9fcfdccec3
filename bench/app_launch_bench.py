"""Launch-to-prompt benchmark for the interactive app, beside Qwen Code measured in the same run.

Each run spawns the app in a pseudo-terminal (80 rows is not needed: 40x120), feeds its output to a
terminal emulator that answers cursor-position queries as a real terminal does, and stops the
clock when the input box's hint text is on the screen:

- swerve: "Ask swerve anything" (the placeholder of the input box, drawn by the live prompt);
- Qwen Code: "Type your message" (its input box placeholder).

Both point at the same loopback OpenAI-compatible server (OPENAI_BASE_URL / OPENAI_API_KEY /
OPENAI_MODEL), each in a fresh git project and a fresh HOME. One warm-up run of each is dropped.
Qwen Code is taken from bench/.out/qwen (installed there with npm when missing), else from PATH;
its auto-update and usage statistics are switched off in its settings for the run.

    .venv/bin/python bench/app_launch_bench.py [--runs 10] [--no-peers] [--json]
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

import pexpect
import pyte

from swerve.testing.openai_server import OpenAIScriptServer

HERE = Path(__file__).resolve().parent
OUT = HERE / ".out"
QWEN_PREFIX = OUT / "qwen"
GOAL_S = 0.300
ROWS, COLS = 40, 120
SWERVE_READY = "Ask swerve anything"
QWEN_READY = "Type your message"


def screen_has(screen: pyte.Screen, needle: str) -> bool:
    return any(needle in row for row in screen.display)


def launch_to_prompt(
    cmd: list[str], env: dict[str, str], cwd: str, marker: str, limit_s: float = 60
) -> float:
    """Seconds from spawn until ``marker`` is on the emulated screen."""
    screen = pyte.Screen(COLS, ROWS)
    stream = pyte.ByteStream(screen)
    t0 = time.perf_counter()
    child = pexpect.spawn(cmd[0], cmd[1:], cwd=cwd, env=env, dimensions=(ROWS, COLS), echo=False)
    child.delaybeforesend = None  # pexpect sleeps 50 ms before each send by default
    screen.write_process_input = lambda data: child.send(data) if child.isalive() else None
    try:
        while time.perf_counter() - t0 < limit_s:
            try:
                data = child.read_nonblocking(65536, timeout=0.005)
            except pexpect.TIMEOUT:
                continue
            except pexpect.EOF:
                raise RuntimeError(f"{cmd[0]} exited before its prompt appeared") from None
            stream.feed(data)
            if screen_has(screen, marker):
                return time.perf_counter() - t0
        raise RuntimeError(f"{cmd[0]}: no prompt within {limit_s:g} s; screen:\n" + "\n".join(screen.display))
    finally:
        child.close(force=True)


def fresh_project(root: Path, name: str) -> Path:
    path = root / name
    path.mkdir(parents=True)
    (path / "main.py").write_text("print('hello')\n")
    subprocess.run(["git", "init", "-q"], cwd=path, check=True)
    return path


def base_env(home: Path, base_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_", "QWEN_"))}
    env.update(
        HOME=str(home),
        SWERVE_HOME=str(home / ".swerve"),
        TERM="xterm-256color",
        OPENAI_BASE_URL=base_url,
        OPENAI_API_KEY="sk-bench",
        OPENAI_MODEL="qwen3-coder-plus",
    )
    return env


def find_qwen(install: bool) -> tuple[str | None, str]:
    local = QWEN_PREFIX / "node_modules" / ".bin" / "qwen"
    if not local.exists() and install and shutil.which("npm"):
        print("installing @qwen-code/qwen-code into bench/.out/qwen ...", file=sys.stderr)
        proc = subprocess.run(
            ["npm", "install", "--prefix", str(QWEN_PREFIX), "@qwen-code/qwen-code"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if proc.returncode != 0:
            return None, f"npm install failed: {proc.stderr.strip()[-300:]}"
    if local.exists():
        return str(local), "bench/.out/qwen"
    on_path = shutil.which("qwen")
    if on_path:
        return on_path, on_path
    return None, "Qwen Code is not installed and npm is not available"


def qwen_version(binary: str) -> str:
    try:
        proc = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=60)
        return proc.stdout.strip() or "?"
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def measure(
    name: str, cmd: list[str], marker: str, runs: int, base_url: str, tmp: Path, setup=None
) -> list[float]:
    times = []
    for i in range(runs + 1):
        home = tmp / f"{name}-home-{i}"
        home.mkdir()
        if setup:
            setup(home)
        project = fresh_project(tmp, f"{name}-project-{i}")
        seconds = launch_to_prompt(cmd, base_env(home, base_url), str(project), marker)
        if i:  # the first run warms the file cache and is dropped
            times.append(seconds)
    return times


def qwen_settings(home: Path) -> None:
    folder = home / ".qwen"
    folder.mkdir()
    settings = {
        "general": {"disableAutoUpdate": True, "disableUpdateNag": True},
        "privacy": {"usageStatisticsEnabled": False},
        "telemetry": {"enabled": False},
    }
    (folder / "settings.json").write_text(json.dumps(settings))


def summary(times: list[float]) -> dict[str, float]:
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "runs": len(times),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--no-peers", action="store_true", help="measure swerve only")
    parser.add_argument("--no-install", action="store_true", help="do not npm-install Qwen Code when missing")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    results: dict[str, object] = {"machine": f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"}
    swerve_cmd = [sys.executable, "-m", "swerve.cli.main"]
    with tempfile.TemporaryDirectory(prefix="swerve-launch-") as tmpdir, OpenAIScriptServer([]) as srv:
        tmp = Path(tmpdir)
        swerve_times = measure("swerve", swerve_cmd, SWERVE_READY, args.runs, srv.base_url, tmp)
        results["swerve"] = summary(swerve_times)
        if not args.no_peers:
            binary, where = find_qwen(not args.no_install)
            if binary is None:
                results["qwen_code"] = {"skipped": where}
            else:
                try:
                    qwen_times = measure(
                        "qwen", [binary], QWEN_READY, args.runs, srv.base_url, tmp, qwen_settings
                    )
                    results["qwen_code"] = {
                        **summary(qwen_times),
                        "version": qwen_version(binary),
                        "from": where,
                    }
                except RuntimeError as exc:
                    results["qwen_code"] = {"skipped": f"could not run Qwen Code: {exc}"}
        served = [r for r in srv.requests if r.path.endswith("/chat/completions")]
        results["model_requests_during_launch"] = len(served)

    if args.json:
        print(json.dumps(results, indent=1))
        return 0
    s = results["swerve"]
    print(f"machine: {results['machine']}")
    print(
        f"swerve     launch to prompt: median {s['median_s'] * 1000:.0f} ms "
        f"(min {s['min_s'] * 1000:.0f}, max {s['max_s'] * 1000:.0f}, {s['runs']} runs; goal {GOAL_S * 1000:.0f} ms)"
    )
    q = results.get("qwen_code")
    if isinstance(q, dict) and "median_s" in q:
        print(
            f"Qwen Code  launch to prompt: median {q['median_s'] * 1000:.0f} ms "
            f"(min {q['min_s'] * 1000:.0f}, max {q['max_s'] * 1000:.0f}, {q['runs']} runs; {q['version']}, {q['from']})"
        )
        print(f"ratio: Qwen Code / swerve = {q['median_s'] / s['median_s']:.1f}x")
    elif isinstance(q, dict):
        print(f"Qwen Code: not measured: {q['skipped']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

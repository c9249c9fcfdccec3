"""The agent on the real embedded model, as a user runs it: ``swerve -p --model local`` editing a
repository, ``swerve eval --model local`` grading a built-in task, and a gym run whose model
server is killed mid-episode (infra errors recorded and retried; a resume loses nothing).

The 0.5B model is small: these tests bound the turns and check that every run ends with a defined
exit reason, is recorded and graded, and leaves no server behind; not that the model solves.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from swerve.agent.events import EXIT_REASONS
from swerve.local.process import LocalServer
from swerve.paths import cache_root

INFLECTION_TASK = "builtin__inflection-484df7bd"


def local_servers() -> set[int]:
    """Pids of local model servers running now (whoever started them)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"swerve.local.server" in cmdline:
            found.add(int(entry.name))
    return found


def user_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_"))}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), SWERVE_HOME=str(home / ".swerve"), SWERVE_CACHE=str(cache_root()))
    return env


def run_swerve(
    args: list[str], cwd: Path, env: dict[str, str], timeout: float = 900
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "swerve.cli.main", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.timeout(1200)
def test_print_mode_on_the_local_model_records_a_defined_end_and_stops_its_server(model_path, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "greet.py").write_text('def greet(name):\n    return "Helo, " + name\n')
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    before = local_servers()
    done = run_swerve(
        [
            "-p",
            "greet.py misspells Hello. Fix the spelling in greet.py.",
            "--model",
            "local",
            "--max-turns",
            "4",
            "--yolo",
            "--temperature",
            "0",
            "--trajectory",
            str(tmp_path / "t.json"),
        ],
        repo,
        user_env(tmp_path),
    )
    assert done.returncode in (0, 1), done.stderr[-3000:]
    record = json.loads((tmp_path / "t.json").read_text())
    assert record["exit_reason"] in EXIT_REASONS, record["exit_reason"]
    assert record["turns"] and record["turns"][0]["raw"] is not None
    assert record["turns"][0]["request"]["messages"]  # the exact request the model read
    assert local_servers() <= before, "swerve left the local model server it started running"


@pytest.mark.timeout(1800)
def test_eval_on_the_local_model_grades_a_built_in_task(model_path, tmp_path):
    sdists = cache_root() / "sdists"
    if not any(sdists.glob("inflection-*")):
        pytest.skip(
            f"the inflection sdist is not cached in {sdists}: python -m swerve.tasks.builtin fetch --library inflection"
        )
    done = run_swerve(
        [
            "eval",
            "--dataset",
            "builtin",
            "--instance-ids",
            INFLECTION_TASK,
            "--model",
            "local",
            "--max-turns",
            "3",
            "--temperature",
            "0",
            "--report-dir",
            str(tmp_path / "runs"),
            "--run-id",
            "e2e",
        ],
        tmp_path,
        user_env(tmp_path),
        timeout=1700,
    )
    assert done.returncode in (0, 1), done.stderr[-3000:]
    reports = list((tmp_path / "runs").rglob("*.json"))
    summary = next(json.loads(p.read_text()) for p in reports if "resolved_ids" in p.read_text())
    assert summary["submitted_instances"] == 1 or summary.get("total_instances") == 1, summary
    assert INFLECTION_TASK in summary["resolved_ids"] + summary.get("unresolved_ids", []) + summary.get(
        "empty_patch_ids", []
    ), summary


def _slot_busy(url: str) -> bool:
    try:
        slots = httpx.get(f"{url}/slots", timeout=2).json()
    except (httpx.HTTPError, ValueError):
        return False
    return any(s.get("is_processing") for s in slots)


@pytest.mark.timeout(1800)
def test_a_model_server_killed_mid_episode_is_an_infra_error_retried_and_resumed(model_path, tmp_path):
    start = tmp_path / "start"
    start.mkdir()
    (start / "notes.txt").write_text("the answer is 42\n")
    tasks = tmp_path / "envs.jsonl"
    lines = [
        {
            "id": f"t{i}",
            "path": str(start),
            "verify": "test -f notes.txt",
            "prompt": "Read notes.txt and say what it holds.",
        }
        for i in range(2)
    ]
    tasks.write_text("".join(json.dumps(line) + "\n" for line in lines))
    server = LocalServer(
        model_path, alias="crashy", ctx=8192, parallel=1, reuse=False, note=lambda t: None
    ).start()
    port = int(server.url.rsplit(":", 1)[1])
    env = user_env(tmp_path)
    args = [
        "gym",
        "run",
        "--tasks",
        str(tasks),
        "--out",
        str(tmp_path / "run"),
        "--model",
        "crashy",
        "--base-url",
        server.base_url,
        "--api-key",
        "none",
        "--max-turns",
        "2",
        "--temperature",
        "0",
        "--infra-retries",
        "1",
        "--concurrency",
        "2",
        "--no-report",
        "--json",
    ]
    run = subprocess.Popen(
        [sys.executable, "-m", "swerve.cli.main", *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while not _slot_busy(server.url) and run.poll() is None:
            time.sleep(0.05)
        assert run.poll() is None, "the run ended before the server was asked anything"
        assert server.process is not None
        os.killpg(server.process.pid, signal.SIGKILL)  # the server dies in the middle of a reply
        out, err = run.communicate(timeout=1200)
    finally:
        server.stop()
    records = [json.loads(line) for line in (tmp_path / "run" / "episodes.jsonl").read_text().splitlines()]
    by_task = {r["episode"]["task_id"]: r for r in records}
    assert set(by_task) == {"t0", "t1"}, err[-2000:]
    assert all(r["infra_error"] and r["reward"] is None for r in records), records  # never a zero reward
    assert any("model" in r["infra_error"] for r in records), records
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["retries"] >= 1, summary

    again = LocalServer(
        model_path, alias="crashy", ctx=8192, parallel=1, port=port, reuse=False, note=lambda t: None
    ).start()
    try:
        done = run_swerve([*args, "--retry-infra"], tmp_path, env, timeout=1200)
    finally:
        again.stop()
    assert done.returncode == 0, done.stderr[-3000:]
    final: dict[str, dict] = {}
    for line in (tmp_path / "run" / "episodes.jsonl").read_text().splitlines():
        record = json.loads(line)
        final[record["episode"]["task_id"]] = record  # the last record of each episode stands
    assert set(final) == {"t0", "t1"}
    assert all(r["infra_error"] is None and r["reward"] is not None for r in final.values()), final

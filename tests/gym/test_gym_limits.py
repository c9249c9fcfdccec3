"""``swerve gym run`` gives every environment the sandbox limits of the flags and settings: the
same directory environment counts the processes it may start, and is rewarded for few."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

COUNT = """
import os, signal, sys, time
children = []
for _ in range(300):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    children.append(pid)
for pid in children:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
print("forked", len(children))
sys.exit(0 if len(children) < 40 else 1)
"""


def _gym(tmp: Path, *flags: str, home: Path) -> dict:
    env = {**os.environ, "SWERVE_HOME": str(home)}
    out = tmp / f"run{len(list(tmp.glob('run*')))}"
    argv = [sys.executable, "-m", "swerve.cli.main", "gym", "run", "--tasks", str(tmp / "envs.jsonl"),
            "--model", f"replay:{tmp / 'model.json'}", "--out", str(out), "--no-report", "--json", *flags]  # fmt: skip
    done = subprocess.run(argv, cwd=tmp, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_gym_environments_take_the_limit_flags_and_settings(namespaces_available, outside_tmp: Path):
    tmp_path = outside_tmp
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "count.py").write_text(COUNT)
    env = {"id": "forks", "path": "repo", "verify": "python3 count.py", "prompt": "Nothing to do."}
    (tmp_path / "envs.jsonl").write_text(json.dumps(env) + "\n")
    (tmp_path / "model.json").write_text(json.dumps({"turns": [{"text": "Done."}]}))
    home = tmp_path / "home"
    home.mkdir()
    assert _gym(tmp_path, home=home)["mean_reward"] == 0.0  # the default allows 1024 processes
    assert _gym(tmp_path, "--pids", "40", home=home)["mean_reward"] == 1.0
    (home / "settings.json").write_text(json.dumps({"sandboxLimits": {"processes": 30}}))
    assert _gym(tmp_path, home=home)["mean_reward"] == 1.0
    bad = subprocess.run(
        [sys.executable, "-m", "swerve.cli.main", "gym", "run", "--tasks", str(tmp_path / "envs.jsonl"),
         "--model", "replay:demo", "--out", str(tmp_path / "bad"), "--pids", "-1"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2 and "--pids" in bad.stderr
    # the eval face takes the same flags
    help_text = subprocess.run(
        [sys.executable, "-m", "swerve.cli.main", "eval", "--help"], capture_output=True, text=True
    )
    assert "--pids" in help_text.stdout

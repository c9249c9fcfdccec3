"""``swerve sandbox run`` end to end, through the real command in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("namespaces_available")


def swerve(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "swerve.cli.main", "sandbox", "run", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def base(tmp_path: Path) -> Path:
    d = tmp_path / "base"
    d.mkdir()
    (d / "data.txt").write_text("original\n")
    return d


def test_runs_over_the_base_prints_output_and_exits_with_the_code(base: Path):
    done = swerve(
        "--base", str(base), "--", "sh", "-c", "cat data.txt; echo new > data.txt; echo err >&2; exit 6"
    )
    assert done.returncode == 6
    assert done.stdout == "original\nerr\n"
    assert (base / "data.txt").read_text() == "original\n"  # writes went to a throwaway layer


def test_the_current_directory_is_the_default_base(base: Path):
    done = swerve("--", "pwd", cwd=base)
    assert done.returncode == 0 and done.stdout.strip() == str(base.resolve())


def test_arguments_are_passed_through_unchanged(base: Path):
    done = swerve("--base", str(base), "--", "printf", "[%s]\\n", "two words", "$HOME", "a;b")
    assert done.stdout == "[two words]\n[$HOME]\n[a;b]\n"


def test_a_timeout_exits_124(base: Path):
    done = swerve("--base", str(base), "--timeout", "0.5", "--", "sleep", "30")
    assert done.returncode == 124 and "timed out" in done.stderr


def test_network_is_off_unless_asked_for(base: Path):
    probe = "cat /sys/class/net/*/address 2>/dev/null | wc -l; ls /sys/class/net"
    closed = swerve("--base", str(base), "--", "sh", "-c", probe)
    assert closed.returncode == 0 and closed.stdout.split()[-1] == "lo"
    opened = swerve("--base", str(base), "--network", "--", "sh", "-c", "ls /sys/class/net | wc -l")
    assert opened.returncode == 0 and int(opened.stdout.strip()) == len(os.listdir("/sys/class/net"))


def test_memory_limit(base: Path):
    code = "b = b'x' * (600 << 20); print('allocated')"
    done = swerve("--base", str(base), "--memory", "200", "--", "python3", "-c", code)
    assert done.returncode != 0 and "allocated" not in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "no command"),
        (("--timeout", "0", "--", "true"), "--timeout"),
        (("--memory", "-5", "--", "true"), "--memory"),
            (("--cpus", "lots", "--", "true"), "--cpus"),
        (("--image", "python:3.11", "--", "true"), "--image"),
        (("--backend", "docker", "--", "true"), "--image IMG"),
        (("--base", "/no/such/dir", "--", "true"), "does not exist"),
    ],
)
def test_bad_input_gets_a_clear_error(args: tuple[str, ...], message: str):
    done = swerve(*args)
    usage = args[:1] in (("--memory",), ("--cpus",))  # argparse's own usage error
    assert done.returncode == (2 if usage else 125), done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr

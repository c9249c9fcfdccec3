"""The namespace sandbox as a normal user: run as root, these tests drop to an unused uid."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("namespaces_available")

SRC = str(Path(__file__).resolve().parents[2] / "src")
UID = 54321


def python_for_others() -> str | None:
    """A Python that another user can run (the venv's may live in root's home)."""
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.access(candidate, os.X_OK) and os.stat(candidate).st_mode & 0o001:
            return candidate
    return None


SCRIPT = textwrap.dedent(
    """
    import asyncio, os, sys
    from swerve.sandbox.ns import NamespaceWorkspace
    from swerve.sandbox.ns.limits import Limits

    async def main(base):
        ws = await NamespaceWorkspace.create([base], limits=Limits(processes=20))
        r = await ws.exec("id -u; cat f; echo x > g; echo 2>/dev/null > /usr/swerve-x || echo ro; "
                          "cat /etc/shadow | wc -c")
        print("stateless", r.output.split(), r.exit_code)
        print("read", (await ws.read_bytes(base + "/g")).decode().strip())
        fork = "import os, time\\nn = 0\\nfor i in range(60):\\n    try:\\n        pid = os.fork()\\n" \\
            "    except OSError:\\n        break\\n    if pid == 0:\\n        time.sleep(5)\\n        os._exit(0)\\n" \\
            "    n += 1\\nprint(n)"
        storm = await ws.exec(f"python3 -c '{fork}'", timeout=30)
        print("storm", storm.output.split()[-1])
        await ws.close()
        p = await NamespaceWorkspace.create([base], mode="persistent")
        await p.exec("nohup sleep 60 >/dev/null 2>&1 &")
        print("persistent", (await p.exec("pgrep -x sleep | wc -l")).output.strip())
        print("timeout", (await p.exec("sleep 30", timeout=0.5)).timed_out)
        await p.close()
        pr = await NamespaceWorkspace.open_project(base)
        print("project", (await pr.exec("id -u; echo y > h")).output.strip())
        await pr.close()

    asyncio.run(main(sys.argv[1]))
    """
)


def test_everything_works_for_a_normal_user():
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to an unprivileged uid (this run already is one)")
    setpriv, python = shutil.which("setpriv"), python_for_others()
    if not setpriv or not python:
        pytest.skip("needs setpriv and a Python other users may run")
    home = Path(tempfile.mkdtemp(prefix="swerve-unpriv-"))
    try:
        base = home / "base"
        base.mkdir()
        (base / "f").write_text("hello\n")
        (home / "t.py").write_text(SCRIPT)
        subprocess.run(["chown", "-R", f"{UID}:{UID}", str(home)], check=True)
        home.chmod(0o755)
        env = {
            "HOME": str(home),
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": SRC,
            "SWERVE_CACHE_DIR": str(home / "cache"),
            "SWERVE_SANDBOX_DIR": str(home / "state"),
        }
        done = subprocess.run(
            [
                setpriv,
                f"--reuid={UID}",
                f"--regid={UID}",
                "--clear-groups",
                python,
                str(home / "t.py"),
                str(base),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        lines = dict(line.split(" ", 1) for line in done.stdout.splitlines())
        assert lines["stateless"] == "['0', 'hello', 'ro', '0'] 0"  # uid 0 inside, host read-only, no shadow
        assert lines["read"] == "x"
        assert int(lines["storm"]) <= 20  # RLIMIT_NPROC counts per user namespace: this sandbox only
        assert lines["persistent"] == "1" and lines["timeout"] == "True"
        assert lines["project"] == f"{UID}"
        assert (base / "h").read_text() == "y\n" and not (base / "g").exists()
        assert os.stat(base / "h").st_uid == UID
    finally:
        shutil.rmtree(home, ignore_errors=True)

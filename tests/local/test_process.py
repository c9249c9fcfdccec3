"""Starting, reusing and stopping local servers as processes; `swerve model serve`; crashes."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from swerve.local.process import LocalServer, LocalServerError, local_server
from swerve.local.state import pid_alive, read_state, state_path


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A private cache root for state files (the model itself stays where it is)."""
    monkeypatch.setenv("SWERVE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def quiet(text: str) -> None:
    pass


def wait_gone(pid: int) -> bool:
    for _ in range(100):  # bounded: a stopped server exits within a second or two
        if not pid_alive(pid):
            return True
        time.sleep(0.1)
    return False


def test_start_reuse_and_stop_leave_nothing_running(model_path, cache):
    notes: list[str] = []
    first = LocalServer(model_path, ctx=1024, note=notes.append).start()
    try:
        assert first.started and any("loading model" in n for n in notes)
        pid = first.process.pid
        record = read_state(model_path)
        assert record["pid"] == pid and record["base_url"] == first.base_url
        assert httpx.get(first.url + "/health").json() == {"status": "ok"}
        with LocalServer(model_path, note=notes.append) as second:
            assert not second.started and second.url == first.url
            assert any("already running" in n for n in notes)
        assert pid_alive(pid)  # the reuser did not stop what it did not start
    finally:
        first.stop()
    assert wait_gone(pid)
    assert not state_path(model_path).exists()


async def test_async_form_and_a_stale_state_file(model_path, cache):
    state = state_path(model_path)
    state.parent.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    state.write_text(json.dumps({"pid": dead.pid, "url": "http://127.0.0.1:9", "model_path": str(model_path)}))
    async with local_server(model_path, alias="tiny", ctx=1024, note=quiet) as srv:
        assert srv.started and srv.alias == "tiny"
        assert read_state(model_path)["pid"] == srv.process.pid  # the stale file was replaced
        async with httpx.AsyncClient() as client:
            models = (await client.get(srv.base_url + "/models")).json()
        assert models["data"][0]["id"] == "tiny"
        pid = srv.process.pid
    assert wait_gone(pid)


def test_a_taken_port_is_a_clear_error(model_path, cache):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(LocalServerError, match=f"port {port} on 127.0.0.1 is in use"):
            LocalServer(model_path, port=port, note=quiet).start()
        # The server itself says the same when asked directly.
        result = subprocess.run([sys.executable, "-m", "swerve.local.server", "--model", str(model_path),
                                 "--port", str(port)], capture_output=True, text=True, timeout=60)
        assert result.returncode == 1 and f"port {port} on 127.0.0.1 is in use" in result.stderr


def test_a_bad_model_file_fails_fast_and_clearly(tmp_path, cache):
    bogus = tmp_path / "not-a-model.gguf"
    bogus.write_bytes(b"PK\x03\x04 not gguf")
    with pytest.raises(LocalServerError, match="is not a GGUF file"):
        LocalServer(bogus, note=quiet).start()
    with pytest.raises(LocalServerError, match="model file not found"):
        LocalServer(tmp_path / "missing.gguf", note=quiet).start()


async def test_a_server_that_dies_mid_request_is_an_error_not_a_hang(model_path, cache):
    from swerve.errors import ModelError
    from swerve.models.openai_chat import OpenAIChatModel
    from swerve.models.retry import RetryPolicy

    srv = LocalServer(model_path, ctx=1024, note=quiet).start()
    try:
        body = {"messages": [{"role": "user", "content": "Write a long story."}], "max_tokens": 1000,
                "stream": True, "temperature": 0.8}
        with pytest.raises(httpx.HTTPError):
            async with httpx.AsyncClient(timeout=30) as client, \
                    client.stream("POST", srv.base_url + "/chat/completions", json=body) as response:
                async for line in response.aiter_lines():
                    if '"content"' in line and '"role"' not in line:
                        os.killpg(srv.process.pid, signal.SIGKILL)
        srv.process.wait(30)
        with pytest.raises(LocalServerError, match="is gone"):
            srv.check()
        model = OpenAIChatModel("x", srv.base_url, retry_policy=RetryPolicy(max_attempts=2, base_delay=0.01,
                                                                            max_delay=0.02))
        with pytest.raises(ModelError):
            await model.complete([{"role": "user", "content": "hi"}], [])
        await model.aclose()
    finally:
        srv.stop()


def test_server_stops_when_its_parent_goes(model_path, cache):
    # A parent that starts a server and is then killed outright: the server notices and exits.
    code = ("import sys, time; from swerve.local.process import LocalServer; "
            f"s = LocalServer({str(model_path)!r}, ctx=1024, note=lambda t: None).start(); "
            "print(s.process.pid, flush=True); time.sleep(600)")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        assert pid_alive(child)
        parent.kill()
        parent.wait()
        assert wait_gone(child)
    finally:
        parent.kill()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_swerve_model_serve_prints_its_url_and_stops_cleanly(model_path, cache, signum):
    proc = subprocess.Popen([sys.executable, "-m", "swerve.cli.main", "model", "serve", str(model_path),
                             "--port", "0", "--ctx", "1024"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        line = proc.stdout.readline()
        url = re.search(r"(http://127\.0\.0\.1:\d+)/v1", line)
        assert url, line
        assert httpx.get(url.group(1) + "/health").json() == {"status": "ok"}
        assert read_state(model_path)["pid"] == proc.pid
        proc.send_signal(signum)
        assert proc.wait(60) == 0
    finally:
        proc.kill()
    assert not state_path(model_path).exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url.group(1) + "/health")


def test_swerve_model_serve_explains_an_unknown_name(cache):
    result = subprocess.run([sys.executable, "-m", "swerve.cli.main", "model", "serve", "no-such-model"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "unknown local model 'no-such-model'" in result.stderr and "swerve model list" in result.stderr


async def test_health_is_503_while_the_model_loads():
    from swerve.httpd import HTTPServer
    from swerve.local.server import _loading_router

    async with HTTPServer(_loading_router()) as server, httpx.AsyncClient(base_url=server.url) as client:
        response = await client.get("/health")
    assert response.status_code == 503
    assert response.json()["error"] == {"code": 503, "message": "Loading model", "type": "unavailable_error"}

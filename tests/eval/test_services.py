"""Stand-in services: a spec naming ``httpbin`` gets a real httpbin on the sandbox's loopback, its
address in HTTPBIN_URL; tests that reach real hosts still fail; bad service names are reported."""

from __future__ import annotations

import asyncio
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from calc_project import ENV, TEST_COMMAND, git, namespace_usable

from swerve.eval.harness import EvalOptions, Harness
from swerve.eval.reports import ENV_UNAVAILABLE, RESOLVED, UNRESOLVED, InstanceResult
from swerve.eval.sandboxes import sandbox_named
from swerve.eval.services import SERVICES, Service
from swerve.eval.validation import TLS_ON_STAND_IN, network_hosts, validate_task
from swerve.tasks.model import RepoSource, Task
from swerve.tasks.swebench import Prediction

WEB_TESTS = textwrap.dedent(
    """\
    import json
    import os
    import urllib.request


    def fetch(url):
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.load(response)


    def test_get():
        data = fetch(os.environ["HTTPBIN_URL"].rstrip("/") + "/get?probe=1")
        assert data["args"] == {"probe": "1"}


    def test_post():
        body = json.dumps({"a": 1}).encode()
        url = os.environ["HTTPBIN_URL"].rstrip("/") + "/post"
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert json.load(response)["json"] == {"a": 1}


    def test_real_host():
        fetch("http://swerve-no-such-host.example.com/get")
    """
)
NOTE_PATCH = (
    "diff --git a/NOTE b/NOTE\nnew file mode 100644\n--- /dev/null\n+++ b/NOTE\n@@ -0,0 +1 @@\n+a note\n"
)
SERVED = ("tests/test_web.py::test_get", "tests/test_web.py::test_post")


@pytest.fixture(scope="module")
def web_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    repos = tmp_path_factory.mktemp("repos")
    repo = repos / "demo__web"
    (repo / "tests").mkdir(parents=True)
    (repo / "tests" / "test_web.py").write_text(WEB_TESTS)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    return repos, git(repo, "rev-parse", "HEAD")


@pytest.fixture
def namespace() -> None:
    why = namespace_usable()
    if why:
        pytest.skip(f"namespace sandbox unavailable: {why}")


def web_task(base: str, *, services: tuple[str, ...] = ("httpbin",), **changes) -> Task:
    task = Task(
        id="demo__web-1",
        repo="demo/web",
        source=RepoSource("snapshot"),
        base_commit=base,
        version="0.1",
        env=replace(ENV, services=services),
        test_command=TEST_COMMAND,
        test_files=("tests/test_web.py",),
        fail_to_pass=SERVED,
        gold_patch=NOTE_PATCH,
        timeout_s=300,
    )
    return replace(task, **changes)


def run_bare(repos: Path, cache: Path, tmp: Path, task: Task, sandbox: str = "namespace") -> InstanceResult:
    opts = EvalOptions(
        run_id="t", report_dir=tmp, repos=[str(repos)], cache=cache, sandbox=sandbox_named(sandbox)
    )
    return asyncio.run(Harness(opts).run_instance(task, Prediction(task.id, "m", None), apply_patch=False))


def statuses(result: InstanceResult) -> dict[str, str]:
    log = (Path(result.log_dir) / "test_output.txt").read_text()
    found = {}
    for line in log.splitlines():
        for word in ("PASSED", "FAILED"):
            if line.startswith(f"{word} tests/test_web.py::"):
                found[line.split()[1]] = word
    return found


def test_httpbin_serves_the_tests_on_the_sandbox_loopback(
    web_repo, env_cache: Path, namespace: None, tmp_path: Path
) -> None:
    repos, base = web_repo
    result = run_bare(repos, env_cache, tmp_path, web_task(base))
    assert result.outcome == RESOLVED, (result.cause, statuses(result))
    found = statuses(result)
    assert found["tests/test_web.py::test_get"] == "PASSED"
    assert found["tests/test_web.py::test_post"] == "PASSED"
    # a real host stays out of reach: the stand-in serves loopback only
    assert found["tests/test_web.py::test_real_host"] == "FAILED"
    instance_log = (Path(result.log_dir) / "run_instance.log").read_text()
    assert "stand-in services: httpbin http://127.0.0.1:" in instance_log
    served = (Path(result.log_dir) / "service-httpbin.log").read_text()
    assert '"GET /get?probe=1 HTTP/1.1" 200' in served and '"POST /post HTTP/1.1" 200' in served


def test_without_the_service_the_same_tests_fail(
    web_repo, env_cache: Path, namespace: None, tmp_path: Path
) -> None:
    repos, base = web_repo
    result = run_bare(repos, env_cache, tmp_path, web_task(base, services=()))
    assert result.outcome == UNRESOLVED
    assert statuses(result)["tests/test_web.py::test_get"] == "FAILED"


def test_host_sandbox_gets_the_service_too(web_repo, env_cache: Path, tmp_path: Path) -> None:
    repos, base = web_repo
    result = run_bare(repos, env_cache, tmp_path, web_task(base), sandbox="host")
    assert result.outcome == RESOLVED, (result.cause, statuses(result))


def test_a_test_on_a_real_host_is_reported_needing_network_with_the_host(
    web_repo, env_cache: Path, namespace: None, tmp_path: Path
) -> None:
    repos, base = web_repo
    task = web_task(base, fail_to_pass=("tests/test_web.py::test_real_host",), pass_to_pass=SERVED)
    opts = EvalOptions(run_id="v", report_dir=tmp_path, repos=[str(repos)], cache=env_cache)
    v = asyncio.run(validate_task(Harness(opts), task))
    assert not v.valid
    assert v.cause == "environment", v.detail
    assert "swerve-no-such-host.example.com" in v.detail


def test_an_unknown_service_is_environment_unavailable_naming_the_known_ones(
    web_repo, env_cache: Path, tmp_path: Path
) -> None:
    repos, base = web_repo
    result = run_bare(repos, env_cache, tmp_path, web_task(base, services=("gopherd",)), sandbox="host")
    assert result.outcome == ENV_UNAVAILABLE
    assert "gopherd" in result.cause and "httpbin" in result.cause


def test_a_service_that_does_not_start_is_environment_unavailable_with_its_log(
    web_repo, env_cache: Path, namespace: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repos, base = web_repo
    real = SERVICES["httpbin"]
    broken = Service("broken", real.pins, "raise SystemExit('no port for you')\n", "HTTPBIN_URL", real.url)
    monkeypatch.setitem(SERVICES, "broken", broken)
    result = run_bare(repos, env_cache, tmp_path, web_task(base, services=("broken",)))
    assert result.outcome == ENV_UNAVAILABLE
    assert "the broken stand-in did not start" in result.cause
    assert "no port for you" in result.cause


def test_network_hosts_names_real_hosts_and_https_asked_of_the_stand_in() -> None:
    log = "\n".join(
        [
            "    def test_history(self):",
            ">       r = requests.get('https://httpbin.org/redirect/5')",
            "E       socket.gaierror: [Errno -3] Temporary failure in name resolution",
            "conn = <HTTPConnection object>, host = '10.255.255.1', port = 80",
            "E               OSError: [Errno 101] Network is unreachable",
            "url = 'http://127.0.0.1:4000/get'",
            "E       requests.exceptions.ConnectionError: Failed to establish a new connection",
            "E           ssl.SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1129)",
            "E       socket.gaierror: [Errno -3] Temporary failure in name resolution (no host named here)",
        ]
    )
    assert network_hosts(log) == ["httpbin.org", "10.255.255.1", TLS_ON_STAND_IN]
    assert network_hosts("E   AssertionError: 1 != 2") == []

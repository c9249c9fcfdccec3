"""Evaluations in SWE-bench's own images (``--sandbox docker``), against a real Docker daemon.

No registry is reachable here, so the image is built on this machine with ``docker import``, in
SWE-bench's layout: busybox, bash, git and GNU patch (with the shared libraries they load), a git
repository at /testbed, a stand-in ``/opt/miniconda3/bin/activate`` whose ``conda activate testbed``
puts the env's bin on PATH, and in that bin a ``pytest`` stand-in that prints pytest's ``-rA``
summary lines from checks written in the test files. It is built once per content hash and then
tagged with the name SWE-bench derives for the instance. Without a daemon the docker tests skip
and say why.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest
from calc_project import (
    CALC,
    FUZZY_PATCH,
    GOLD_PATCH,
    assert_swebench_report_keys,
    instance_row,
    make_calc_task,
)

from swerve.eval.docker_images import (
    CONDA_ACTIVATE,
    SwebenchImageSandbox,
    dataset_eval_script,
    swebench_eval_script,
    swebench_image_name,
)
from swerve.eval.environments import provides_environment
from swerve.eval.harness import EvalOptions, Harness
from swerve.eval.reports import ENV_UNAVAILABLE, RESOLVED, UNRESOLVED, InstanceResult
from swerve.eval.sandboxes import sandbox_named
from swerve.tasks.model import EnvSpec, Task
from swerve.tasks.swebench import Prediction

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data" / "swebench"
NAMESPACE = "swerve-test"
IMAGE_REPO = "swerve-test-sweb"
LABEL_BASE = "org.swerve.test.base-commit"
_LAYOUT = b"sweb-1"
FIXED_DATE = "2001-02-03T04:05:06+00:00"

TESTS = "check test_sub calc.py return a - b\ncheck test_mul calc.py return a * b\n"
TEST_PATCH = """\
diff --git a/tests/test_calc.py b/tests/test_calc.py
--- a/tests/test_calc.py
+++ b/tests/test_calc.py
@@ -1,2 +1,3 @@
+check test_add calc.py return a + b
 check test_sub calc.py return a - b
 check test_mul calc.py return a * b
"""
ACTIVATE = """\
# A stand-in for miniconda's activate: `conda activate NAME` puts the env's bin first on PATH.
conda() {
  if [ "${1:-}" = activate ] && [ -d "/opt/miniconda3/envs/${2:-}" ]; then
    export CONDA_DEFAULT_ENV="$2" PATH="/opt/miniconda3/envs/$2/bin:$PATH"
    return 0
  fi
  echo "conda: not supported here: $*" >&2
  return 1
}
"""
RUNNER = """\
#!/bin/bash
# A stand-in for pytest: each "check NAME FILE TEXT" line of a test file named on the command
# line is one test, passing when FILE contains TEXT; prints pytest's -rA summary lines.
status=0
for arg in "$@"; do
  [ -f "$arg" ] || continue
  while read -r word name file text; do
    [ "$word" = check ] || continue
    if grep -qF -- "$text" "$file"; then
      echo "PASSED $arg::$name"
    else
      echo "FAILED $arg::$name"
      status=1
    fi
  done < "$arg"
done
exit $status
"""


# -- the image ------------------------------------------------------------------------------------


def _docker_support():
    """tests/sandbox/docker_support.py (the daemon check and the busybox helpers), shared."""
    if "docker_support" in sys.modules:
        return sys.modules["docker_support"]
    spec = importlib.util.spec_from_file_location(
        "docker_support", REPO / "tests" / "sandbox" / "docker_support.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["docker_support"] = module
    spec.loader.exec_module(module)
    return module


def _closure(programs: list[str]) -> dict[str, str]:
    """``{path in the image: host file}`` for the programs and every shared object they load."""
    files: dict[str, str] = {}
    for program in programs:
        out = subprocess.run(["ldd", program], capture_output=True, text=True, timeout=30).stdout
        for line in out.splitlines():
            parts = line.split()
            if "=>" in parts:
                target = parts[parts.index("=>") + 1]
                if target.startswith("/"):
                    files[target] = target
            elif parts and parts[0].startswith("/"):
                files[parts[0]] = parts[0]  # the program interpreter
    return files


def _git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": FIXED_DATE,
        "GIT_COMMITTER_DATE": FIXED_DATE,
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(cwd),
    }
    done = subprocess.run(
        ["git", "-c", "user.name=swerve", "-c", "user.email=swerve@localhost", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def _testbed(where: Path) -> tuple[Path, str]:
    """The calc project as SWE-bench's /testbed: a git repository at the base commit."""
    repo = where / "testbed"
    (repo / "tests").mkdir(parents=True)
    (repo / "calc.py").write_text(CALC)
    (repo / "tests" / "test_calc.py").write_text(TESTS)
    _git(repo, "init", "-q", "--template=", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    return repo, _git(repo, "rev-parse", "HEAD")


def _rootfs(busybox: str, programs: dict[str, str], testbed: Path) -> bytes:
    support = _docker_support()
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True).stdout.split()
    made: set[str] = set()
    buf = io.BytesIO()

    def parents(name: str) -> None:
        parts = name.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            d = "/".join(parts[:depth])
            if d not in made:
                support._add_dir(tar, d)
                made.add(d)

    def add_file(name: str, data: bytes, mode: int) -> None:
        parents(name)
        support._add_bytes(tar, name, data, mode)

    def owned_by_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    with tarfile.open(fileobj=buf, mode="w") as tar:
        for d in ("bin", "etc", "root", "usr", "usr/bin", "dev", "proc", "sys"):
            parents(d + "/x")
        support._add_dir(tar, "tmp", 0o1777)
        made.add("tmp")
        add_file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n", 0o644)
        add_file("etc/group", b"root:x:0:\n", 0o644)
        add_file("bin/busybox", Path(busybox).read_bytes(), 0o755)
        for applet in applets:
            if applet not in ("busybox", "bash") and "/" not in applet:
                link = tarfile.TarInfo(f"bin/{applet}")
                link.type = tarfile.SYMTYPE
                link.linkname = "busybox"
                tar.addfile(link)
        for name, host in sorted(programs.items()):
            add_file(name.lstrip("/"), Path(host).read_bytes(), 0o755)
        add_file(CONDA_ACTIVATE.lstrip("/"), ACTIVATE.encode(), 0o644)
        add_file("opt/miniconda3/envs/testbed/bin/pytest", RUNNER.encode(), 0o755)
        tar.add(testbed, arcname="testbed", filter=owned_by_root)
    return buf.getvalue()


def _build_image(tmp: Path) -> tuple[str | None, str, str, bool]:
    """(name, base commit, why not, has GNU patch): the SWE-bench-layout image, built once."""
    support = _docker_support()
    busybox = support.find_static_busybox()
    if busybox is None:
        return None, "", "no static busybox on this machine (apt-get install busybox-static)", False
    hosts = {"/bin/bash": shutil.which("bash"), "/usr/bin/git": shutil.which("git")}
    if not all(hosts.values()):
        return None, "", "this machine has no bash or no git to copy into the image", False
    patch = shutil.which("patch")
    if patch and b"GNU patch" in subprocess.run([patch, "--version"], capture_output=True).stdout:
        hosts["/usr/bin/patch"] = patch
    programs = {**_closure([str(p) for p in hosts.values()]), **{k: str(v) for k, v in hosts.items()}}
    digest = hashlib.sha256(_LAYOUT + ACTIVATE.encode() + RUNNER.encode() + CALC.encode() + TESTS.encode())
    for name, host in sorted(programs.items()):
        digest.update(name.encode() + b"\0" + Path(host).read_bytes())
    tag = digest.hexdigest()[:12]
    name = f"{IMAGE_REPO}:{tag}"
    import docker

    api = support.api_client(120)
    try:
        try:
            info = api.inspect_image(name)
        except docker.errors.ImageNotFound:
            testbed, base = _testbed(tmp)
            data = _rootfs(busybox, programs, testbed)
            api.import_image_from_data(
                data, repository=IMAGE_REPO, tag=tag, changes=[f"LABEL {LABEL_BASE}={base}"]
            )
            info = api.inspect_image(name)
        base = ((info.get("Config") or {}).get("Labels") or {}).get(LABEL_BASE, "")
        return name, base, "", "/usr/bin/patch" in programs
    except Exception as exc:
        return None, "", f"could not build the test image: {exc}"[:300], False
    finally:
        api.close()


def _tag_as(image: str, target: str) -> None:
    api = _docker_support().api_client(60)
    try:
        repo, _, tag = target.rpartition(":")
        api.tag(image, repo, tag, force=True)
    finally:
        api.close()


def _remove_image(name: str) -> None:
    import docker

    api = _docker_support().api_client(60)
    try:
        api.remove_image(name, force=True)
    except docker.errors.ImageNotFound:
        pass
    finally:
        api.close()


@pytest.fixture(scope="module")
def sweb_image(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, bool]:
    """(image, base commit, has GNU patch); the image also carries SWE-bench's name for demo__calc-1."""
    if importlib.util.find_spec("docker") is None:
        pytest.skip("the docker Python package is not installed (pip install -e '.[docker]')")
    problem = _docker_support().daemon_problem()
    if problem is not None:
        pytest.skip(f"no docker daemon: {problem}")
    name, base, problem, has_patch = _build_image(tmp_path_factory.mktemp("sweb-image"))
    if name is None:
        pytest.skip(f"no SWE-bench-layout test image: {problem}")
    _tag_as(name, swebench_image_name("demo__calc-1", namespace=NAMESPACE))
    return name, base, has_patch


# -- tasks and runs -------------------------------------------------------------------------------


def calc_task(base: str, **changes) -> Task:
    """The calculator task with this image's test patch; the image is its environment."""
    return make_calc_task(base, **{"test_patch": TEST_PATCH, "env": None, "timeout_s": 120, **changes})


def cli_eval_argv(dataset: Path, *more: str) -> list[str]:
    """``swerve eval`` on ``dataset`` with the gold patches as predictions, then ``more``."""
    argv = [sys.executable, "-m", "swerve.cli.main", "eval", "--dataset", str(dataset)]
    return [*argv, "--predictions", "gold", *more]


def v5_eval_script(base: str) -> str:
    """An eval script in the shape of SWE-bench v5 datasets' ``eval_script``."""
    return "\n".join(
        [
            "#!/bin/bash",
            "set -uxo pipefail",
            "source /opt/miniconda3/bin/activate",
            "conda activate testbed",
            "cd /testbed",
            "git config --global --add safe.directory /testbed",
            "cd /testbed",
            "git status",
            "git show",
            f"git -c core.fileMode=false diff {base}",
            "source /opt/miniconda3/bin/activate",
            "conda activate testbed",
            f"git checkout {base} tests/test_calc.py",
            "git apply -v - <<'EOF_114329324912'",
            TEST_PATCH.rstrip("\n"),
            "EOF_114329324912",
            ": '>>>>> Start Test Output'",
            "pytest -rA tests/test_calc.py",
            ": '>>>>> End Test Output'",
            f"git checkout {base} tests/test_calc.py",
            "",
        ]
    )


def docker_harness(tmp: Path, **kw) -> Harness:
    sandbox = SwebenchImageSandbox(namespace=NAMESPACE)
    return Harness(EvalOptions(run_id="d", report_dir=tmp, sandbox=sandbox, **kw))


def run_one(h: Harness, task: Task, patch: str | None, model: str = "m", **kw) -> InstanceResult:
    return asyncio.run(h.run_instance(task, Prediction(task.id, model, patch), **kw))


# -- names and scripts (no daemon needed) ---------------------------------------------------------


def test_image_names_follow_swebench() -> None:
    assert (
        swebench_image_name("astropy__astropy-12907")
        == "swebench/sweb.eval.x86_64.astropy_1776_astropy-12907:latest"
    )
    assert swebench_image_name("Org__Repo-1", namespace="my.registry:5000/team") == (
        "my.registry:5000/team/sweb.eval.x86_64.org_1776_repo-1:latest"
    )
    for local in (None, "none", ""):
        assert swebench_image_name("django__django-11099", namespace=local) == (
            "sweb.eval.x86_64.django__django-11099:latest"
        )
    assert swebench_image_name("a__b-1", arch="arm64", tag="v2") == "swebench/sweb.eval.arm64.a_1776_b-1:v2"
    sandbox = SwebenchImageSandbox(namespace="mirror")
    task = calc_task("0" * 40)
    assert sandbox.image_for(task) == "mirror/sweb.eval.x86_64.demo_1776_calc-1:latest"
    assert sandbox.image_for(replace(task, image="own/image:7")) == "own/image:7"
    assert provides_environment(sandbox) and not provides_environment(sandbox_named("host"))
    assert sandbox_named("docker", image_namespace="none").image_for(task) == (  # type: ignore[attr-defined]
        "sweb.eval.x86_64.demo__calc-1:latest"
    )


def test_image_names_equal_the_shipped_datasets() -> None:
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is needed to read the shipped parquet files")
    files = sorted(DATA.glob("*.parquet"))
    if not files:
        pytest.skip(f"no shipped SWE-bench data under {DATA}")
    checked = 0
    for path in files:
        for row in pq.read_table(path, columns=["instance_id", "image"]).to_pylist():
            assert swebench_image_name(row["instance_id"]) == row["image"], path.name
            checked += 1
    assert checked > 1000


def test_eval_scripts_for_the_image() -> None:
    base = "a" * 40
    classic = swebench_eval_script(
        calc_task(base, env=EnvSpec(eval_env=(("LANG", "C.UTF-8"), ("PYTHONPATH", "{env_site}"))))
    )
    lines = classic.splitlines()
    at = lines.index("source /opt/miniconda3/bin/activate")
    assert lines[:2] == ["#!/bin/bash", "set -uxo pipefail"]
    assert lines[at + 1 : at + 3] == ["conda activate testbed", "export LANG=C.UTF-8"]
    assert "cd /testbed" in lines and "PYTHONPATH" not in classic  # layer-only variables are left out
    assert lines.index("SWEBENCH_TEST_EXIT_CODE=$?") + 1 == lines.index(": '>>>>> End Test Output'")
    own = dataset_eval_script(v5_eval_script(base))
    assert own.count("#!/bin/bash") == 1 and own.count("set -uxo pipefail") == 1
    assert own.count('echo ">>>>> Test Exit Code: $SWEBENCH_TEST_EXIT_CODE"') == 1
    assert dataset_eval_script(own) == own  # already recorded: left alone
    assert TEST_PATCH.rstrip("\n") in own and "conda activate testbed" in own


def test_a_real_dataset_script_keeps_its_lines() -> None:
    pytest.importorskip("pyarrow.parquet", reason="pyarrow is needed to read the shipped parquet files")
    path = DATA / "SWE-bench_Verified_test.parquet"
    if not path.exists():
        pytest.skip(f"no shipped SWE-bench data at {path}")
    from swerve.tasks.swebench import load_instances

    task = next(t for t in load_instances(path) if t.id == "psf__requests-6028")
    script = swebench_eval_script(task)
    original = [line for line in task.eval_script.strip().splitlines()]
    ours = script.splitlines()
    assert [line for line in ours if not line.startswith(("SWEBENCH_TEST_EXIT_CODE", "echo"))] == original


# -- in the image ---------------------------------------------------------------------------------


def test_gold_resolves_and_reports_are_swebench_shaped(sweb_image, tmp_path: Path) -> None:
    _, base, _ = sweb_image
    h = docker_harness(tmp_path)
    task = calc_task(base)
    report, path = asyncio.run(h.evaluate([task], {task.id: Prediction(task.id, "org/model", GOLD_PATCH)}))
    assert report["resolved_ids"] == [task.id], report["causes"]
    assert path == tmp_path / "org__model.d.json" and json.loads(path.read_text()) == report
    assert_swebench_report_keys(report)
    assert report["completed_instances"] == report["resolved_instances"] == 1
    assert report["sandbox"] == "docker"
    log_dir = tmp_path / "logs" / "run_evaluation" / "d" / "org__model" / task.id
    per_instance = json.loads((log_dir / "report.json").read_text())[task.id]
    for key in ("patch_is_None", "patch_exists", "patch_successfully_applied", "resolved", "tests_status"):
        assert key in per_instance, key
    assert per_instance["resolved"] and per_instance["patch_successfully_applied"]
    status = per_instance["tests_status"]
    assert status["FAIL_TO_PASS"] == {"success": ["tests/test_calc.py::test_add"], "failure": []}
    assert sorted(status["PASS_TO_PASS"]["success"]) == sorted(task.pass_to_pass)
    output = (log_dir / "test_output.txt").read_text()
    # the set -x trace (stderr) and the runner's lines (stdout) are in one file
    assert "+ conda activate testbed" in output and "PASSED tests/test_calc.py::test_add" in output
    assert ">>>>> Start Test Output" in output and ">>>>> Test Exit Code: 0" in output
    script = (log_dir / "eval.sh").read_text()
    assert "source /opt/miniconda3/bin/activate\nconda activate testbed\n" in script
    assert "cd /testbed" in script
    run_log = (log_dir / "run_instance.log").read_text()
    assert "Applied Patch (git apply --verbose)" in run_log
    assert f"{NAMESPACE}/sweb.eval.x86_64.demo_1776_calc-1:latest" in run_log


def test_no_patch_leaves_fail_to_pass_failing(sweb_image, tmp_path: Path) -> None:
    _, base, _ = sweb_image
    r = run_one(docker_harness(tmp_path), calc_task(base), None, apply_patch=False)
    assert r.outcome == UNRESOLVED, r.cause
    assert r.tests_status["FAIL_TO_PASS"]["failure"] == ["tests/test_calc.py::test_add"]
    assert sorted(r.tests_status["PASS_TO_PASS"]["success"]) == [
        "tests/test_calc.py::test_mul",
        "tests/test_calc.py::test_sub",
    ]
    assert ">>>>> Test Exit Code: 1" in (Path(r.log_dir) / "test_output.txt").read_text()


def test_the_datasets_own_script_and_image_field(sweb_image, tmp_path: Path) -> None:
    image, base, _ = sweb_image
    task = calc_task(base, id="demo__calc-own", image=image, eval_script=v5_eval_script(base))
    h = docker_harness(tmp_path)
    gold = run_one(h, task, GOLD_PATCH)
    assert gold.outcome == RESOLVED, gold.cause
    assert (
        f"environment from the docker sandbox: {image}"
        in (Path(gold.log_dir) / "run_instance.log").read_text()
    )
    assert "git show" in (Path(gold.log_dir) / "eval.sh").read_text()
    none = run_one(h, task, None, model="none", apply_patch=False)
    assert none.outcome == UNRESOLVED and none.tests_status["FAIL_TO_PASS"]["failure"]


def test_a_patch_that_applies_only_with_fuzz(sweb_image, tmp_path: Path) -> None:
    _, base, has_patch = sweb_image
    if not has_patch:
        pytest.skip("this machine has no GNU patch to put in the image (apt-get install patch)")
    r = run_one(docker_harness(tmp_path), calc_task(base), FUZZY_PATCH)
    assert r.outcome == RESOLVED, r.cause
    log = (Path(r.log_dir) / "run_instance.log").read_text()
    assert "failed: git apply --verbose --reject" in log
    assert "Applied Patch (patch --batch --forward --fuzz=5" in log


def test_a_missing_image_is_environment_unavailable(sweb_image, tmp_path: Path) -> None:
    _, base, _ = sweb_image
    missing = swebench_image_name("demo__absent-1", namespace=NAMESPACE)
    _remove_image(missing)
    h = docker_harness(tmp_path)
    task = calc_task(base, id="demo__absent-1")
    report, _ = asyncio.run(h.evaluate([task], {task.id: Prediction(task.id, "m", GOLD_PATCH)}))
    assert report["environment_unavailable_ids"] == [task.id] and report["unresolved_ids"] == []
    cause = report["causes"][task.id]
    assert cause.startswith(f"image {missing} is not available locally and could not be pulled: "), cause
    log_dir = tmp_path / "logs" / "run_evaluation" / "d" / "m" / task.id
    assert not (log_dir / "report.json").exists()  # never graded, never a 0
    bare = calc_task(base, id="demo__not-sweb", image=_docker_support().local_image()[0] or "")
    if bare.image:  # an image without SWE-bench's layout: said so, not unresolved
        r = run_one(h, bare, GOLD_PATCH)
        assert r.outcome == ENV_UNAVAILABLE and "no git checkout at /testbed" in r.cause, r.cause


def test_cli_evaluates_in_the_image_by_namespace(sweb_image, tmp_path: Path) -> None:
    _, base, _ = sweb_image
    dataset = tmp_path / "data.jsonl"
    dataset.write_text(json.dumps(instance_row(calc_task(base))) + "\n")
    argv = cli_eval_argv(dataset, "--sandbox", "docker", "--image-namespace", NAMESPACE, "--run-id", "cli")
    argv += ["--report-dir", str(tmp_path / "out")]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "out" / "gold.cli.json").read_text())
    assert report["resolved_ids"] == ["demo__calc-1"], report["causes"]


# -- without a daemon -----------------------------------------------------------------------------


def test_no_daemon_is_a_clear_sandbox_cause(tmp_path: Path) -> None:
    if importlib.util.find_spec("docker") is None:
        pytest.skip("the docker Python package is not installed (pip install -e '.[docker]')")
    dataset = tmp_path / "data.jsonl"
    record = {
        "instance_id": "demo__calc-1",
        "repo": "demo/calc",
        "base_commit": "a" * 40,
        "patch": GOLD_PATCH,
    }
    dataset.write_text(json.dumps(record) + "\n")
    socket = tmp_path / "no-daemon.sock"
    env = {**os.environ, "DOCKER_HOST": f"unix://{socket}"}
    env.pop("DOCKER_TLS_VERIFY", None)
    argv = cli_eval_argv(
        dataset, "--sandbox", "docker", "--run-id", "nod", "--report-dir", str(tmp_path / "out")
    )
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "out" / "gold.nod.json").read_text())
    assert report["environment_unavailable_ids"] == ["demo__calc-1"]
    cause = report["causes"]["demo__calc-1"]
    assert cause.startswith(f"docker is not available: no Docker daemon answers at unix://{socket}"), cause
    assert "ensure-docker.sh" in cause


def test_image_namespace_needs_the_docker_sandbox(tmp_path: Path) -> None:
    dataset = tmp_path / "data.jsonl"
    dataset.write_text(json.dumps({"instance_id": "a__b-1", "repo": "a/b", "base_commit": "c" * 40}) + "\n")
    done = subprocess.run(
        cli_eval_argv(dataset, "--image-namespace", "x"), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "--image-namespace goes with --sandbox docker" in done.stderr

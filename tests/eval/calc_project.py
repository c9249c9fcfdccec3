"""The demo project the harness tests evaluate: a calculator whose add() subtracts."""

from __future__ import annotations

import sys
import textwrap

from swerve.tasks.model import EnvSpec

PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"
ENV = EnvSpec(python=PYTHON, pins=("pytest==8.3.3",))
TEST_COMMAND = "pytest -rA -p no:cacheprovider"

CALC = textwrap.dedent(
    """\
    \"\"\"A small calculator.\"\"\"


    def add(a, b):
        # the sum of a and b
        return a - b


    def sub(a, b):
        return a - b


    def mul(a, b):
        return a * b
    """
)
TESTS = textwrap.dedent(
    """\
    from calc import mul, sub


    def test_sub():
        assert sub(5, 3) == 2


    def test_mul():
        assert mul(2, 3) == 6
    """
)
GOLD_PATCH = (
    "\n".join(
        [
            "diff --git a/calc.py b/calc.py",
            "--- a/calc.py",
            "+++ b/calc.py",
            "@@ -3,7 +3,7 @@",
            " ",
            " def add(a, b):",
            "     # the sum of a and b",
            "-    return a - b",
            "+    return a + b",
            " ",
            " ",
            " def sub(a, b):",
        ]
    )
    + "\n"
)
# The same change with its first context line wrong: only ``patch --fuzz`` applies it.
FUZZY_PATCH = GOLD_PATCH.replace("@@ -3,7 +3,7 @@\n \n", "@@ -3,7 +3,7 @@\n # a stale context line\n")
TEST_PATCH = (
    "\n".join(
        [
            "diff --git a/tests/test_calc.py b/tests/test_calc.py",
            "--- a/tests/test_calc.py",
            "+++ b/tests/test_calc.py",
            "@@ -1,4 +1,8 @@",
            "-from calc import mul, sub",
            "+from calc import add, mul, sub",
            "+",
            "+",
            "+def test_add():",
            "+    assert add(2, 3) == 5",
            " ",
            " ",
            " def test_sub():",
        ]
    )
    + "\n"
)

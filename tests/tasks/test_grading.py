"""Parsers on real logs of each family, verdicts, and the reward-hygiene rules."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from swerve.tasks.grading import FULL, NO, PARTIAL, get_parser, grade_log, read_log
from swerve.tasks.grading.parsers import PARSERS

LOGS = Path(__file__).parent / "logs"

PROJECT_TESTS = """
import enum
import pytest


class MouseButton(enum.Enum):
    LEFT = 1
    RIGHT = 3


def test_passes():
    assert True


def test_fails():
    assert 1 == 2, "numbers differ - badly"


@pytest.mark.skip(reason="not here")
def test_skipped():
    pass


@pytest.mark.xfail(reason="known")
def test_xfails():
    assert False


@pytest.fixture
def broken():
    raise RuntimeError("fixture broke")


def test_errors(broken):
    pass


@pytest.mark.parametrize("path", ["/abs/dir/data.txt"])
def test_path_option(path):
    assert path


@pytest.mark.parametrize("button", [MouseButton.LEFT, MouseButton.RIGHT])
def test_button(button):
    assert button
"""


def run_like_eval_script(cwd: Path, command: str) -> str:
    """Run ``command`` as SWE-bench eval scripts do: set -x trace, markers, exit code, 2>&1."""
    script = textwrap.dedent(
        f"""\
        set -uxo pipefail
        : '>>>>> Start Test Output'
        {command}
        SWEBENCH_TEST_EXIT_CODE=$?
        : '>>>>> End Test Output'
        echo ">>>>> Test Exit Code: $SWEBENCH_TEST_EXIT_CODE"
        """
    )
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
    )
    return done.stdout


@pytest.fixture(scope="module")
def pytest_logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    project = tmp_path_factory.mktemp("proj")
    (project / "tests").mkdir()
    (project / "tests" / "test_demo.py").write_text(PROJECT_TESTS)
    py = sys.executable
    return {
        "plain": run_like_eval_script(project, f"{py} -m pytest -rA -p no:cacheprovider tests/test_demo.py"),
        "color": run_like_eval_script(
            project, f"{py} -m pytest -rA --color=yes -p no:cacheprovider tests/test_demo.py"
        ),
        "verbose": run_like_eval_script(
            project, f"{py} -m pytest --no-header -rA -v -p no:cacheprovider tests"
        ),
    }


EXPECTED = {
    "tests/test_demo.py::test_passes": "PASSED",
    "tests/test_demo.py::test_fails": "FAILED",
    "tests/test_demo.py::test_xfails": "XFAIL",
    "tests/test_demo.py::test_errors": "ERROR",
}


def test_pytest_parser_on_a_real_run(pytest_logs: dict[str, str]) -> None:
    sm = get_parser("pytest")(pytest_logs["plain"])
    for test, status in EXPECTED.items():
        assert sm[test] == status
    assert sm["tests/test_demo.py::test_path_option[/abs/dir/data.txt]"] == "PASSED"
    assert not any(k.startswith("[") for k in sm)  # "SKIPPED [1] file:line" is a count, not a test


def test_pytest_options_parser_shortens_path_ids(pytest_logs: dict[str, str]) -> None:
    sm = get_parser("parse_log_requests")(pytest_logs["plain"])
    assert sm["tests/test_demo.py::test_path_option[/data.txt]"] == "PASSED"
    assert sm["tests/test_demo.py::test_fails"] == "FAILED"


# As SWE-bench's parser does, pytest_v2 keeps the " - reason" tail of ERROR and XFAIL lines in the id.
EXPECTED_V2 = {
    "tests/test_demo.py::test_passes": "PASSED",
    "tests/test_demo.py::test_fails": "FAILED",
    "tests/test_demo.py::test_xfails - known": "XFAIL",
    "tests/test_demo.py::test_errors - RuntimeError: fixture broke": "ERROR",
}


def test_pytest_v2_parser_reads_colour_runs(pytest_logs: dict[str, str]) -> None:
    assert "\x1b[" in pytest_logs["color"]
    sm = get_parser("pytest_v2")(pytest_logs["color"])
    for test, status in EXPECTED_V2.items():
        assert sm[test] == status


def test_matplotlib_parser_normalises_enum_ids(pytest_logs: dict[str, str]) -> None:
    plain = get_parser("pytest")(pytest_logs["plain"])
    assert "tests/test_demo.py::test_button[MouseButton.LEFT]" in plain
    sm = get_parser("parse_log_matplotlib")(pytest_logs["plain"])
    assert sm["tests/test_demo.py::test_button[1]"] == "PASSED"
    assert sm["tests/test_demo.py::test_button[3]"] == "PASSED"


def test_seaborn_parser_reads_verbose_and_summary_lines(pytest_logs: dict[str, str]) -> None:
    sm = get_parser("parse_log_seaborn")(pytest_logs["verbose"])
    assert sm["tests/test_demo.py::test_passes"] == "PASSED"
    assert sm["tests/test_demo.py::test_fails"] == "FAILED"


def test_django_parser_on_a_real_runner_log() -> None:
    sm = get_parser("parse_log_django")((LOGS / "django_runner.log").read_text())
    assert sm["test_add (calc.tests.ArithmeticTests)"] == "PASSED"
    assert sm["test_noisy (calc.tests.ArithmeticTests)"] == "PASSED"  # output between "..." and "ok"
    assert sm["test_sub_wrong (calc.tests.ArithmeticTests)"] == "FAILED"
    assert sm["test_raises (calc.tests.ArithmeticTests)"] == "ERROR"
    assert sm["test_skipped (calc.tests.ArithmeticTests)"] == "SKIPPED"
    assert "test_known_bug (calc.tests.ArithmeticTests)" not in sm  # "expected failure" is no status


def test_sympy_parser_on_a_real_runner_log() -> None:
    sm = get_parser("parse_log_sympy")((LOGS / "sympy_runner.log").read_text())
    assert sm["test_expand_square"] == "PASSED"
    assert sm["test_wrong_expansion"] == "FAILED"
    assert sm["test_raises_inside"] == "ERROR"
    assert sm["sympy/demo/tests/test_demo.py:test_raises_inside"] == "FAILED"  # the traceback header
    assert "test_skipped" not in sm and "test_known_failure" not in sm


def test_verdicts_on_a_real_sympy_instance_run() -> None:
    """sympy__sympy-13480 run by the harness in a sandbox: its real repository's bin/test."""
    gold = (LOGS / "sympy_13480_gold.log").read_text()
    bare = (LOGS / "sympy_13480_no-patch.log").read_text()
    sm = get_parser("parse_log_sympy")(gold)
    assert len(sm) == 44 and set(sm.values()) == {"PASSED"}
    others = tuple(name for name in sm if name != "test_coth")
    v = grade_log(gold, fail_to_pass=["test_coth"], pass_to_pass=others, log_parser="parse_log_sympy")
    assert v.resolution == FULL and v.exit_code == 0
    v = grade_log(bare, fail_to_pass=["test_coth"], pass_to_pass=others, log_parser="parse_log_sympy")
    assert v.resolution == NO and v.tests_status["FAIL_TO_PASS"]["failure"] == ["test_coth"]
    assert get_parser("sympy")(bare)["test_coth"] == "ERROR"  # "test_coth E" is read after the header


def test_sphinx_family_on_a_real_tox_log() -> None:
    sm = get_parser("parse_log_sphinx")((LOGS / "tox_pytest_color.log").read_text())
    assert sm["tests/test_demo.py::test_with_space_in_id[a b]"] == "PASSED"  # ids with spaces
    for test, status in EXPECTED_V2.items():
        assert sm[test] == status


def test_every_swebench_python_parser_name_is_known() -> None:
    names = "astroid flask marshmallow pvlib pyvista sqlfluff xarray pydicom requests pylint astropy scikit sphinx"
    for name in [*names.split(), "django", "sympy", "matplotlib", "seaborn", "pytest"]:
        assert f"parse_log_{name}" in PARSERS
    with pytest.raises(KeyError, match="unknown log parser"):
        get_parser("parse_log_maven")


# -- verdicts and reward hygiene ------------------------------------------------------------


def wrap(body: str, exit_code: int | None = 0) -> str:
    tail = f"\n>>>>> Test Exit Code: {exit_code}" if exit_code is not None else ""
    return f"+ : '>>>>> Start Test Output'\n{body}\n+ : '>>>>> End Test Output'{tail}\n"


def grade(body: str, f2p: list[str], p2p: list[str], exit_code: int | None = 0, **kw):
    return grade_log(wrap(body, exit_code), fail_to_pass=f2p, pass_to_pass=p2p, log_parser="pytest", **kw)


def test_full_partial_no() -> None:
    log = "PASSED t::a\nPASSED t::b\nFAILED t::c - boom\nPASSED t::p"
    assert grade(log, ["t::a", "t::b"], ["t::p"], exit_code=1).resolution == FULL
    v = grade(log, ["t::a", "t::c"], ["t::p"], exit_code=1)
    assert v.resolution == PARTIAL and not v.resolved
    assert v.tests_status["FAIL_TO_PASS"] == {"success": ["t::a"], "failure": ["t::c"]}
    assert grade(log, ["t::a"], ["t::c"], exit_code=1).resolution == NO
    assert grade(log, [], [], exit_code=1).resolution == FULL  # empty lists count as 1, as SWE-bench


def test_skipped_or_missing_fail_to_pass_is_a_failure() -> None:
    log = "PASSED t::p\nSKIPPED t::a"
    v = grade(log, ["t::a"], ["t::p"])
    assert v.resolution == NO and v.tests_status["FAIL_TO_PASS"]["failure"] == ["t::a"]
    v = grade(log, ["t::missing"], ["t::p"])
    assert v.resolution == NO and v.tests_status["FAIL_TO_PASS"]["failure"] == ["t::missing"]


def test_skipped_pass_to_pass_is_maintained() -> None:
    assert grade("PASSED t::a\nSKIPPED t::p", ["t::a"], ["t::p"]).resolution == FULL


def test_fake_passed_lines_with_a_failing_exit_are_rejected() -> None:
    v = grade("PASSED t::a\nPASSED t::p", ["t::a"], ["t::p"], exit_code=2)
    assert not v.found and not v.resolved
    assert "exited 2" in v.reason
    # the same log with a real failure somewhere is believable
    assert grade("PASSED t::a\nPASSED t::p\nFAILED t::other", ["t::a"], ["t::p"], exit_code=1).resolved


def test_unreadable_logs_are_not_found_with_a_reason() -> None:
    assert "markers" in read_log("PASSED t::a\n", "pytest").reason
    assert (
        read_log(wrap("PASSED t::a") + ">>>>> Patch Apply Failed\n", "pytest").reason == "patch apply failed"
    )
    assert read_log(wrap("nothing ran here"), "pytest").reason == "no test results in the log"
    assert read_log(wrap("PASSED t::a") + ">>>>> Tests Timed Out\n", "pytest").found is False


def test_results_outside_the_markers_are_used_as_a_fallback() -> None:
    log = "PASSED t::a\n" + wrap("collected 1 item")
    assert grade_log(log, fail_to_pass=["t::a"], pass_to_pass=[], log_parser="pytest").resolved


def test_truncated_parametrized_ids_match_by_prefix() -> None:
    log = "PASSED t::x[long-param-one]\nPASSED t::x[long-param-two]"
    assert grade(log, ["t::x[long-param"], []).resolved
    mixed = "PASSED t::x[long-param-one]\nFAILED t::x[long-param-two]"
    assert not grade(mixed, ["t::x[long-param"], [], exit_code=1).resolved  # outcomes disagree: no match


def test_fail_only_counts_only_explicit_failures() -> None:
    v = grade("FAILED t::b", ["t::a"], ["t::b"], exit_code=1, eval_type="fail_only")
    assert v.tests_status["FAIL_TO_PASS"]["success"] == ["t::a"]
    assert v.tests_status["PASS_TO_PASS"]["failure"] == ["t::b"]

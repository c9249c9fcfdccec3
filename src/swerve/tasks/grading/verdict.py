"""From a test log to a verdict, as SWE-bench grades: FULL, PARTIAL or NO; resolved only for FULL.

Reward hygiene, on top of reading the log:
- a FAIL_TO_PASS test that is skipped or missing from the log counts as a failure;
- a log whose test command exited non-zero while no test FAILED or ERRORed is rejected (a patch
  can print its own "PASSED" lines);
- a log that never reached the tests (patch not applied, markers missing, nothing parsed and no
  sign the suite ran) is "not found", which callers keep apart from a plain 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from swerve.tasks.grading.parsers import ERROR, FAILED, PASSED, SKIPPED, XFAIL, StatusMap, get_parser

START_MARK = ">>>>> Start Test Output"
END_MARK = ">>>>> End Test Output"
EXIT_CODE_MARK = ">>>>> Test Exit Code"
APPLY_FAILED = ">>>>> Patch Apply Failed"
APPLIED = ">>>>> Applied Patch"
RESET_FAILED = ">>>>> Reset Failed"
TESTS_ERRORED = ">>>>> Tests Errored"
TESTS_TIMED_OUT = ">>>>> Tests Timed Out"
_BAD_MARKS = (APPLY_FAILED, RESET_FAILED, TESTS_ERRORED, TESTS_TIMED_OUT)

FULL, PARTIAL, NO = "RESOLVED_FULL", "RESOLVED_PARTIAL", "RESOLVED_NO"
F2P, P2P, F2F, P2F = "FAIL_TO_PASS", "PASS_TO_PASS", "FAIL_TO_FAIL", "PASS_TO_FAIL"

_EXIT_CODE = re.compile(re.escape(EXIT_CODE_MARK) + r":\s*(-?\d+)")
# Summary lines of runners whose parsers record failures only: evidence that a suite ran at all.
_SUITE_RAN = re.compile(
    r"Executed [1-9]\d* of \d+|TOTAL: [1-9]\d* (?:SUCCESS|FAILED)|[1-9]\d* passing|Tests:\s+[1-9]\d*"
    r"|Test Suites:\s+(?:\d+ \w+, )*[1-9]\d* total|^# tests [1-9]\d*|[1-9]\d* specs?, \d+ failures?|': ok$",
    re.M,
)


@dataclass
class LogReading:
    """What a log says: the status of each test, or why it says nothing usable."""

    status_map: StatusMap
    found: bool
    reason: str = ""  # why not found
    exit_code: int | None = None


@dataclass
class Verdict:
    """The grade of one run of one task."""

    resolution: str
    resolved: bool
    found: bool  # the log reached the tests and could be read
    reason: str = ""
    exit_code: int | None = None
    tests_status: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    status_map: StatusMap = field(default_factory=dict)

    @property
    def f2p_rate(self) -> float:
        return _rate(self.tests_status.get(F2P))

    @property
    def p2p_rate(self) -> float:
        return _rate(self.tests_status.get(P2P))


def test_exit_code(log: str) -> int | None:
    """The test command's own exit status recorded in the log, or None."""
    m = _EXIT_CODE.search(log)
    return int(m.group(1)) if m else None


def read_log(log: str, parser_name: str) -> LogReading:
    """Parse the test section of ``log``; "not found" with a reason when it cannot be trusted."""
    parse = get_parser(parser_name)
    for mark in _BAD_MARKS:
        if mark in log:
            return LogReading({}, False, mark.strip("> ").lower())
    if START_MARK not in log or END_MARK not in log:
        return LogReading({}, False, "test output markers missing (the eval script did not reach the tests)")
    section = log.split(START_MARK, 1)[1].split(END_MARK, 1)[0]
    status_map = parse(section) or parse(log)  # some runners print outside the markers
    exit_code = test_exit_code(log)
    if not status_map and not _SUITE_RAN.search(log):
        return LogReading({}, False, "no test results in the log", exit_code)
    if (
        exit_code not in (None, 0)
        and status_map
        and not any(s in (FAILED, ERROR) for s in status_map.values())
    ):
        return LogReading(
            {}, False, f"test command exited {exit_code} but the log shows no failing test", exit_code
        )
    return LogReading(status_map, True, "", exit_code)


def _lookup(test: str, status_map: StatusMap) -> str | None:
    """The key for ``test``: exact, or a unique-outcome prefix match for truncated parametrized ids."""
    if test in status_map:
        return test
    if test.count("[") > test.count("]"):
        matches = [k for k in status_map if k.startswith(test)]
        if matches and len({status_map[k] in (PASSED, XFAIL) for k in matches}) == 1:
            return matches[0]
    return None


def _passed(test: str, sm: StatusMap) -> bool:
    key = _lookup(test, sm)
    return key is not None and sm[key] in (PASSED, XFAIL)


def _failed(test: str, sm: StatusMap) -> bool:
    key = _lookup(test, sm)
    return key is None or sm[key] in (FAILED, ERROR, SKIPPED)


def _maintained(test: str, sm: StatusMap) -> bool:
    key = _lookup(test, sm)
    return _passed(test, sm) or (key is not None and sm[key] == SKIPPED)


def tests_report(
    status_map: StatusMap,
    fail_to_pass: list[str] | tuple[str, ...],
    pass_to_pass: list[str] | tuple[str, ...],
    eval_type: str = "pass_and_fail",
) -> dict[str, dict[str, list[str]]]:
    """Success and failure lists for FAIL_TO_PASS and PASS_TO_PASS (FAIL_TO_FAIL, PASS_TO_FAIL empty)."""
    report: dict[str, dict[str, list[str]]] = {}
    for key, tests, ok in ((F2P, fail_to_pass, _passed), (P2P, pass_to_pass, _maintained)):
        success: list[str] = []
        failure: list[str] = []
        for test in tests:
            if eval_type == "fail_only":
                (failure if status_map.get(test) == FAILED else success).append(test)
            elif ok(test, status_map):
                success.append(test)
            elif _failed(test, status_map):
                failure.append(test)
        report[key] = {"success": success, "failure": failure}
    report[F2F] = {"success": [], "failure": []}
    report[P2F] = {"success": [], "failure": []}
    return report


def _rate(part: dict[str, list[str]] | None) -> float:
    if not part:
        return 1.0
    total = len(part["success"]) + len(part["failure"])
    return 1.0 if total == 0 else len(part["success"]) / total


def resolution(report: dict[str, dict[str, list[str]]]) -> str:
    """FULL when every F2P passes and every P2P holds; PARTIAL when some F2P pass and P2P hold."""
    f2p, p2p = _rate(report.get(F2P)), _rate(report.get(P2P))
    if f2p == 1 and p2p == 1:
        return FULL
    if 0 < f2p < 1 and p2p == 1:
        return PARTIAL
    return NO


def grade_log(
    log: str,
    *,
    fail_to_pass: list[str] | tuple[str, ...],
    pass_to_pass: list[str] | tuple[str, ...],
    log_parser: str,
    eval_type: str = "pass_and_fail",
) -> Verdict:
    """Grade one log. A log that cannot be read gives NO with ``found`` False and the reason."""
    reading = read_log(log, log_parser)
    if not reading.found:
        return Verdict(NO, False, False, reading.reason, reading.exit_code)
    report = tests_report(reading.status_map, fail_to_pass, pass_to_pass, eval_type)
    res = resolution(report)
    return Verdict(res, res == FULL, True, "", reading.exit_code, report, reading.status_map)


def verdict_to_json(verdict: Verdict) -> dict[str, Any]:
    return {
        "resolution": verdict.resolution,
        "resolved": verdict.resolved,
        "found": verdict.found,
        "reason": verdict.reason,
        "test_exit_code": verdict.exit_code,
        "tests_status": verdict.tests_status,
    }

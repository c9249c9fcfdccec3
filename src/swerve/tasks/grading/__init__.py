"""Grading: log parsers per test-runner family, and verdicts as SWE-bench computes them."""

from swerve.tasks.grading.parsers import PARSERS, REPO_PARSERS, get_parser
from swerve.tasks.grading.verdict import (
    FULL,
    NO,
    PARTIAL,
    Verdict,
    grade_log,
    read_log,
    resolution,
    tests_report,
)

__all__ = [
    "FULL",
    "NO",
    "PARSERS",
    "PARTIAL",
    "REPO_PARSERS",
    "Verdict",
    "get_parser",
    "grade_log",
    "read_log",
    "resolution",
    "tests_report",
]

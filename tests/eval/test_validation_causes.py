"""Validation causes read off a test log: tests skipped because an optional module is missing."""

from __future__ import annotations

from swerve.eval.validation import missing_modules

LOG = """\
PASSED pkg/tests/test_io.py::test_roundtrip
PASSED pkg/tests/test_io.py::test_other
SKIPPED [1] pkg/tests/test_io.py:120: could not import 'cdms2': No module named 'cdms2'
SKIPPED [2] pkg/tests/test_plot.py:10: could not import 'cartopy': No module named 'cartopy'
SKIPPED [1] pkg/tests/test_misc.py:5: requires a GPU
FAILED pkg/tests/test_core.py::test_add - AssertionError
"""


def test_tests_skipped_for_a_missing_module_name_the_module() -> None:
    failing = ["pkg/tests/test_io.py::test_to_cdms2", "pkg/tests/test_plot.py::test_map"]
    assert missing_modules(LOG, failing) == ["cartopy", "cdms2"]


def test_a_test_that_ran_or_was_skipped_otherwise_is_not_explained_by_a_module() -> None:
    assert (
        missing_modules(LOG, ["pkg/tests/test_io.py::test_to_cdms2", "pkg/tests/test_core.py::test_add"])
        == []
    )
    assert missing_modules(LOG, ["pkg/tests/test_misc.py::test_gpu"]) == []
    assert missing_modules(LOG, ["pkg/tests/test_io.py::test_roundtrip"]) == []
    assert missing_modules(LOG, []) == []

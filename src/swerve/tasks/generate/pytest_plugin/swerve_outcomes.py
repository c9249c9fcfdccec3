"""A pytest plugin that writes each test's outcome, and how it failed, to ``$SWERVE_OUTCOMES``.

Loaded with ``-p swerve_outcomes`` by the task generator, inside the library's own
venv: it imports nothing from swerve. Per node id it records the outcome (passed, failed, error,
skipped, xfail) and, for failures, the exception text and the statement of the test file where
the failure surfaced, which is what problem statements are written from.
"""

from __future__ import annotations

import json
import os
import re
import types

import pytest

MAX_TEXT = 4000
MAX_VALUES = 4
MAX_VALUE_TEXT = 1500
_results: dict[str, dict] = {}
_collect_errors: list[dict] = []


def _record(nodeid: str) -> dict:
    return _results.setdefault(nodeid, {"outcome": "passed"})


def pytest_collectreport(report):
    if report.failed:
        _collect_errors.append({"nodeid": report.nodeid, "text": str(report.longrepr)[-MAX_TEXT:]})


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    rec = _record(item.nodeid)
    if rep.when == "setup":
        rec["file"] = str(item.path)
        rec["line"] = item.location[1] + 1
        rec["function"] = getattr(item, "originalname", None) or item.name
        spec = getattr(item, "callspec", None)
        if spec is not None:
            rec["params"] = {k: repr(v)[:300] for k, v in spec.params.items()}
    if rep.skipped:
        if rec["outcome"] == "passed":
            rec["outcome"] = "xfail" if hasattr(rep, "wasxfail") else "skipped"
        return
    if not rep.failed:
        return
    rec["outcome"] = "failed" if rep.when == "call" else "error"
    if "message" in rec:
        return
    excinfo = call.excinfo
    if excinfo is None:
        rec["message"] = str(rep.longrepr)[-MAX_TEXT:]
        return
    rec["message"] = excinfo.exconly()[:MAX_TEXT]
    rec["exception"] = excinfo.type.__name__
    in_test = [e for e in excinfo.traceback if str(e.path) == str(item.path)]
    if in_test:
        entry = in_test[-1]
        rec["fail_line"] = entry.lineno + 1
        rec["call_line"] = in_test[0].lineno + 1  # the test's own line that led there
        try:
            rec["statement"] = str(entry.statement).strip()[:MAX_TEXT]
        except Exception:
            pass
    rec["raised_in_test"] = bool(in_test) and str(excinfo.traceback[-1].path) == str(item.path)
    if in_test and ":" not in rec["message"]:
        # a bare exception (an assert in a helper module that pytest did not rewrite): keep the
        # values the failing statement names, so a report can show what came out
        rec["values"] = _values(rec.get("statement", ""), in_test[-1].frame.f_locals)


def _values(statement, scope):
    out = {}
    for name in dict.fromkeys(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", statement)):
        if name not in scope or len(out) >= MAX_VALUES:
            continue
        value = scope[name]
        if callable(value) or isinstance(value, types.ModuleType):
            continue
        out[name] = value if isinstance(value, str) else repr(value)
        out[name] = out[name][:MAX_VALUE_TEXT]
    return out


def pytest_sessionfinish(session):
    target = os.environ.get("SWERVE_OUTCOMES")
    if not target:
        return
    with open(target, "w", encoding="utf-8") as f:
        json.dump({"tests": _results, "collect_errors": _collect_errors}, f)

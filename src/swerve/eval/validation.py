"""Validating tasks: each one run with its gold patch and with no patch.

A task is valid when the gold patch resolves it and, with no patch, its FAIL_TO_PASS tests fail.
An invalid task gets a cause:

- ``environment``: the environment could not be built or the sandbox failed (gold never graded);
- ``flaky``: gold failed once and resolved when run again;
- ``broken``: gold does not apply or does not resolve, or FAIL_TO_PASS tests pass without it.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swerve.eval.harness import NO_PATCH_MODEL, Harness
from swerve.eval.reports import EMPTY_PATCH, GRADED, PATCH_FAILED, RESOLVED, InstanceResult
from swerve.tasks.grading.verdict import F2P
from swerve.tasks.model import Task
from swerve.tasks.swebench import GOLD_MODEL, Prediction

GOLD_RERUN_MODEL = "gold-rerun"
_IMPORT_SKIP = re.compile(r"^SKIPPED \[\d+\] ([^\s:]+):\d+: could not import '([^']+)'", re.M)
# Signs in a test log that tests wanted the network (sandboxes have none).
_NETWORK_SIGNS = re.compile(
    r"Temporary failure in name resolution|Name or service not known|Network is unreachable"
    r"|Failed to establish a new connection|Could not resolve host"
)
# An https request answered in plain http: a test wanted TLS from a loopback stand-in service
# (``swerve.eval.services``), which serves http only (no certificate the tests would trust).
_TLS_ON_PLAIN = re.compile(r"WRONG_VERSION_NUMBER")
TLS_ON_STAND_IN = "https from the loopback stand-in (it serves plain http)"

# Where a log names the host a test wanted: ``host='x'`` (urllib3, pytest's locals), else a URL's.
_HOST_SIGNS = (re.compile(r"\bhost\s*=\s*'([^']+)'"), re.compile(r"\bhttps?://([A-Za-z0-9.-]+)"))
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "0.0.0.0", "::1"}
_HOST_LOOKBACK = 40  # lines before a network error searched for the host


@dataclass
class TaskValidation:
    task_id: str
    valid: bool
    cause: str = ""  # environment / flaky / broken
    detail: str = ""
    gold: InstanceResult | None = None
    no_patch: InstanceResult | None = None
    f2p_passing_without_patch: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "cause": self.cause,
            "detail": self.detail,
            "gold": _brief(self.gold),
            "no_patch": _brief(self.no_patch),
            "f2p_passing_without_patch": self.f2p_passing_without_patch,
        }


def _brief(r: InstanceResult | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {"outcome": r.outcome, "resolution": r.resolution, "cause": r.cause, "timings": r.timings}


def _failing(result: InstanceResult) -> str:
    parts = []
    for key, status in result.tests_status.items():
        if status.get("failure"):
            names = ", ".join(status["failure"][:3])
            more = f" (+{len(status['failure']) - 3})" if len(status["failure"]) > 3 else ""
            parts.append(f"{key} failing: {names}{more}")
    return "; ".join(parts) or result.cause or "not resolved"


def _needs_network(result: InstanceResult) -> bool:
    log = _test_log(result)
    return bool(_NETWORK_SIGNS.search(log) or _TLS_ON_PLAIN.search(log))


def _test_log(result: InstanceResult) -> str:
    try:
        return (Path(result.log_dir) / "test_output.txt").read_text(errors="replace")
    except OSError:
        return ""


def missing_modules(log: str, failing: list[str]) -> list[str]:
    """The modules whose failed import skipped every one of the ``failing`` tests (pytest's
    ``SKIPPED [n] FILE:LINE: could not import 'M'`` lines, for the test's file), or [] when some
    failing test ran, or was left out for another reason."""
    by_file: dict[str, set[str]] = {}
    for file, module in _IMPORT_SKIP.findall(log):
        by_file.setdefault(file, set()).add(module)
    modules: set[str] = set()
    for test in failing:
        if f"{test} " in log or f"{test}\n" in log:
            return []  # the test ran (or errored) under its own name
        found = by_file.get(test.split("::", 1)[0])
        if not found:
            return []
        modules |= found
    return sorted(modules)


def _failing_tests(result: InstanceResult) -> list[str]:
    return [t for status in result.tests_status.values() for t in status.get("failure", [])]


def network_hosts(log: str) -> list[str]:
    """The hosts a test log's network errors were about (the nearest host named on or before each
    error's line), loopback left out, in order of first appearance; ``TLS_ON_STAND_IN`` when a test
    asked a loopback stand-in for https."""
    lines = log.splitlines()
    hosts: list[str] = []
    for i, line in enumerate(lines):
        if _TLS_ON_PLAIN.search(line):
            if TLS_ON_STAND_IN not in hosts:
                hosts.append(TLS_ON_STAND_IN)
            continue
        if not _NETWORK_SIGNS.search(line):
            continue
        for j in range(i, max(-1, i - _HOST_LOOKBACK), -1):
            found = next((m for sign in _HOST_SIGNS for m in sign.findall(lines[j])), None)
            if found:
                host = found.rstrip(".")
                if host not in _LOCAL_HOSTS and host not in hosts:
                    hosts.append(host)
                break
    return hosts


def _network_detail(result: InstanceResult) -> str:
    hosts = network_hosts(_test_log(result))
    more = f" (+{len(hosts) - 5})" if len(hosts) > 5 else ""
    where = f": {', '.join(hosts[:5])}{more}" if hosts else ""
    return f"the tests need network access{where} ({_failing(result)})"


async def validate_task(harness: Harness, task: Task) -> TaskValidation:
    """Gold, then no patch; gold again once when it fails, to tell flaky from broken."""
    gold_run = harness.run_instance(task, Prediction(task.id, GOLD_MODEL, task.gold_patch))
    bare_run = harness.run_instance(task, Prediction(task.id, NO_PATCH_MODEL, None), apply_patch=False)
    gold, bare = await asyncio.gather(gold_run, bare_run)
    v = TaskValidation(task.id, False, gold=gold, no_patch=bare)
    if gold.outcome == EMPTY_PATCH:
        v.cause, v.detail = "broken", "the task has no gold patch"
        return v
    if gold.outcome == PATCH_FAILED:
        v.cause, v.detail = "broken", "the gold patch does not apply"
        return v
    if gold.outcome not in GRADED:
        v.cause, v.detail = "environment", gold.cause
        return v
    if gold.outcome != RESOLVED and _needs_network(gold):
        v.cause, v.detail = "environment", _network_detail(gold)
        return v
    modules = missing_modules(_test_log(gold), _failing_tests(gold)) if gold.outcome != RESOLVED else []
    if modules:
        v.cause = "environment"
        v.detail = f"the failing tests were skipped: no {', '.join(modules)} here ({_failing(gold)})"
        return v
    if gold.outcome != RESOLVED:
        again = await harness.run_instance(task, Prediction(task.id, GOLD_RERUN_MODEL, task.gold_patch))
        if again.outcome == RESOLVED:
            v.cause, v.detail = "flaky", f"gold failed once, then resolved ({_failing(gold)})"
        else:
            v.cause, v.detail = "broken", f"gold does not resolve: {_failing(gold)}"
        return v
    if bare.outcome not in GRADED:
        v.cause, v.detail = "environment", f"no-patch run: {bare.cause}"
        return v
    passing = bare.tests_status.get(F2P, {}).get("success", []) if bare.log_found else []
    v.f2p_passing_without_patch = list(passing)
    if bare.outcome == RESOLVED or passing:
        v.cause = "broken"
        v.detail = f"FAIL_TO_PASS tests pass without the fix: {', '.join(passing[:3]) or 'all'}"
        return v
    v.valid = True
    return v


async def validate(harness: Harness, tasks: list[Task]) -> tuple[dict[str, Any], Path]:
    """Validate every task; write ``validation.<run_id>.json`` in the report folder."""
    results = await asyncio.gather(*(validate_task(harness, t) for t in tasks))
    report = validation_report(list(results), run_id=harness.options.run_id)
    path = harness.options.report_dir / f"validation.{harness.options.run_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    return report, path


def validation_report(results: list[TaskValidation], *, run_id: str) -> dict[str, Any]:
    invalid = {v.task_id: {"cause": v.cause, "detail": v.detail} for v in results if not v.valid}
    causes: dict[str, int] = {}
    for item in invalid.values():
        causes[item["cause"]] = causes.get(item["cause"], 0) + 1
    return {
        "run_id": run_id,
        "total": len(results),
        "valid": sum(v.valid for v in results),
        "invalid": len(invalid),
        "invalid_by_cause": causes,
        "valid_ids": sorted(v.task_id for v in results if v.valid),
        "invalid_ids": invalid,
        "instances": {v.task_id: v.to_json() for v in sorted(results, key=lambda v: v.task_id)},
    }

"""Evaluation results and the files SWE-bench tooling reads.

Per instance, ``logs/run_evaluation/<run_id>/<model>/<instance_id>/`` holds ``report.json`` (only
for runs that reached grading, as in SWE-bench), ``test_output.txt``, ``run_instance.log``,
``eval.sh``, ``patch.diff`` and our ``swerve.json`` (the outcome and its cause, always written).
Per run, ``<model>.<run_id>.json`` has SWE-bench's keys and ids, plus ours: environment-unavailable,
timed-out and patch-failed instances listed apart, with causes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# An evaluation ends in exactly one of these.
RESOLVED = "resolved"
UNRESOLVED = "unresolved"
EMPTY_PATCH = "empty_patch"
PATCH_FAILED = "patch_failed"
ENV_UNAVAILABLE = "env_unavailable"
TIMEOUT = "timeout"
ERROR = "error"
GRADED = (RESOLVED, UNRESOLVED)  # a report.json exists: SWE-bench's "completed"
REPORT_FILE = "report.json"
OUTCOME_FILE = "swerve.json"


def model_dir_name(model: str) -> str:
    return model.replace("/", "__")


@dataclass
class InstanceResult:
    """The outcome of one instance under one prediction."""

    instance_id: str
    model: str
    outcome: str
    cause: str = ""  # why it is not a plain graded result (or why the log could not be read)
    resolution: str = ""  # RESOLVED_FULL / RESOLVED_PARTIAL / RESOLVED_NO when graded
    patch_applied: bool = False
    log_found: bool = False  # the log reached the tests and could be read
    test_exit_code: int | None = None
    tests_status: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    log_dir: str = ""
    reused: bool = False

    @property
    def resolved(self) -> bool:
        return self.outcome == RESOLVED

    @property
    def patch_exists(self) -> bool:
        return self.outcome != EMPTY_PATCH

    def swebench_report(self) -> dict[str, Any]:
        """``report.json`` content, in SWE-bench's shape."""
        body: dict[str, Any] = {
            "patch_is_None": False,
            "patch_exists": self.patch_exists,
            "patch_successfully_applied": self.patch_applied and self.log_found,
            "resolved": self.resolved,
            "infra_failure": self.outcome in (ENV_UNAVAILABLE, ERROR),
        }
        if self.cause and not self.log_found:
            body["infra_failure_reason"] = self.cause
        if self.tests_status:
            body["tests_status"] = self.tests_status
        return {self.instance_id: body}

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("reused")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InstanceResult:
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in names})


def instance_log_dir(log_root: Path, run_id: str, model: str, instance_id: str) -> Path:
    return log_root / run_id / model_dir_name(model) / instance_id


def write_instance_result(result: InstanceResult, log_dir: Path) -> None:
    """``swerve.json`` always; ``report.json`` when the run reached grading."""
    log_dir.mkdir(parents=True, exist_ok=True)
    result.log_dir = str(log_dir)
    (log_dir / OUTCOME_FILE).write_text(json.dumps(result.to_json(), indent=2) + "\n")
    if result.outcome in GRADED:
        (log_dir / REPORT_FILE).write_text(json.dumps(result.swebench_report(), indent=4) + "\n")


def read_instance_result(log_dir: Path) -> InstanceResult | None:
    """A verdict left by an earlier run with the same run id (as SWE-bench reuses report.json), or None."""
    try:
        data = json.loads((log_dir / OUTCOME_FILE).read_text())
        result = InstanceResult.from_json(data)
    except (OSError, ValueError, TypeError):
        return None
    if result.outcome not in (*GRADED, EMPTY_PATCH):
        return None  # not a verdict (environment, timeout, patch, error): try again
    if result.outcome in GRADED and not (log_dir / REPORT_FILE).exists():
        return None
    result.reused = True
    result.log_dir = str(log_dir)  # where it is now, should the folder have moved
    return result


def _ids(results: list[InstanceResult], *outcomes: str) -> list[str]:
    return sorted(r.instance_id for r in results if r.outcome in outcomes)


def run_report(
    *, dataset_ids: list[str], submitted_ids: list[str], results: list[InstanceResult], sandbox: str = ""
) -> dict[str, Any]:
    """The run report: SWE-bench's keys first, then ours."""
    done = {r.instance_id for r in results}
    completed = _ids(results, *GRADED)
    resolved = _ids(results, RESOLVED)
    unresolved = _ids(results, UNRESOLVED)
    empty = _ids(results, EMPTY_PATCH)
    errors = _ids(results, PATCH_FAILED, ENV_UNAVAILABLE, TIMEOUT, ERROR)
    infra = _ids(results, ENV_UNAVAILABLE, ERROR)
    ambiguous = _ids(results, TIMEOUT)
    incomplete = sorted(i for i in dataset_ids if i not in done)
    causes = {r.instance_id: r.cause for r in sorted(results, key=lambda r: r.instance_id) if r.cause}
    return {
        "total_instances": len(dataset_ids),
        "submitted_instances": len(submitted_ids),
        "completed_instances": len(completed),
        "resolved_instances": len(resolved),
        "unresolved_instances": len(unresolved),
        "infra_failure_instances": len(infra),
        "ambiguous_failure_instances": len(ambiguous),
        "empty_patch_instances": len(empty),
        "error_instances": len(errors),
        "completed_ids": completed,
        "incomplete_ids": incomplete,
        "empty_patch_ids": empty,
        "submitted_ids": sorted(submitted_ids),
        "resolved_ids": resolved,
        "unresolved_ids": unresolved,
        "infra_failure_ids": infra,
        "ambiguous_failure_ids": ambiguous,
        "failure_reasons": {i: c for i, c in causes.items() if i in set(errors)},
        "error_ids": errors,
        "schema_version": 2,
        # swerve's additions: what kept an instance from a verdict, kept apart from a 0
        "environment_unavailable_ids": _ids(results, ENV_UNAVAILABLE),
        "timeout_ids": ambiguous,
        "patch_apply_failed_ids": _ids(results, PATCH_FAILED),
        "causes": causes,
        "sandbox": sandbox,
        "timings": {
            r.instance_id: r.timings for r in sorted(results, key=lambda r: r.instance_id) if r.timings
        },
    }


def write_run_report(report: dict[str, Any], report_dir: Path, model: str, run_id: str) -> Path:
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / f"{model_dir_name(model)}.{run_id}.json"
    path.write_text(json.dumps(report, indent=4) + "\n")
    return path


def summary_lines(report: dict[str, Any]) -> list[str]:
    """A small table of the run's counts."""
    rows = [
        ("instances", report["total_instances"]),
        ("submitted", report["submitted_instances"]),
        ("completed", report["completed_instances"]),
        ("resolved", report["resolved_instances"]),
        ("unresolved", report["unresolved_instances"]),
        ("empty patch", report["empty_patch_instances"]),
        ("patch failed", len(report["patch_apply_failed_ids"])),
        ("env unavailable", len(report["environment_unavailable_ids"])),
        ("timed out", len(report["timeout_ids"])),
        ("errors", report["error_instances"]),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"{name.ljust(width)}  {value:>6}" for name, value in rows]
    completed = report["completed_instances"]
    if completed:
        rate = 100.0 * report["resolved_instances"] / max(1, report["submitted_instances"])
        lines.append(f"{'resolved rate'.ljust(width)}  {rate:>5.1f}%")
    return lines

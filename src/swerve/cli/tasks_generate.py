"""``swerve tasks generate``: a validated SWE-bench dataset from any Python project's own tests.

    swerve tasks generate --sdist more-itertools==10.5.0 --count 20 --out mi.jsonl
    swerve tasks generate --repo ./myproject --count 50 --out mine.parquet --workers 2

Runs a second time with the same ``--out`` resume (``<out>.state.jsonl``); the report is printed
and written to ``<out>.report.json``. The work is ``swerve.tasks.generate``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from swerve.cli.flags import add_model_flags, agent_config_from

STRATEGY_HELP = "comma-separated, of: procedural, combo, model, history (default procedural,combo)"


def add_actions(actions: argparse._SubParsersAction) -> None:
    p = actions.add_parser("generate", help="make validated tasks from a Python project's tests")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--repo", metavar="PATH", help="a local checkout (its committed state when it has .git)"
    )
    where.add_argument("--sdist", metavar="NAME==VERSION", help="a PyPI sdist")
    p.add_argument("--count", type=int, default=10, help="tasks to make (default 10)")
    p.add_argument("--out", required=True, metavar="FILE", help="the dataset: .jsonl or .parquet")
    p.add_argument("--strategies", default="procedural,combo", help=STRATEGY_HELP)
    p.add_argument("--workers", type=int, default=1, help="suites run at once (default 1)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per suite run (default 120)")
    p.add_argument("--max-tries", type=int, default=500, help="most candidates to judge (default 500)")
    p.add_argument("--max-f2p", type=int, default=5, help="most tests a bug may break (default 5)")
    p.add_argument("--seed", type=int, default=0, help="order of the candidates (default 0)")
    p.add_argument("--python", help="run the tests with this Python instead of building the project's venv")
    p.add_argument("--allow-network", action="store_true", help="let the tests use the network")
    p.add_argument(
        "--no-model-statements",
        action="store_true",
        help="write problem statements from the failing tests even when a model is configured",
    )
    p.add_argument(
        "--solve-rate", type=int, metavar="K", help="also measure the model's solve rate over K attempts"
    )
    p.add_argument(
        "--keep-solve-rate", metavar="LOW..HIGH", help="keep tasks whose solve rate is in the range"
    )
    add_model_flags(p, timeout_flag="--agent-timeout")
    p.set_defaults(func=run)


def _fail(message: str, code: int = 2) -> int:
    print(f"swerve tasks generate: {message}", file=sys.stderr)
    return code


def _options(args: argparse.Namespace) -> Any:
    from swerve.tasks.generate.candidates import STRATEGIES
    from swerve.tasks.generate.core import GenerationError
    from swerve.tasks.generate.pipeline import Options

    strategies = tuple(s.strip() for s in args.strategies.split(",") if s.strip())
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown or not strategies:
        raise GenerationError(f"unknown strategies {unknown} (known: {', '.join(STRATEGIES)})")
    if args.count < 1 or args.workers < 1 or args.max_f2p < 1 or args.max_tries < 1 or args.timeout <= 0:
        raise GenerationError("--count, --workers, --max-f2p, --max-tries and --timeout must be positive")
    return Options(
        count=args.count,
        strategies=strategies,
        seed=args.seed,
        max_f2p=args.max_f2p,
        max_tries=args.max_tries,
        workers=args.workers,
        timeout_s=args.timeout,
        python=args.python,
        offline=not args.allow_network,
    )


def _project(args: argparse.Namespace) -> Any:
    from swerve.tasks.generate.fetch import parse_spec, repo_tree, sdist_tree
    from swerve.tasks.generate.project import discover

    if args.sdist:
        name, version = parse_spec(args.sdist)
        return discover(sdist_tree(name, version), name=name, version=version, origin="pypi")
    tree, commit = repo_tree(Path(args.repo))
    version = f"0+g{commit[:12]}" if commit else ""
    return discover(tree, default_name=Path(args.repo).resolve().name, version=version, origin="local")


async def _generate(gen: Any, agent: Any, log: Any, no_statements: bool) -> list[dict[str, Any]]:
    """The run, with the configured model writing the problem statements (and model bugs)."""
    if agent is None:
        return list(await gen.run())
    from swerve.tasks.generate.issue import model_writer

    model = agent.build_model()
    gen.options.model = model
    if not no_statements:
        log(f"problem statements by {agent.model}")
        gen.options.statement_writer = model_writer(model)
    try:
        return list(await gen.run())
    finally:
        await model.aclose()


def _solve_rate_args(args: argparse.Namespace) -> tuple[float, float] | None:
    from swerve.gym.difficulty import parse_range

    if args.keep_solve_rate and not args.solve_rate:
        raise ValueError("--keep-solve-rate needs --solve-rate K")
    if args.solve_rate is not None and args.solve_rate < 1:
        raise ValueError("--solve-rate K needs K >= 1")
    return parse_range(args.keep_solve_rate) if args.keep_solve_rate else None


async def _difficulty(
    out: Path, records: list[dict[str, Any]], agent: Any, samples: int, keep: Any, workers: int, log: Any
) -> list[dict[str, Any]]:
    """The records with their solve rates (K episodes each through the farm), filtered by ``keep``."""
    from swerve.gym.difficulty import solve_rates
    from swerve.tasks.generate.dataset import write_dataset

    run_dir = out.with_name(out.name + ".solve")
    log(f"solve rate: {samples} attempt(s) per task by {agent.model} (run: {run_dir})")
    rates = await solve_rates(out, agent, samples, run_dir, concurrency=workers)
    rated = [{**r, "solve_rate": rates.get(r["instance_id"])} for r in records]
    kept = [
        r
        for r in rated
        if keep is None or (r["solve_rate"] is not None and keep[0] <= r["solve_rate"] <= keep[1])
    ]
    if keep is not None:
        log(f"solve rate in {keep[0]}..{keep[1]}: kept {len(kept)} of {len(rated)}")
    write_dataset(out, kept)
    return kept


def _write_failure(out: Path, args: argparse.Namespace, why: str) -> None:
    """A report saying why nothing was made (a benchmark over many projects reads it)."""
    import json

    if out.suffix in (".jsonl", ".parquet") and out.parent.is_dir():
        report = {"project": args.sdist or args.repo, "tried": 0, "valid": 0, "error": why}
        out.with_name(out.name + ".report.json").write_text(json.dumps(report, indent=1) + "\n")


def run(args: argparse.Namespace) -> int:
    from swerve.errors import TaskError
    from swerve.tasks.generate.dataset import check_out_path
    from swerve.tasks.generate.pipeline import Generator

    out = Path(args.out)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        check_out_path(out)
        options = _options(args)
        keep = _solve_rate_args(args)
        agent = agent_config_from(args, required=bool(args.solve_rate))
        project = _project(args)
        if args.repo and (Path(args.repo) / ".git").exists():
            options.history_repo = Path(args.repo).resolve()
        gen = Generator(project, options, out, log=log)
        records = asyncio.run(_generate(gen, agent, log, args.no_model_statements))
        if args.solve_rate and records:
            records = asyncio.run(_difficulty(out, records, agent, args.solve_rate, keep, args.workers, log))
    except TaskError as exc:
        _write_failure(out, args, str(exc))
        return _fail(str(exc), 1)
    except ValueError as exc:  # the model settings
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130
    for line in gen.report.lines():
        print(line)
    print(f"wrote {len(records)} task(s) to {out} (report: {out.name}.report.json)")
    return 0 if records else 1

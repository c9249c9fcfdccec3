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


async def _generate(gen: Any, agent: Any, log: Any) -> list[dict[str, Any]]:
    """The run, with the configured model writing the problem statements when there is one."""
    if agent is None:
        return list(await gen.run())
    from swerve.tasks.generate.issue import model_writer

    model = agent.build_model()
    log(f"problem statements by {agent.model}")
    gen.options.statement_writer = model_writer(model)
    try:
        return list(await gen.run())
    finally:
        await model.aclose()


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
        agent = None if args.no_model_statements else agent_config_from(args, required=False)
        project = _project(args)
        gen = Generator(project, options, out, log=log)
        records = asyncio.run(_generate(gen, agent, log))
    except ValueError as exc:
        return _fail(str(exc))
    except TaskError as exc:
        return _fail(str(exc), 1)
    except KeyboardInterrupt:
        return 130
    for line in gen.report.lines():
        print(line)
    print(f"wrote {len(records)} task(s) to {out} (report: {out.name}.report.json)")
    return 0 if records else 1

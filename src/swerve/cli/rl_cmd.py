"""``swerve rl check RUN --model PATH``: the training-inference mismatch of a run's log-probabilities."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("rl", help="RL bridge: check a run's log-probabilities against a trainer model")
    sub = p.add_subparsers(dest="rl_command", required=True)
    c = sub.add_parser(
        "check",
        help="recompute every generated token's log-probability and print the mismatch per turn position",
    )
    c.add_argument("dir", help="a run directory recorded with --capture-tokens")
    c.add_argument("--model", required=True, help="a transformers model folder, or a .gguf file")
    c.add_argument("--limit", type=int, help="only the first N episodes")
    c.add_argument("--dtype", choices=("float32", "bfloat16", "float16"), default="float32")
    c.add_argument("--json", action="store_true", help="print one JSON object")
    c.set_defaults(func=check)


def check(args: argparse.Namespace) -> int:
    from swerve.errors import StoreError
    from swerve.rl.check import check_run, format_check
    from swerve.rl.policy import load_policy
    from swerve.rl.samples import SampleError

    if not (Path(args.dir) / "episodes.jsonl").is_file():  # before the slow model load
        print(f"swerve rl: {args.dir} is not a run directory (it has no episodes.jsonl)", file=sys.stderr)
        return 2
    try:
        policy = load_policy(args.model, dtype=args.dtype)
        result = check_run(Path(args.dir), policy, limit=args.limit)
    except (SampleError, StoreError, OSError, ValueError) as exc:
        print(f"swerve rl: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result) if args.json else format_check(result))
    return 0

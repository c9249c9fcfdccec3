"""The ``swerve`` command: dispatches to a subcommand, the headless agent (``-p``) or the app.

Kept import-light: heavy modules load only once a path is chosen, so ``--help`` stays fast.
"""

from __future__ import annotations

import importlib
import sys

# subcommand name -> module exposing ``register(subparsers)`` and a ``run(args) -> int`` set as ``func``
SUBCOMMANDS: dict[str, str] = {
    "eval": "swerve.cli.eval_cmd",
    "gym": "swerve.cli.gym_cmd",
    "model": "swerve.cli.model_cmd",
    "report": "swerve.cli.report_cmd",
    "rl": "swerve.cli.rl_cmd",
    "sandbox": "swerve.cli.sandbox_cmd",
    "serve": "swerve.cli.serve_cmd",
    "tasks": "swerve.cli.tasks_cmd",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        import argparse

        parser = argparse.ArgumentParser(prog="swerve")
        sub = parser.add_subparsers(dest="command", required=True)
        importlib.import_module(SUBCOMMANDS[argv[0]]).register(sub)
        args = parser.parse_args(argv)
        return int(args.func(args) or 0)
    from swerve.cli.flags import EXIT_USAGE, build_parser

    args = build_parser().parse_args(argv)
    if args.prompt is None:
        if not sys.stdin.isatty():
            args.prompt = ""  # a task on standard input
        elif not sys.stdout.isatty():
            print(
                'swerve: the app needs a terminal on standard output; for scripts use -p "TASK"',
                file=sys.stderr,
            )
            return EXIT_USAGE
        else:
            from swerve.cli.app import run_app

            return run_app(args)
    from swerve.cli import headless

    return headless.run(args)


if __name__ == "__main__":
    sys.exit(main())

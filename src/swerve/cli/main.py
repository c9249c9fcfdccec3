"""The ``swerve`` command: dispatches to the headless agent, the app, or a subcommand.

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
    "sandbox": "swerve.cli.sandbox_cmd",
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
    from swerve.cli.headless import run_main

    return run_main(argv)


if __name__ == "__main__":
    sys.exit(main())

"""``swerve tasks``: making and measuring verifiable tasks.

    swerve tasks generate ...      new repository tasks from any Python project (tasks_generate)
    swerve tasks scale-tests ...   more and stronger tests for code tasks (tasks_code)
    swerve tasks strength ...      how strong a dataset's tests are (tasks_code)
    swerve tasks bench-reward ...  verdicts per second of the code-task verifier (tasks_code)

Each action lives in its own module, which exposes ``add_actions(actions)``: it adds its
subparsers with ``set_defaults(func=...)``; those modules import their heavy parts when run.
"""

from __future__ import annotations

import argparse
import importlib

# action -> module that defines it
ACTIONS: dict[str, str] = {
    "scale-tests": "swerve.cli.tasks_code",
    "strength": "swerve.cli.tasks_code",
    "bench-reward": "swerve.cli.tasks_code",
    "generate": "swerve.cli.tasks_generate",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    tasks = subparsers.add_parser("tasks", help="make and measure verifiable tasks")
    actions = tasks.add_subparsers(dest="tasks_command", required=True)
    for module in dict.fromkeys(ACTIONS.values()):
        importlib.import_module(module).add_actions(actions)

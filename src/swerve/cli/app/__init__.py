"""The interactive terminal app: ``swerve`` with no task opens it in the current directory.

Importing this package is cheap; ``run_app`` loads prompt_toolkit and the rest when called.
"""

from __future__ import annotations

import argparse


def run_app(args: argparse.Namespace) -> int:
    """Run the app until the user quits; returns the process exit code."""
    from swerve.cli.app.main import run

    return run(args)

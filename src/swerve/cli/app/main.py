"""Starting the app: settings first (cheap), the prompt next, everything heavy after it shows."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from swerve import __version__


def run(args: argparse.Namespace) -> int:
    from swerve.cli.flags import EXIT_USAGE, flags_from_args
    from swerve.config import resolve
    from swerve.errors import ConfigError

    cwd = os.path.abspath(args.cwd or os.getcwd())
    if not os.path.isdir(cwd):
        print(f"swerve: no such directory: {cwd}", file=sys.stderr)
        return EXIT_USAGE
    flags = flags_from_args(args)
    try:
        settings = resolve(cwd, flags)
    except ConfigError as exc:
        print(f"swerve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from swerve.cli.app.controller import App

    banner = f"\x1b[1;35mswerve\x1b[0m {__version__} · {cwd} · /help for commands, Ctrl-C twice to quit\n"
    if os.environ.get("NO_COLOR"):
        banner = f"swerve {__version__} · {cwd} · /help for commands, Ctrl-C twice to quit\n"
    sys.stdout.write(banner)
    sys.stdout.flush()
    try:
        return asyncio.run(App(cwd, flags, settings, args).main())
    except KeyboardInterrupt:
        return 130

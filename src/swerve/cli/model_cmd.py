"""``swerve model``: local models.

    swerve model list | pull [NAME] | rm NAME | build-server      (cli/model_admin.py)
    swerve model serve [NAME|FILE.gguf] [--port P] [--host H] [--ctx N] [--parallel N] [--threads T]

``serve`` runs the local OpenAI-compatible server in the foreground on 127.0.0.1, prints its
URL once it answers, and stops cleanly on Ctrl-C or SIGTERM, leaving nothing running. NAME is
resolved by the model catalog when it is installed, else it must be a ``.gguf`` path (or the
stem of a file under ``cache_root()/models``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

EXIT_USAGE = 2


def resolve_model_file(name: str | None) -> Path:
    """The file to serve for NAME: a .gguf path, or a pulled catalog model (the default when None)."""
    from swerve.local.catalog import resolve_model_file as from_catalog

    return from_catalog(name)


def serve(args: argparse.Namespace) -> int:
    try:
        path = resolve_model_file(args.name)
    except (LookupError, OSError) as exc:
        print(f"swerve model serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from swerve.local.server import main as server_main

    argv = ["--model", str(path), "--host", args.host, "--port", str(args.port)]
    for flag, value in (
        ("--ctx", args.ctx),
        ("--parallel", args.parallel),
        ("--threads", args.threads),
        ("--alias", args.alias),
    ):
        if value:
            argv += [flag, str(value)]
    return server_main(argv)


def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", metavar="NAME|FILE.gguf", help="model name or GGUF file")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--ctx", type=int, default=0, metavar="N", help="context tokens (default: the model's, ≤32768)"
    )
    parser.add_argument(
        "--parallel", type=int, default=0, metavar="N", help="requests decoded together (default 1)"
    )
    parser.add_argument("--threads", type=int, default=0, metavar="T", help="CPU threads (default: all)")
    parser.add_argument("--alias", help="model name the API reports (default: the file's stem)")


# action -> (summary, add its arguments, run it)
ACTIONS: dict[
    str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
] = {
    "serve": ("serve a local model over an OpenAI-compatible API", _serve_arguments, serve),
}


def register(subparsers: argparse._SubParsersAction) -> None:
    from swerve.cli.model_admin import add_admin_actions

    model = subparsers.add_parser("model", help="local models: list, pull, serve and remove them")
    actions = model.add_subparsers(dest="model_command", required=True)
    add_admin_actions(actions)
    for name, (summary, add_arguments, func) in ACTIONS.items():
        parser = actions.add_parser(name, help=summary, description=summary)
        add_arguments(parser)
        parser.set_defaults(func=func)

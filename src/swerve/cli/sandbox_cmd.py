"""``swerve sandbox run``: one command in a fresh, throwaway sandbox.

    swerve sandbox run [--base DIR] [--backend namespace|docker] [--image IMG] [--timeout S]
                       [--memory MB] [--pids N] [--disk MB] [--cpus N] [--network] -- CMD...

The base directory (default: the current one) is the read-only lower layer; the command's
writes go to a layer that is thrown away. The default limits (``sandboxLimits`` in settings,
then the flags, over them) always apply. Prints the output and exits with the command's code
(124 after a timeout, 125 when the sandbox itself failed).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sys
from typing import TYPE_CHECKING

from swerve.cli.flags import add_limit_flags, limit_flags

if TYPE_CHECKING:
    from swerve.sandbox.base import Workspace

EXIT_TIMEOUT = 124
EXIT_SANDBOX_FAILED = 125


def register(subparsers: argparse._SubParsersAction) -> None:
    sandbox = subparsers.add_parser("sandbox", help="run commands in isolated sandboxes")
    actions = sandbox.add_subparsers(dest="sandbox_command", required=True)
    run_parser = actions.add_parser(
        "run",
        help="run a command in a fresh sandbox over a directory",
        description="Run CMD in a fresh sandbox over DIR; writes go to a throwaway layer.",
    )
    run_parser.add_argument("--base", default=".", metavar="DIR", help="base directory (default: .)")
    run_parser.add_argument("--backend", choices=("namespace", "docker"), default="namespace")
    run_parser.add_argument("--image", help="container image (docker backend only)")
    run_parser.add_argument("--timeout", type=float, default=600.0, metavar="S", help="seconds (default 600)")
    add_limit_flags(run_parser)
    run_parser.add_argument("--network", action="store_true", help="allow network access")
    run_parser.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD...")
    run_parser.set_defaults(func=run)


def _fail(message: str) -> int:
    print(f"swerve sandbox: {message}", file=sys.stderr)
    return EXIT_SANDBOX_FAILED


def run(args: argparse.Namespace) -> int:
    cmd = list(args.cmd)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        return _fail("no command given; usage: swerve sandbox run [options] -- CMD...")
    if args.timeout <= 0:
        return _fail("--timeout must be positive")
    if args.image and args.backend != "docker":
        return _fail("--image applies to --backend docker only")
    if args.backend == "docker" and not args.image:
        return _fail("--backend docker needs --image IMG")
    base = os.path.abspath(args.base)
    if not os.path.isdir(base):
        return _fail(f"base directory does not exist: {args.base}")
    command = shlex.join(cmd)
    try:
        return asyncio.run(_run(args, base, command))
    except KeyboardInterrupt:
        return 130


async def _open(args: argparse.Namespace, base: str) -> Workspace:
    from swerve.config import resolve, sandbox_limits

    limits = sandbox_limits(resolve(base, {"sandbox_limits": limit_flags(args)}))
    if args.backend == "docker":
        from swerve.sandbox import docker

        return await docker.open_docker_workspace(
            base, image=args.image, timeout=args.timeout, limits=limits, network=args.network
        )
    from swerve.sandbox.ns import NamespaceWorkspace

    return await NamespaceWorkspace.create(
        [base], root=os.path.realpath(base), network=args.network, limits=limits
    )


async def _run(args: argparse.Namespace, base: str, command: str) -> int:
    from swerve.errors import SandboxError, SwerveError

    try:
        workspace = await _open(args, base)
    except (SwerveError, ImportError, AttributeError) as exc:
        return _fail(str(exc))
    try:
        cwd = os.path.realpath(base) if args.backend == "namespace" else None
        result = await workspace.exec(command, cwd=cwd, timeout=args.timeout)
    except SandboxError as exc:
        return _fail(str(exc))
    finally:
        await workspace.close()
    out = sys.stdout
    out.write(result.output)
    out.flush()
    if result.timed_out:
        print(f"swerve sandbox: timed out after {args.timeout:g} s", file=sys.stderr)
        return EXIT_TIMEOUT
    return result.exit_code

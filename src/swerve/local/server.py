"""``python -m swerve.local.server --model FILE.gguf``: the local OpenAI-compatible model server.

    python -m swerve.local.server --model FILE.gguf [--host 127.0.0.1] [--port 8080] [--alias NAME]
                                  [--ctx N] [--threads T] [--parallel N] [--seed S]

It listens at once (``/health`` answers 503 while the model loads, as llama-server does), then
prints one line with its URL when it answers requests, and writes its state file so other swerve
processes can reuse it. SIGTERM or SIGINT: running requests are cut, the model is freed, exit 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import os
import signal
import sys
import time
from pathlib import Path

from swerve.httpd import HTTPError, HTTPServer, Request, Response, Router

EXIT_USAGE = 2
EXIT_FAILED = 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m swerve.local.server",
        description="An OpenAI- and llama.cpp-compatible server over a GGUF model.",
    )
    parser.add_argument("--model", "-m", required=True, metavar="FILE.gguf", help="the GGUF model file")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    parser.add_argument("--alias", help="model name the API reports and accepts (default: the file's stem)")
    parser.add_argument(
        "--ctx",
        "-c",
        type=int,
        default=0,
        metavar="N",
        help="context tokens in all, shared by the slots (default: the model's, at most 32768)",
    )
    parser.add_argument(
        "--threads", "-t", type=int, default=0, metavar="T", help="CPU threads (default: all)"
    )
    parser.add_argument(
        "--parallel", "-np", type=int, default=1, metavar="N", help="slots decoded together (default 1)"
    )
    parser.add_argument("--seed", type=int, default=-1, help="default sampling seed (-1: random per request)")
    parser.add_argument(
        "--omp-wait",
        choices=("passive", "active"),
        default=None,
        help="how idle compute threads wait: passive (default; best on shared cores) or "
        "active (spin; a little faster on an otherwise idle machine)",
    )
    parser.add_argument("--exit-with", type=int, default=0, metavar="PID", help="stop when process PID ends")
    parser.add_argument("--no-state-file", action="store_true", help="do not advertise this server for reuse")
    parser.add_argument("--verbose", action="store_true", help="show llama.cpp's own log")
    return parser


def _loading_router() -> Router:
    router = Router()

    async def loading(request: Request) -> Response:
        raise HTTPError(503, "Loading model", type="unavailable_error")

    for path in ("/health", "/v1/health"):
        router.add("GET", path, loading)
    return router


async def _watch_parent(pid: int, stop: asyncio.Event) -> None:
    from swerve.local.state import pid_alive

    while not stop.is_set():
        if not pid_alive(pid):
            stop.set()
            with contextlib.suppress(OSError):  # its pipes may have gone with it
                print(f"swerve local server: process {pid} is gone; stopping", file=sys.stderr)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


async def serve(args: argparse.Namespace) -> int:
    from swerve.local.api import Service, build_router
    from swerve.local.llama import LlamaModel, ModelLoadError
    from swerve.local.runtime import RuntimeMissing
    from swerve.local.sampling import SamplingParams
    from swerve.local.scheduler import Scheduler
    from swerve.local.state import remove_state, write_state

    model_path = Path(args.model).expanduser().resolve()
    if args.omp_wait:
        os.environ["OMP_WAIT_POLICY"] = args.omp_wait.upper()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    http = HTTPServer(_loading_router(), host=args.host, port=args.port)
    try:
        await http.start()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            print(f"swerve local server: port {args.port} on {args.host} is in use", file=sys.stderr)
        else:
            print(f"swerve local server: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    watcher = asyncio.ensure_future(_watch_parent(args.exit_with, stop)) if args.exit_with else None
    started = time.monotonic()
    model = scheduler = None
    try:
        load = asyncio.ensure_future(
            asyncio.to_thread(
                LlamaModel,
                model_path,
                n_ctx=args.ctx,
                n_seq=args.parallel,
                n_threads=args.threads or None,
                verbose=args.verbose,
            )
        )
        try:
            model = await load
        except (ModelLoadError, RuntimeMissing) as exc:
            print(f"swerve local server: {exc}", file=sys.stderr)
            return EXIT_FAILED
        if stop.is_set():
            return 0
        scheduler = Scheduler(model).start()
        alias = args.alias or model_path.stem
        service = Service(model, scheduler, alias, SamplingParams(seed=args.seed))
        http.router = build_router(service)
        if not args.no_state_file:
            write_state(
                model_path,
                {
                    "pid": os.getpid(),
                    "url": http.url,
                    "base_url": http.url + "/v1",
                    "host": args.host,
                    "port": http.port,
                    "model_path": str(model_path),
                    "alias": alias,
                    "n_ctx": model.n_ctx,
                    "parallel": args.parallel,
                    "started": time.time(),
                },
            )
        print(
            f"swerve local server ready: {http.url}/v1 (model {alias}, {model.n_ctx_seq} tokens per slot, "
            f"{args.parallel} slot{'s' if args.parallel != 1 else ''}, {model.n_threads} threads, "
            f"ready in {time.monotonic() - started:.1f} s)",
            flush=True,
        )
        await stop.wait()
        return 0
    finally:
        if not args.no_state_file:
            remove_state(model_path, os.getpid())
        await http.close(grace_s=1.0)
        if scheduler is not None:
            scheduler.stop()
        if model is not None:
            model.close()
        if watcher is not None:
            watcher.cancel()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for name in ("ctx", "threads", "port"):
        if getattr(args, name) < 0:
            print(f"swerve local server: --{name} cannot be negative", file=sys.stderr)
            return EXIT_USAGE
    if args.parallel < 1:
        print("swerve local server: --parallel must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    path = Path(args.model).expanduser()
    if not path.is_file():
        print(f"swerve local server: model file not found: {path}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return asyncio.run(serve(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())

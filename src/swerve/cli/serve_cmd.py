"""``swerve serve``: the gateway, so Claude Code, Codex, Qwen Code and Cline can drive any model.

    swerve serve [--port 8787] [--backend local | anthropic[:URL] | URL] [--model NAME]
                 [--auth-token T] [--log FILE] [--settings FILE] [--strict-models]

Without ``--backend``/``--model`` flags the backends come from ``"gateway"`` in settings.json, or
else from swerve's usual model settings. See docs/gateway.md.
"""

from __future__ import annotations

import argparse
import os
import sys

DEFAULT_PORT = 8787  # the gateway's (swerve.gateway.server.DEFAULT_PORT), kept here so --help stays light


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "serve",
        help="an API gateway: Claude Code, Codex, Qwen Code and Cline on any model",
        description="Serve the Anthropic Messages, OpenAI Chat Completions and Responses APIs on "
        "127.0.0.1, in front of any model swerve can reach (docs/gateway.md).",
    )
    p.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)"
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on; anything but loopback needs --auth-token"
    )
    p.add_argument(
        "--backend",
        help="local, local:NAME, anthropic, anthropic:URL, or the URL of an OpenAI-compatible server",
    )
    p.add_argument(
        "-m", "--model", help="the backend's model name (default: from settings, or what the server lists)"
    )
    p.add_argument("--api-key", help="the backend's API key (default: from settings or the environment)")
    p.add_argument(
        "--tool-protocol",
        choices=("native", "qwen-xml"),
        help="qwen-xml: tools as Qwen3-Coder XML in the prompt",
    )
    p.add_argument("--context-window", type=int)
    p.add_argument("--auth-token", help="require this token from clients (default: $SWERVE_GATEWAY_TOKEN)")
    p.add_argument("--log", metavar="FILE", help="append one JSON line per request (no secrets)")
    p.add_argument("--settings", metavar="FILE", help='a JSON file with a "gateway" object (routing)')
    p.add_argument("--strict-models", action="store_true", help="a model name no route names is a 404")
    p.add_argument("--max-body-mb", type=float, default=32.0, help="largest request body (default 32 MB)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from swerve.errors import SwerveError
    from swerve.gateway.backends import backend_flags
    from swerve.gateway.setup import build_routes, event_loop_factory, serve, token_from

    try:
        flags = backend_flags(args.backend)
        flags.update(
            {
                k: v
                for k, v in {
                    "model": args.model,
                    "api_key": args.api_key,
                    "tool_protocol": args.tool_protocol,
                    "context_window": args.context_window,
                }.items()
                if v is not None
            }
        )
        routes = build_routes(os.getcwd(), flags, args.settings, args.strict_models)
        main = serve(
            routes,
            host=args.host,
            port=args.port,
            auth_token=token_from(args.auth_token),
            log_path=args.log,
            max_body=int(args.max_body_mb * 1024 * 1024),
        )
        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            return runner.run(main)
    except (SwerveError, OSError) as exc:
        print(f"swerve serve: {exc}", file=sys.stderr)
        return 2

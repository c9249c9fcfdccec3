"""The command line of ``swerve``: its parser, the model and agent flags every agent-running command
shares, the settings they stand for, and the exit codes. Import-light: nothing heavy loads here."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from swerve import __version__

if TYPE_CHECKING:
    from swerve.config import AgentConfig

TASK_ACT_NUDGES = 2  # gym and eval episodes: how often a model answering in prose is told to call a tool

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_LIMIT = 3
EXIT_INTERRUPTED = 130

EXIT_CODES = {
    "completed": EXIT_OK,
    "model_error": EXIT_ERROR,
    "error": EXIT_ERROR,
    "max_turns": EXIT_LIMIT,
    "max_tokens": EXIT_LIMIT,
    "max_cost": EXIT_LIMIT,
    "timeout": EXIT_LIMIT,
    "loop": EXIT_LIMIT,
    "context_overflow": EXIT_LIMIT,
    "truncated": EXIT_LIMIT,
    "empty_reply": EXIT_ERROR,
    "format_error": EXIT_ERROR,
    "interrupted": EXIT_INTERRUPTED,
}

DESCRIPTION = """swerve: a coding agent for your terminal.

  swerve                                    open the interactive app in this directory
  swerve -p "fix the failing test"         run headless on a task, print the answer
  echo "task" | swerve -p                   the task from standard input
  swerve sandbox run -- CMD                 run a command in a throwaway sandbox
  swerve eval --dataset builtin             validate (or, with a model, solve) the built-in suite
  swerve gym run --tasks builtin --out DIR  run the agent on many tasks at once, record episodes

Model: --model / $OPENAI_MODEL with $OPENAI_BASE_URL and $OPENAI_API_KEY (any OpenAI-compatible
server), or $ANTHROPIC_API_KEY / $ANTHROPIC_BASE_URL; --model replay:demo runs offline.
Settings: ~/.swerve/settings.json and .swerve/settings.json (flags > env > project > user).
Exit codes: 0 done, 1 error (model or run), 2 bad usage or settings, 3 a limit or loop ended the run,
130 interrupted."""


def add_model_flags(p: argparse.ArgumentParser, timeout_flag: str = "--timeout") -> None:
    """The model, tool-protocol, limit and sampling flags of every command that runs the agent."""
    p.add_argument("-m", "--model", help="model name, or replay:PATH / replay:demo (default: from settings)")
    p.add_argument("--provider", choices=("openai", "anthropic"))
    p.add_argument("--base-url")
    p.add_argument("--api-key")
    p.add_argument("--tool-protocol", choices=("native", "qwen-xml"))
    p.add_argument("--max-turns", type=int)
    p.add_argument("--max-tokens", type=int, help="stop after this many tokens in + out")
    p.add_argument(timeout_flag, type=float, dest="wall_clock_s", help="wall-clock limit for a run, seconds")
    p.add_argument("--context-window", type=int)
    p.add_argument("--temperature", type=float)
    p.add_argument("--top-p", type=float)
    p.add_argument("--top-k", type=int)


def model_flags(args: argparse.Namespace) -> dict[str, Any]:
    """Settings fields the model flags give (None where a flag was not given)."""
    return {
        "model": args.model,
        "provider": args.provider,
        "base_url": args.base_url,
        "api_key": args.api_key,
        "tool_protocol": args.tool_protocol,
        "max_turns": args.max_turns,
        "max_tokens": args.max_tokens,
        "wall_clock_s": args.wall_clock_s,
        "context_window": args.context_window,
        "sampling": {"temperature": args.temperature, "top_p": args.top_p, "top_k": args.top_k},
    }


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``swerve`` itself (the app and ``-p``; subcommands have their own)."""
    p = argparse.ArgumentParser(
        prog="swerve", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "-p",
        "--print",
        dest="prompt",
        nargs="?",
        const="",
        default=None,
        metavar="TASK",
        help="run headless on TASK (read from stdin when omitted) and exit",
    )
    p.add_argument("--output-format", choices=("text", "json", "stream-json"), default="text")
    p.add_argument(
        "--include-partial-messages",
        action="store_true",
        help="with stream-json: also emit text deltas as stream_event lines",
    )
    p.add_argument("--verbose", action="store_true", help="with text: show tool calls on stderr")
    p.add_argument("--approval-mode", choices=("plan", "default", "auto-edit", "yolo"))
    p.add_argument("--yolo", action="store_true", help="same as --approval-mode yolo")
    add_model_flags(p)
    p.add_argument("--max-cost", type=float, help="stop at this cost (needs pricing in settings)")
    p.add_argument(
        "--sandbox",
        action="store_true",
        default=None,
        help="run shell commands in a namespace sandbox (project writable, rest read-only)",
    )
    add_limit_flags(p)
    p.add_argument(
        "--add-dir", action="append", default=None, metavar="DIR", help="let the tools read and write DIR too"
    )
    p.add_argument(
        "-c",
        "--continue",
        dest="continue_session",
        action="store_true",
        help="continue the latest session of this directory",
    )
    p.add_argument("-r", "--resume", metavar="ID", help="resume session ID")
    p.add_argument("--trajectory", metavar="PATH", help="write the run's trajectory record (JSON) to PATH")
    p.add_argument("--cwd", default=None, help="work in this directory instead of the current one")
    p.add_argument(
        "--trust",
        action="store_true",
        default=None,
        help="apply this folder's .swerve/settings.json (they can only tighten security)",
    )
    p.add_argument("-v", "--version", action="version", version=f"swerve {__version__}")
    return p


def add_limit_flags(p: argparse.ArgumentParser) -> None:
    """--memory, --pids, --disk, --cpus: a sandbox's limits over the defaults (0: no limit)."""
    group = p.add_argument_group("sandbox limits (over the defaults and sandboxLimits in settings; 0: none)")
    whole, cores = _at_least_zero(int), _at_least_zero(float)
    group.add_argument("--memory", type=whole, metavar="MB", help="memory of a command's processes together")
    group.add_argument("--pids", type=whole, metavar="N", help="processes and threads at once")
    group.add_argument("--disk", type=whole, metavar="MB", help="what the writable layer may hold")
    group.add_argument("--cpus", type=cores, metavar="N", help="CPU cores' worth of time")


def _at_least_zero(kind: type[int] | type[float]) -> Callable[[str], int | float]:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value < 0:
            raise argparse.ArgumentTypeError(f"must be 0 (no limit) or more, not {text}")
        return value

    return parse


_LIMIT_FLAGS = {"memory": "memory_mb", "pids": "processes", "disk": "disk_mb", "cpus": "cpus"}


def limit_flags(args: argparse.Namespace) -> dict[str, Any] | None:
    """The ``sandbox_limits`` given by flags (None when no limit flag was given)."""
    given = {}
    for flag, name in _LIMIT_FLAGS.items():
        value = getattr(args, flag, None)
        if value is None:
            continue
        given[name] = value
    return given or None


def limits_from(args: argparse.Namespace) -> Any:
    """The sandbox Limits of a command that runs many sandboxes (gym, eval): the defaults,
    ``sandboxLimits`` of the settings that apply here, then the limit flags. ValueError when wrong."""
    from swerve.config import ConfigError, resolve, sandbox_limits

    try:
        return sandbox_limits(resolve(os.getcwd(), {"sandbox_limits": limit_flags(args)}))
    except ConfigError as exc:
        raise ValueError(str(exc)) from None


def flags_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Settings fields given on the command line of ``swerve`` (None where a flag was not given)."""
    mode = "yolo" if getattr(args, "yolo", False) else args.approval_mode
    return {
        **model_flags(args),
        "approval_mode": mode,
        "max_cost": args.max_cost,
        "sandbox": args.sandbox,
        "sandbox_limits": limit_flags(args),
        "trust": args.trust,
        "allowed_dirs": [os.path.abspath(d) for d in args.add_dir] if args.add_dir else None,
    }


def agent_config_from(
    args: argparse.Namespace, default_turns: int = 50, *, required: bool = True
) -> AgentConfig | None:
    """The agent of a command that runs it many times (gym, eval): flags over environment over
    settings files, as for ``swerve -p``. Without a model anywhere: ValueError with help, or None
    when not ``required``."""
    from swerve.config import AgentConfig, ConfigError, resolve

    try:
        settings = resolve(os.getcwd(), model_flags(args))
    except ConfigError as exc:
        raise ValueError(str(exc)) from None
    if not settings.model and not required:
        return None
    turns = args.max_turns or (settings.max_turns if "max_turns" in settings.sources else default_turns)
    try:
        config = AgentConfig.from_settings(settings, max_turns=turns)
    except ConfigError as exc:
        raise ValueError(str(exc)) from None
    for note in config.notes:
        print(f"swerve: {note}", file=sys.stderr)
    config.act_nudges = TASK_ACT_NUDGES  # a task is done with tools: prose alone is a format failure
    return config

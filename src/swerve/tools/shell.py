"""Shell tools: run_shell_command (foreground or background) and read_background_output."""

from __future__ import annotations

from typing import Any, ClassVar

from swerve.errors import SandboxError, ToolError
from swerve.sandbox.base import BackgroundJob
from swerve.tools.base import Tool, ToolContext, ToolResult
from swerve.tools.truncate import truncate

DEFAULT_TIMEOUT_S = 120
MAX_TIMEOUT_S = 600
JOBS_KEY = "background_jobs"  # ctx.state[JOBS_KEY]: {job id: BackgroundJob}


def timeout_seconds(value: float | None) -> float:
    """The timeout to use: default 120 s, at most 600 s. Values of 1000 and more are taken as
    milliseconds (some models were trained on tools that count in ms)."""
    if value is None:
        return DEFAULT_TIMEOUT_S
    if value <= 0:
        raise ToolError("timeout must be a positive number of seconds")
    if value >= 1000:
        value = value / 1000
    return min(float(value), MAX_TIMEOUT_S)


def jobs(ctx: ToolContext) -> dict[str, BackgroundJob]:
    return ctx.state.setdefault(JOBS_KEY, {})


class RunShellCommand(Tool):
    name = "run_shell_command"
    description = (
        "Run a bash command in the workspace root; stdout and stderr are merged. Non-interactive: "
        "no prompts or pagers. Use is_background for servers and watchers, then read_background_output."
    )
    label = "Shell"
    kind = "execute"
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "command": {"type": "string", "description": "The bash command."},
            "timeout": {
                "type": "number",
                "description": "Seconds before the command is killed (default 120, max 600).",
            },
            "is_background": {
                "type": "boolean",
                "description": "Start in the background and return a job id.",
            },
            "description": {"type": "string", "description": "A few words on what the command does."},
        },
        "required": ["command"],
    }

    def summary(self, args: dict[str, Any]) -> str:
        command = str(args.get("command", ""))
        first = command.splitlines()[0] if command.strip() else command
        text = first if len(first) <= 120 else first[:117] + "..."
        if "\n" in command.strip():
            text += " ..."
        return ("(background) " if args.get("is_background") else "") + text

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        command: str = args["command"]
        if not command.strip():
            raise ToolError("command must not be empty")
        if args.get("is_background"):
            return await self._background(command, ctx)
        timeout = timeout_seconds(args.get("timeout"))
        result = await ctx.workspace.exec(command, timeout=timeout)
        output = result.output if result.output.strip() else "(no output)\n"
        if not output.endswith("\n"):
            output += "\n"
        if result.timed_out:
            status = f"[Timed out after {timeout:g} s: the command and every process it started were killed.]"
        else:
            status = f"[Exit code: {result.exit_code}]"
        return ToolResult(truncate(output) + status, is_error=result.timed_out)

    async def _background(self, command: str, ctx: ToolContext) -> ToolResult:
        try:
            job = await ctx.workspace.spawn(command)
        except SandboxError as exc:
            raise ToolError(f"cannot start a background command here: {exc}") from None
        jobs(ctx)[job.id] = job
        return ToolResult(
            f"Started background job {job.id}: {command}\n"
            f'Read its output with read_background_output(job_id="{job.id}"); stop it with kill=true.'
        )


class ReadBackgroundOutput(Tool):
    name = "read_background_output"
    description = (
        "Show a background job's status and output; kill=true stops it first. Without job_id: list jobs."
    )
    kind = "read"
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "job_id": {"type": "string", "description": "The id run_shell_command returned."},
            "kill": {"type": "boolean", "description": "Stop the job (and everything it started) first."},
        },
        "required": [],
    }

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        known = jobs(ctx)
        job_id = args.get("job_id")
        if not job_id:
            if not known:
                return ToolResult("No background jobs.")
            return ToolResult("\n".join(f"{j.id}: {_status(j)}: {j.command}" for j in known.values()))
        job = known.get(job_id)
        if job is None:
            listed = ", ".join(known) or "none"
            raise ToolError(f"no background job {job_id!r}; jobs: {listed}")
        if args.get("kill"):
            await job.kill()
        output = job.output()
        body = (
            truncate(output if output.endswith("\n") or not output else output + "\n")
            if output
            else "(no output yet)\n"
        )
        return ToolResult(f"Job {job.id} ({_status(job)}): {job.command}\n{body}".rstrip("\n"))


def _status(job: BackgroundJob) -> str:
    code = job.returncode()
    return "running" if code is None else f"exited with code {code}"

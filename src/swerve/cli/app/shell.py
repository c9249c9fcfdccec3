"""``!command``: run a shell command for the user, outside the model's turn."""

from __future__ import annotations

import asyncio
import os
import signal

OUTPUT_MAX_CHARS = 20_000
CONTEXT_MAX_CHARS = 4_000


async def run_shell(command: str, cwd: str) -> tuple[str, int | None]:
    """Run ``command`` with bash in ``cwd``; (merged output, exit code or None when cancelled)."""
    proc = await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        command,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        out, _ = await proc.communicate()
    except asyncio.CancelledError:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        await proc.wait()
        raise
    return out.decode("utf-8", errors="replace"), proc.returncode


def clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return text[:half] + f"\n... [{len(text) - limit} characters cut] ...\n" + text[-half:]


def context_note(command: str, output: str, code: int | None) -> str:
    """What the model is told about the command, with the user's next prompt."""
    return (
        f"[The user ran a shell command: `{command}` (exit code {code})]\n"
        f"{clip(output, CONTEXT_MAX_CHARS).rstrip()}"
    )

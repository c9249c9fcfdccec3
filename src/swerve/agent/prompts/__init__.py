"""The agent's prompts: ``system.md`` (the system prompt, with the workspace, platform and date filled
in) and the project's own rules (AGENTS.md, QWEN.md) appended to it."""

from __future__ import annotations

import datetime
import platform
from importlib import resources


def system_prompt(root: str, project_context: str = "", extra: str = "") -> str:
    """Our system prompt for a workspace rooted at ``root``, with the project's rules."""
    text = resources.files("swerve.agent.prompts").joinpath("system.md").read_text(encoding="utf-8")
    text = (
        text.replace("{root}", root)
        .replace("{platform}", f"{platform.system()} {platform.machine()}")
        .replace("{date}", datetime.date.today().isoformat())
    )
    for part in (project_context, extra):
        if part:
            text += "\n\n" + part
    return text.strip()

"""Explaining a missing model configuration, and finding model servers on their usual local ports."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

# (name, port, tool protocol that works best with it)
LOCAL_SERVERS: tuple[tuple[str, int, str], ...] = (
    ("Ollama", 11434, "qwen-xml"),
    ("LM Studio", 1234, "qwen-xml"),
    ("llama.cpp", 8080, "qwen-xml"),
    ("vLLM", 8000, "native"),
)

SETUP_TEXT = """No model is configured, so swerve cannot answer yet. Any of these works:
  • environment: OPENAI_BASE_URL, OPENAI_API_KEY and OPENAI_MODEL for an OpenAI-compatible server
    (vLLM, SGLang, DashScope, OpenRouter, Ollama, LM Studio, llama.cpp), or ANTHROPIC_API_KEY
    (and ANTHROPIC_MODEL / ANTHROPIC_BASE_URL) for an Anthropic-compatible endpoint;
  • settings: "model", "baseUrl" and "apiKey" in ~/.swerve/settings.json or .swerve/settings.json;
  • a local model, no account needed: `swerve model pull` once, then `swerve --model local`;
  • here: /model NAME --base-url URL (for this session).
Slash commands and !shell commands work meanwhile."""


@dataclass
class LocalServer:
    name: str
    base_url: str
    models: list[str]
    tool_protocol: str

    def command(self) -> str:
        model = self.models[0] if self.models else "MODEL"
        extra = " --tool-protocol qwen-xml" if self.tool_protocol == "qwen-xml" else ""
        return f"/model {model} --base-url {self.base_url}{extra}"


async def probe(name: str, port: int, protocol: str, host: str = "127.0.0.1") -> LocalServer | None:
    """The server on ``host:port`` as ``models.discovery`` sees it, or None when nothing answers."""
    from swerve.models.discovery import discover

    base_url = f"http://{host}:{port}/v1"
    info = await asyncio.to_thread(discover, base_url, None, refresh=True)
    return LocalServer(name, base_url, info.models, protocol) if info is not None else None


async def find_local_servers(
    servers: tuple[tuple[str, int, str], ...] = LOCAL_SERVERS,
) -> list[LocalServer]:
    """Model servers answering ``GET /v1/models`` on 127.0.0.1 at their usual ports."""
    found = await asyncio.gather(*(probe(n, p, t) for n, p, t in servers))
    return [f for f in found if f is not None]

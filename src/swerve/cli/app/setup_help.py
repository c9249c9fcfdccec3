"""Explaining a missing model configuration, and finding model servers on their usual local ports."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

# (name, port, tool protocol that works best with it)
LOCAL_SERVERS: tuple[tuple[str, int, str], ...] = (
    ("Ollama", 11434, "qwen-xml"),
    ("LM Studio", 1234, "qwen-xml"),
    ("llama.cpp", 8080, "qwen-xml"),
    ("vLLM", 8000, "native"),
)
PROBE_TIMEOUT_S = 0.8

SETUP_TEXT = """No model is configured, so swerve cannot answer yet. Any of these works:
  • environment: OPENAI_BASE_URL, OPENAI_API_KEY and OPENAI_MODEL for an OpenAI-compatible server
    (vLLM, SGLang, DashScope, OpenRouter, Ollama, LM Studio, llama.cpp), or ANTHROPIC_API_KEY
    (and ANTHROPIC_MODEL / ANTHROPIC_BASE_URL) for an Anthropic-compatible endpoint;
  • settings: "model", "baseUrl" and "apiKey" in ~/.swerve/settings.json or .swerve/settings.json;
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


async def _get_json(host: str, port: int, path: str) -> object | None:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(
                    f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: application/json\r\n"
                    "Connection: close\r\n\r\n".encode()
                )
                await writer.drain()
                data = await reader.read()  # the server closes after the answer
            finally:
                writer.close()
    except (OSError, TimeoutError):
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.") or b" 200 " not in head.split(b"\r\n", 1)[0] + b" ":
        return None
    if b"transfer-encoding: chunked" in head.lower():
        body = _unchunk(body)
    try:
        return json.loads(body)
    except ValueError:
        return None


def _unchunk(body: bytes) -> bytes:
    out, rest = b"", body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
        except ValueError:
            break
        if size == 0:
            break
        out, rest = out + rest[:size], rest[size + 2 :]
    return out


async def probe(name: str, port: int, protocol: str, host: str = "127.0.0.1") -> LocalServer | None:
    data = await _get_json(host, port, "/v1/models")
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        return None
    models = [str(m.get("id")) for m in data["data"] if isinstance(m, dict) and m.get("id")]
    return LocalServer(name, f"http://{host}:{port}/v1", models, protocol)


async def find_local_servers(
    servers: tuple[tuple[str, int, str], ...] = LOCAL_SERVERS,
) -> list[LocalServer]:
    """Model servers answering ``GET /v1/models`` on 127.0.0.1 at their usual ports."""
    found = await asyncio.gather(*(probe(n, p, t) for n, p, t in servers))
    return [f for f in found if f is not None]

"""What ``swerve serve`` adds per request, beside LiteLLM's proxy, and 500 concurrent streams.

One loopback OpenAI-compatible backend (swerve.httpd, a fixed 8-chunk reply) is called three
ways with the same requests, one at a time: directly, through ``swerve serve`` and through
``litellm --config`` (each a process of its own, logging off). For each path and request kind
(chat completions streamed and not; Anthropic Messages streamed, which the gateway turns into a
chat request; and an agent-sized ~100 KB Messages request, against the same turn as a chat
request sent directly) it prints p50/p90/p99 of the whole request and of time to first byte, and what
each gateway adds over the direct call (the direct figure of the same kind subtracted).

Then 500 clients stream at once through ``swerve serve`` (the backend spaces its chunks, so all
are open together): errors, the gateway's open connections and asyncio tasks before and after
(its ``/health`` counts them), and its peak RSS.

    .venv/bin/python bench/gateway_latency.py [--requests 300] [--concurrent 500]
        [--litellm ~/.cache/swerve/litellm-venv/bin/litellm] [--json]

LiteLLM is best kept in a venv of its own (its pins move rich and websockets):
``uv venv ~/.cache/swerve/litellm-venv && VIRTUAL_ENV=~/.cache/swerve/litellm-venv uv pip install 'litellm[proxy]'``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

SRC = str(Path(__file__).resolve().parents[1] / "src")
MODEL = "bench-model"
CHUNKS = 8
TOKEN = "sk-bench-" + "0123456789abcdef" * 2  # both gateways check it, as a deployment would


# ---------------------------------------------------------------- the backend


def run_backend(port: int, chunk_delay_s: float) -> None:
    """The loopback backend (a process of its own): chat completions, streamed and not."""
    from swerve.httpd import HTTPServer, Request, Response, Router, StreamResponse, json_response, sse_event

    router = Router()
    head = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 0, "model": MODEL}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return sse_event({**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    @router.route("GET", "/v1/models")
    async def models(request: Request) -> Response:
        return json_response({"object": "list", "data": [{"id": MODEL, "object": "model"}]})

    @router.route("POST", "/v1/chat/completions")
    async def complete(request: Request) -> Response | StreamResponse:
        body = request.json_object()
        usage = {"prompt_tokens": 20, "completion_tokens": CHUNKS, "total_tokens": 20 + CHUNKS}
        if not body.get("stream"):
            message = {"role": "assistant", "content": "tok " * CHUNKS}
            return json_response(
                {
                    "id": "chatcmpl-bench",
                    "object": "chat.completion",
                    "created": 0,
                    "model": MODEL,
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                    "usage": usage,
                }
            )

        async def events():
            yield chunk({"role": "assistant", "content": ""})
            for _ in range(CHUNKS):
                if chunk_delay_s:
                    await asyncio.sleep(chunk_delay_s)
                yield chunk({"content": "tok "})
            yield chunk({}, "stop")
            yield sse_event({**head, "choices": [], "usage": usage})
            yield sse_event("[DONE]")

        return StreamResponse(events())

    async def main() -> None:
        async with HTTPServer(router, port=port, server_name="bench-backend") as server:
            print(f"READY {server.url}", flush=True)
            await server.serve_forever()

    asyncio.run(main())


# ---------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_with_src() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}


def start_backend(chunk_delay_s: float = 0.0) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    cmd = [sys.executable, __file__, "--backend-only", str(port), "--chunk-delay", str(chunk_delay_s)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env_with_src())
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("READY"), line
    return proc, line.split()[1]


def start_swerve(backend_url: str) -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, "-m", "swerve.cli.main", "serve", "--port", "0", "--backend", f"{backend_url}/v1"]
    cmd += ["--model", MODEL, "--auth-token", TOKEN]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env_with_src())
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "listening on" in line, line
    return proc, line.split()[-1]


def start_litellm(binary: str, backend_url: str, work: Path) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    config = work / "litellm.yaml"
    config.write_text(
        "model_list:\n"
        f"  - model_name: {MODEL}\n"
        "    litellm_params:\n"
        f"      model: hosted_vllm/{MODEL}\n"
        f"      api_base: {backend_url}/v1\n"
        "      api_key: unused\n"
        "litellm_settings:\n  drop_params: true\n  telemetry: false\n"
        f"general_settings:\n  master_key: {TOKEN}\n"
    )
    env = {
        **os.environ,
        "LITELLM_LOG": "ERROR",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_TELEMETRY": "False",
    }
    log = open(work / "litellm.log", "w")  # noqa: SIM115 - lives as long as the process
    cmd = [binary, "--config", str(config), "--port", str(port), "--host", "127.0.0.1", "--num_workers", "1"]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, text=True, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"litellm exited: {(work / 'litellm.log').read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/health/liveliness", timeout=2, trust_env=False).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise RuntimeError("litellm did not become ready in 180 s")


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ---------------------------------------------------------------- measuring

CHAT = {"model": MODEL, "messages": [{"role": "user", "content": "hello"}], "max_tokens": 16}


def agent_sized() -> tuple[dict[str, Any], dict[str, Any]]:
    """(an Anthropic body, the same turn as a chat body) the size of a coding agent's mid-session
    request: a 40 KB system prompt, 15 tools, 20 tool calls with their results (~100 KB)."""
    schema = {
        "type": "object",
        "properties": {f"p{i}": {"type": "string", "description": "x" * 80} for i in range(6)},
    }
    tools = [{"name": f"tool_{i}", "description": "d" * 400, "input_schema": schema} for i in range(15)]
    system = "You are a coding agent. " * 1700
    messages: list[dict[str, Any]] = [{"role": "user", "content": "fix the bug"}]
    chat: list[dict[str, Any]] = [
        {"role": "system", "content": system},
        {"role": "user", "content": "fix the bug"},
    ]
    for i in range(20):
        args = {"p0": f"/src/file_{i}.py", "p1": "y" * 200}
        messages.append(
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": f"toolu_{i}", "name": "tool_1", "input": args}],
            }
        )
        messages.append(
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": f"toolu_{i}", "content": "line\n" * 300}],
            }
        )
        call = {
            "id": f"toolu_{i}",
            "type": "function",
            "function": {"name": "tool_1", "arguments": json.dumps(args)},
        }
        chat.append({"role": "assistant", "content": "", "tool_calls": [call]})
        chat.append({"role": "tool", "tool_call_id": f"toolu_{i}", "content": "line\n" * 300})
    anthropic = {
        "model": MODEL,
        "max_tokens": 16,
        "stream": True,
        "system": system,
        "tools": tools,
        "messages": messages,
    }
    openai_tools = [
        {
            "type": "function",
            "function": {"name": t["name"], "description": t["description"], "parameters": schema},
        }
        for t in tools
    ]
    return anthropic, {
        "model": MODEL,
        "max_tokens": 16,
        "stream": True,
        "messages": chat,
        "tools": openai_tools,
    }


LARGE_MESSAGES, LARGE_CHAT = agent_sized()
# kind -> (path, body, the body the direct call sends for the same turn)
KINDS: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "chat": ("/v1/chat/completions", CHAT, CHAT),
    "chat-stream": ("/v1/chat/completions", {**CHAT, "stream": True}, {**CHAT, "stream": True}),
    "messages-stream": ("/v1/messages", {**CHAT, "stream": True}, {**CHAT, "stream": True}),
    "messages-100KB": ("/v1/messages", LARGE_MESSAGES, LARGE_CHAT),
}


HEADERS = {"authorization": f"Bearer {TOKEN}", "anthropic-version": "2023-06-01"}


async def one(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> tuple[float, float]:
    """(total ms, first-byte ms) of one request, its body read to the end."""
    start = time.perf_counter()
    first = None
    async with client.stream("POST", url, json=body, headers=HEADERS) as response:
        if response.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {response.status_code}: {(await response.aread())[:300]!r}")
        async for _ in response.aiter_raw():
            if first is None:
                first = time.perf_counter()
    end = time.perf_counter()
    return (end - start) * 1000, ((first or end) - start) * 1000


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {
        "p50": round(statistics.median(ordered), 3),
        "p90": round(pick(0.90), 3),
        "p99": round(pick(0.99), 3),
    }


async def latency_table(paths: dict[str, str], n: int) -> dict[str, Any]:
    """Per request kind, each path's figures. The paths take turns request by request, so a
    change in the machine's load (its cores are shared) falls on all of them alike."""
    out: dict[str, Any] = {}
    async with httpx.AsyncClient(timeout=60, trust_env=False) as client:
        for kind, (path, body, direct_body) in KINDS.items():
            urls = {
                name: base
                + ("/v1/chat/completions" if name == "direct" else path)  # the backend's own request
                for name, base in paths.items()
            }
            bodies = {name: direct_body if name == "direct" else body for name in urls}
            for _ in range(max(10, n // 10)):  # warm-up: connections, caches, lazy imports
                for name, url in urls.items():
                    await one(client, url, bodies[name])
            totals: dict[str, list[float]] = {name: [] for name in urls}
            firsts: dict[str, list[float]] = {name: [] for name in urls}
            for _ in range(n):
                for name, url in urls.items():
                    total, first = await one(client, url, bodies[name])
                    totals[name].append(total)
                    firsts[name].append(first)
            out[kind] = {
                name: {"total": percentiles(totals[name]), "ttfb": percentiles(firsts[name])} for name in urls
            }
    return out


async def concurrent_streams(base: str, clients: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=clients + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=120, limits=limits, trust_env=False) as client:
        before = (await client.get(f"{base}/health")).json()
        body = {**CHAT, "stream": True}

        async def stream_one() -> str | None:
            try:
                await one(client, f"{base}/v1/messages", body)
                return None
            except Exception as exc:  # counted, not raised: the figure is how many fail
                return f"{type(exc).__name__}: {exc}"

        start = time.perf_counter()
        results = await asyncio.gather(*(stream_one() for _ in range(clients)))
        wall = time.perf_counter() - start
        await asyncio.sleep(0.5)  # let the server wind down closed connections
        after = (await client.get(f"{base}/health")).json()
    errors = [r for r in results if r]
    return {
        "clients": clients,
        "errors": len(errors),
        "first_errors": errors[:3],
        "wall_s": round(wall, 2),
        "connections_before": before["connections"],
        "connections_after": after["connections"],
        "tasks_before": before["tasks"],
        "tasks_after": after["tasks"],
    }


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def print_table(table: dict[str, Any]) -> None:
    print("\nAdded latency over calling the backend directly (ms; the same requests, one at a time)")
    print(
        f"{'request':<16} {'path':<8} {'total p50':>10} {'p90':>8} {'p99':>8} {'ttfb p50':>9} {'p99':>8} | {'added p50':>9} {'p90':>7} {'p99':>7} {'ttfb+p50':>8}"
    )
    for kind, rows in table.items():
        direct = rows["direct"]
        for name, row in rows.items():
            added = {q: row["total"][q] - direct["total"][q] for q in ("p50", "p90", "p99")}
            ttfb_added = row["ttfb"]["p50"] - direct["ttfb"]["p50"]
            tail = (
                ""
                if name == "direct"
                else f"{added['p50']:>9.2f} {added['p90']:>7.2f} {added['p99']:>7.2f} {ttfb_added:>8.2f}"
            )
            t, f = row["total"], row["ttfb"]
            print(
                f"{kind:<16} {name:<8} {t['p50']:>10.2f} {t['p90']:>8.2f} {t['p99']:>8.2f} {f['p50']:>9.2f} {f['p99']:>8.2f} | {tail}"
            )
        if "litellm" in rows:
            ratio = (rows["litellm"]["total"]["p50"] - direct["total"]["p50"]) / max(
                1e-6, rows["swerve"]["total"]["p50"] - direct["total"]["p50"]
            )
            print(f"{'':<16} litellm adds {ratio:.1f}x what swerve adds at p50")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=300, help="measured requests per path and kind")
    parser.add_argument("--concurrent", type=int, default=500, help="streaming clients at once (0: skip)")
    parser.add_argument(
        "--litellm",
        default=None,
        help="the litellm executable (default: PATH, then ~/.cache/swerve/litellm-venv)",
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--backend-only", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--chunk-delay", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.backend_only is not None:
        run_backend(args.backend_only, args.chunk_delay)
        return 0
    litellm = (
        args.litellm or shutil.which("litellm") or str(Path.home() / ".cache/swerve/litellm-venv/bin/litellm")
    )
    results: dict[str, Any] = {"load_avg": os.getloadavg(), "cpus": os.cpu_count()}
    procs: list[subprocess.Popen[str]] = []
    try:
        with tempfile.TemporaryDirectory() as work:
            backend, backend_url = start_backend()
            procs.append(backend)
            gateway, gateway_url = start_swerve(backend_url)
            procs.append(gateway)
            paths = {"direct": backend_url, "swerve": gateway_url}
            if Path(litellm).exists():
                lite, lite_url = start_litellm(litellm, backend_url, Path(work))
                procs.append(lite)
                paths["litellm"] = lite_url
                results["litellm_version"] = subprocess.run(
                    [
                        str(Path(litellm).parent / "python"),
                        "-c",
                        "import importlib.metadata as m; print(m.version('litellm'))",
                    ],
                    capture_output=True,
                    text=True,
                ).stdout.strip()
            else:
                print(f"(litellm not found at {litellm}: its rows are left out)", file=sys.stderr)
            results["latency_ms"] = asyncio.run(latency_table(paths, args.requests))
            if not args.json:
                print_table(results["latency_ms"])
            if args.concurrent:
                slow, slow_url = start_backend(chunk_delay_s=0.1)  # 8 chunks: each stream open ~0.8 s
                procs.append(slow)
                crowd, crowd_url = start_swerve(slow_url)
                procs.append(crowd)
                rss_idle = rss_mb(crowd.pid)
                first = asyncio.run(concurrent_streams(crowd_url, args.concurrent))
                second = asyncio.run(concurrent_streams(crowd_url, args.concurrent))
                results["concurrent"] = {
                    "first": first,
                    "second": second,
                    "rss_idle_mb": rss_idle,
                    "peak_rss_mb": peak_rss_mb(crowd.pid),
                    "rss_after_mb": rss_mb(crowd.pid),
                }
                if not args.json:
                    c = results["concurrent"]
                    print(
                        f"\n{args.concurrent} concurrent streaming clients through swerve serve (/v1/messages), twice:"
                    )
                    for label in ("first", "second"):
                        r = c[label]
                        print(
                            f"  {label}: errors {r['errors']}, wall {r['wall_s']} s, open connections {r['connections_before']} -> {r['connections_after']}, "
                            f"asyncio tasks {r['tasks_before']} -> {r['tasks_after']}"
                        )
                        for e in r["first_errors"]:
                            print(f"    error: {e}")
                    print(
                        f"  RSS idle {c['rss_idle_mb']} MB, peak {c['peak_rss_mb']} MB, after {c['rss_after_mb']} MB"
                    )
    finally:
        for proc in procs:
            stop(proc)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(
            f"\nload average {results['load_avg'][0]:.2f} on {results['cpus']} CPUs"
            + (f"; litellm {results.get('litellm_version')}" if "litellm_version" in results else "")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

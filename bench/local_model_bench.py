"""Local model server benchmark: start-up, prefill and decode speed, agent-turn latency, batching.

For each GGUF under ``cache_root()/models`` (or the files given), a fresh server is started
(``--parallel 1``, then ``--parallel 2``) and measured through its HTTP API:

- start-to-ready: spawn of ``python -m swerve.local.server`` until it prints its URL;
- prefill tok/s: a 512-token prompt, cache off; decode tok/s: 64 tokens (``ignore_eos``);
- Python-side cost per generated token: the server's ``host_ms`` (time of decode steps spent
  outside ``llama_decode``: sampling, detokenizing, batching) over the tokens generated;
- first turn: a ~1,800-token chat prompt with a tool (the size of swerve's first prompt), 32
  tokens out; second turn: the same history plus the reply and a tool result, prefix reused;
- aggregate decode tok/s with two concurrent requests, under ``--parallel 1`` (queued) and 2.

The machine's load average is printed beside each model, since shared cores move every figure.

    .venv/bin/python bench/local_model_bench.py [--models A.gguf ...] [--runs 3] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from swerve.local.process import LocalServer
from swerve.paths import cache_root

READ_FILE = {
    "type": "function",
    "function": {
        "name": "read_file",
        "description": "Read a file and return its text",
        "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
    },
}
CODE_LINE = "    total = compute_value(items[index], weights.get(key, 1.0)) + offset  # accumulate\n"


def load() -> float:
    return round(os.getloadavg()[0], 2)


async def completion(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    body.setdefault("temperature", 0.0)
    response = await client.post("/completion", json=body)
    response.raise_for_status()
    return response.json()


async def token_prompt(client: httpx.AsyncClient, n: int) -> list[int]:
    ids = (await client.post("/tokenize", json={"content": CODE_LINE * (n // 10 + 10)})).json()["tokens"]
    return ids[:n]


def agent_history(target_tokens: int, line_tokens: int) -> list[dict[str, Any]]:
    lines = max(1, (target_tokens - 250) // line_tokens)
    system = (
        "You are a coding agent working in a repository. Here is the file you are fixing:\n"
        + CODE_LINE * lines
    )
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": "The tests in test_values.py fail. Find the bug and fix it."},
    ]


async def measure_single(client: httpx.AsyncClient, runs: int) -> dict[str, Any]:
    prompt = await token_prompt(client, 512)
    prefill, decode, host_ms, decode_ms = [], [], [], []
    for _ in range(runs):
        done = await completion(client, prompt=prompt, n_predict=1, cache_prompt=False)
        prefill.append(done["timings"]["prompt_per_second"])
        gen = await completion(client, prompt=prompt[:16], n_predict=64, ignore_eos=True, cache_prompt=False)
        t = gen["timings"]
        decode.append(t["predicted_per_second"])
        host_ms.append(t["host_ms"] / max(1, t["predicted_n"]))
        decode_ms.append(t["predicted_per_token_ms"])
    return {
        "prefill_tok_s": statistics.median(prefill),
        "decode_tok_s": statistics.median(decode),
        "host_ms_per_token": statistics.median(host_ms),
        "ms_per_token": statistics.median(decode_ms),
    }


async def measure_agent_turns(client: httpx.AsyncClient) -> dict[str, Any]:
    line_tokens = (
        len((await client.post("/tokenize", json={"content": CODE_LINE * 10})).json()["tokens"]) // 10
    )
    messages = agent_history(1800, line_tokens)
    body = {"messages": messages, "tools": [READ_FILE], "temperature": 0, "max_tokens": 32}
    started = time.perf_counter()
    first = (await client.post("/v1/chat/completions", json=body)).json()
    first_s = time.perf_counter() - started
    reply = first["choices"][0]["message"]
    history = [
        *messages,
        {
            "role": "assistant",
            "content": reply.get("content") or "",
            **({"tool_calls": reply["tool_calls"]} if reply.get("tool_calls") else {}),
        },
        {"role": "user", "content": "Result of read_file(test_values.py):\n" + CODE_LINE * 5},
    ]
    started = time.perf_counter()
    second = (await client.post("/v1/chat/completions", json={**body, "messages": history})).json()
    second_s = time.perf_counter() - started
    return {
        "first_turn_prompt_tokens": first["usage"]["prompt_tokens"],
        "first_turn_s": first_s,
        "first_turn_out_tokens": first["usage"]["completion_tokens"],
        "second_turn_prompt_tokens": second["usage"]["prompt_tokens"],
        "second_turn_cached_tokens": second["usage"]["prompt_tokens_details"]["cached_tokens"],
        "second_turn_s": second_s,
        "second_turn_out_tokens": second["usage"]["completion_tokens"],
    }


async def measure_concurrent(client: httpx.AsyncClient, n_requests: int = 2, tokens: int = 48) -> float:
    prompts = [f"# file {i}\ndef function_{i}(" for i in range(n_requests)]
    started = time.perf_counter()
    results = await asyncio.gather(
        *(
            completion(
                client,
                prompt=p,
                n_predict=tokens,
                ignore_eos=True,
                cache_prompt=False,
                temperature=0.7,
                seed=i,
            )
            for i, p in enumerate(prompts)
        )
    )
    wall = time.perf_counter() - started
    return sum(r["tokens_predicted"] for r in results) / wall


async def http_overhead_us(requests: int = 3000) -> dict[str, float]:
    """Round trip of a tiny JSON request through swerve.httpd, keep-alive, raw-socket client."""
    from swerve.httpd import HTTPServer, Request, Response, Router, json_response

    router = Router()

    @router.route("POST", "/echo")
    async def echo(request: Request) -> Response:
        return json_response(request.json_object())

    body = b'{"messages":[{"role":"user","content":"hi"}]}'
    raw = (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )
    async with HTTPServer(router) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        samples = []
        for _ in range(requests):
            started = time.perf_counter()
            writer.write(raw)
            await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(len(body))
            samples.append(time.perf_counter() - started)
        writer.close()
    samples.sort()
    return {
        "http_median_us": samples[len(samples) // 2] * 1e6,
        "http_p99_us": samples[int(len(samples) * 0.99)] * 1e6,
    }


def start(model: Path, parallel: int) -> tuple[LocalServer, float]:
    started = time.perf_counter()
    server = LocalServer(
        model, ctx=8192 * parallel, parallel=parallel, reuse=False, note=lambda text: None
    ).start()
    return server, time.perf_counter() - started


async def bench_model(model: Path, runs: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "model": model.name,
        "size_mb": round(model.stat().st_size / 1e6),
        "load_before": load(),
    }
    server, ready_s = start(model, 1)
    try:
        out["ready_s"] = ready_s
        async with httpx.AsyncClient(base_url=server.url, timeout=600) as client:
            await completion(client, prompt="warm up", n_predict=2)
            out.update(await measure_single(client, runs))
            out.update(await measure_agent_turns(client))
            out["aggregate_2req_parallel1_tok_s"] = await measure_concurrent(client)
    finally:
        server.stop()
    server, _ = start(model, 2)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=600) as client:
            await completion(client, prompt="warm up", n_predict=2)
            out["aggregate_2req_parallel2_tok_s"] = await measure_concurrent(client)
    finally:
        server.stop()
    out["load_after"] = load()
    return out


def table(rows: list[dict[str, Any]]) -> str:
    columns = [
        ("model", "model", "{}"),
        ("ready s", "ready_s", "{:.1f}"),
        ("prefill tok/s", "prefill_tok_s", "{:.0f}"),
        ("decode tok/s", "decode_tok_s", "{:.1f}"),
        ("py ms/tok", "host_ms_per_token", "{:.2f}"),
        ("turn1 s (tok)", None, None),
        ("turn2 s (new tok)", None, None),
        ("2 req, -np 1", "aggregate_2req_parallel1_tok_s", "{:.1f}"),
        ("2 req, -np 2", "aggregate_2req_parallel2_tok_s", "{:.1f}"),
        ("load", None, None),
    ]
    lines = [" | ".join(c[0] for c in columns), " | ".join("---" for _ in columns)]
    for row in rows:
        cells = []
        for title, key, fmt in columns:
            if title.startswith("turn1"):
                cells.append(f"{row['first_turn_s']:.1f} ({row['first_turn_prompt_tokens']})")
            elif title.startswith("turn2"):
                fresh = row["second_turn_prompt_tokens"] - row["second_turn_cached_tokens"]
                cells.append(f"{row['second_turn_s']:.1f} ({fresh})")
            elif title == "load":
                cells.append(f"{row['load_before']:.1f}→{row['load_after']:.1f}")
            else:
                cells.append(fmt.format(row[key]))
        lines.append(" | ".join(cells))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--models", nargs="*", type=Path, help="GGUF files (default: all under cache_root()/models)"
    )
    parser.add_argument("--runs", type=int, default=3, help="repetitions of the prefill/decode measurement")
    parser.add_argument("--json", action="store_true", help="print all figures as one JSON line at the end")
    args = parser.parse_args()
    models = args.models or sorted((cache_root() / "models").glob("*.gguf"))
    if not models:
        print(f"no .gguf files under {cache_root() / 'models'}; pass --models FILE.gguf", file=sys.stderr)
        return 2
    http = asyncio.run(http_overhead_us())
    print(
        f"swerve.httpd round trip (client and server in one process): median {http['http_median_us']:.0f} us, "
        f"p99 {http['http_p99_us']:.0f} us",
        file=sys.stderr,
    )
    rows = []
    for model in models:
        print(f"measuring {model.name} (load average {load()}) ...", file=sys.stderr, flush=True)
        rows.append(asyncio.run(bench_model(model, args.runs)))
    print(table(rows))
    if args.json:
        print(json.dumps({"cpus": os.cpu_count(), **http, "results": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""RL rollout throughput: the farm's real episodes against the inference server's own ceiling.

One local server (``--parallel C``) over the embedded model serves both phases, in the same run:

1. **farm**: ``swerve gym run --capture-tokens`` runs E real episodes (directory tasks in namespace
   sandboxes, the agent, verification) at concurrency C; generated tokens are counted from the
   recorded ids.
2. **ceiling**: a plain load generator replays exactly the same model calls at the same
   concurrency: C clients, each sending one episode's recorded turns in order to ``/completion``
   (the same prompt ids, ``n_predict`` = the tokens that turn generated, ``ignore_eos``, prefix
   cache on, as in the episode), with nothing in between.

Busy share = farm generated tok/s / ceiling generated tok/s (the issue's goal: >= 0.9). The wall
time of each phase is from its first request to its last answer (the farm's process start-up and
verification after the last turn are outside it) and, for the farm, also the whole command.

    .venv/bin/python bench/rl_rollout_bench.py [--episodes 4] [--concurrency 2] [--turns 2] [--reply-tokens 32] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from swerve.local.process import LocalServer
from swerve.paths import cache_root

MODEL = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"


def farm(server: LocalServer, work: Path, args: argparse.Namespace) -> tuple[list[dict[str, Any]], float]:
    start = work / "start"
    start.mkdir()
    (start / "notes.txt").write_text("first line\n")
    tasks = work / "tasks.jsonl"
    tasks.write_text(
        json.dumps({"id": "read", "path": str(start), "verify": "test -f notes.txt",
                    "prompt": "Read notes.txt and say what it holds."}) + "\n"
    )  # fmt: skip
    cmd = [
        sys.executable, "-m", "swerve.cli.main", "gym", "run", "--tasks", str(tasks), "--out", str(work / "run"),
        "--model", "bench", "--base-url", server.base_url, "--api-key", "none", "--max-turns", str(args.turns),
        "--reply-tokens", str(args.reply_tokens), "--temperature", "1.0", "--samples", str(args.episodes),
        "--concurrency", str(args.concurrency), "--model-concurrency", str(args.concurrency),
        "--capture-tokens", "--no-report", "--json",
    ]  # fmt: skip
    t0 = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=work)
    wall = time.monotonic() - t0
    if done.returncode != 0:
        raise SystemExit(f"the farm run failed:\n{done.stderr[-2000:]}")
    records = [json.loads(line) for line in (work / "run" / "episodes.jsonl").read_text().splitlines()]
    return records, wall


def calls_of(record: dict[str, Any]) -> list[tuple[list[int], int]]:
    return [
        (t["tokens"]["prompt_ids"], len(t["tokens"]["output_ids"]))
        for t in record["turns"]
        if t.get("tokens") and t["tokens"]["output_ids"]
    ]


async def replay(
    url: str, episodes: list[list[tuple[list[int], int]]], concurrency: int
) -> tuple[int, float]:
    queue: asyncio.Queue[list[tuple[list[int], int]]] = asyncio.Queue()
    for e in episodes:
        queue.put_nowait(e)
    generated = 0

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal generated
        while not queue.empty():
            for prompt, n in queue.get_nowait():
                body = {
                    "prompt": prompt,
                    "n_predict": n,
                    "ignore_eos": True,
                    "temperature": 1.0,
                    "cache_prompt": True,
                }
                data = (await http.post("/completion", json=body)).json()
                generated += int(data["tokens_predicted"])

    async with httpx.AsyncClient(base_url=url, timeout=600) as http:
        t0 = time.monotonic()
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
        return generated, time.monotonic() - t0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--episodes", type=int, default=4)
    p.add_argument("--concurrency", type=int, default=2)
    p.add_argument("--turns", type=int, default=2)
    p.add_argument("--reply-tokens", type=int, default=32)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    model = cache_root() / "models" / MODEL
    if not model.is_file():
        print(
            f"the embedded model is absent ({model}); swerve model pull qwen2.5-coder-0.5b", file=sys.stderr
        )
        return 2
    ctx = 8192 * args.concurrency
    with LocalServer(
        model, alias="bench", ctx=ctx, parallel=args.concurrency, reuse=False, note=lambda t: None
    ) as srv:
        with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
            records, farm_wall = farm(srv, Path(tmp), args)
        episodes = [calls_of(r) for r in records if r.get("reward") is not None]
        farm_tokens = sum(n for e in episodes for _, n in e)
        model_wall = max(_end(r) for r in records) - min(_start(r) for r in records)
        ceiling_tokens, ceiling_wall = asyncio.run(replay(srv.url, episodes, args.concurrency))
    load = os.getloadavg()[0]
    result = {
        "episodes": len(records),
        "model_calls": sum(len(e) for e in episodes),
        "generated_tokens": farm_tokens,
        "farm_tok_s": round(farm_tokens / model_wall, 2),
        "farm_tok_s_whole_command": round(farm_tokens / farm_wall, 2),
        "ceiling_tok_s": round(ceiling_tokens / ceiling_wall, 2),
        "busy_share": round((farm_tokens / model_wall) / (ceiling_tokens / ceiling_wall), 3),
        "farm_wall_s": round(model_wall, 2),
        "command_wall_s": round(farm_wall, 2),
        "ceiling_wall_s": round(ceiling_wall, 2),
        "concurrency": args.concurrency,
        "load_average": round(load, 2),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{'phase':<34} {'tok/s':>8} {'wall s':>8}")
        print(
            f"{'ceiling (plain load generator)':<34} {result['ceiling_tok_s']:>8} {result['ceiling_wall_s']:>8}"
        )
        print(
            f"{'farm (episodes, first to last turn)':<34} {result['farm_tok_s']:>8} {result['farm_wall_s']:>8}"
        )
        print(
            f"{'farm (whole command)':<34} {result['farm_tok_s_whole_command']:>8} {result['command_wall_s']:>8}"
        )
        print(f"busy share {result['busy_share']} · {result['episodes']} episodes, {result['model_calls']} calls,"
              f" {farm_tokens} tokens, concurrency {args.concurrency}, load {result['load_average']}")  # fmt: skip
    return 0


def _start(record: dict[str, Any]) -> float:
    return _epoch(record["started_at"]) + float((record.get("timing") or {}).get("reset_s") or 0.0)


def _end(record: dict[str, Any]) -> float:
    timing = record.get("timing") or {}
    return (
        _epoch(record["started_at"])
        + float(timing.get("episode_s") or 0.0)
        - float(timing.get("verify_s") or 0.0)
    )


def _epoch(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


if __name__ == "__main__":
    sys.exit(main())

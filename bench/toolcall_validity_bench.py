"""Tool-call validity on the embedded model: native OpenAI tools vs ``--tool-protocol qwen-xml``.

For each protocol, ``swerve -p`` runs each prompt once (one turn, temperature 0) in a small
repository against one local server, and its trajectory says what the first reply was: a tool
call taken as sent, a call that needed repair or salvage (JSON in text or a fence, near-miss
argument names), or prose with no call. Prompts each ask for one concrete action.

    .venv/bin/python bench/toolcall_validity_bench.py [--model qwen2.5-coder-0.5b] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from swerve.local.catalog import resolve_model_file
from swerve.local.process import LocalServer

PROMPTS = [
    "Show me what is in calc.py.",
    "Run the tests with python -m pytest -q and tell me the result.",
    "List the files in this directory.",
    "In calc.py, change the function name add to add_numbers.",
    "Search the code for the word subtract.",
    "Create a file notes.txt that says hello.",
    "Read README.md.",
    "Find every Python file in this project.",
]
FILES = {
    "calc.py": "def add(a, b):\n    return a + b\n\n\ndef subtract(a, b):\n    return a - b\n",
    "test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n",
    "README.md": "# calc\n\nA tiny calculator.\n",
}


def classify(record: dict) -> str:
    calls = [m for m in record.get("messages", []) if m.get("role") == "assistant" and m.get("tool_calls")]
    if not calls:
        return "prose"
    turn = (record.get("turns") or [{}])[0]
    return "repaired" if turn.get("repairs") else "call"


def run_one(prompt: str, protocol: str, base_url: str, model: str, work: Path, i: int) -> dict:
    repo = work / f"{protocol}-{i}"
    repo.mkdir(parents=True)
    for name, text in FILES.items():
        (repo / name).write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    trajectory = work / f"{protocol}-{i}.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_"))}
    env.update(HOME=str(work / "home"), SWERVE_HOME=str(work / "home" / ".swerve"))
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "swerve.cli.main",
            "-p",
            prompt,
            "--model",
            model,
            "--base-url",
            base_url,
            "--api-key",
            "none",
            "--tool-protocol",
            protocol,
            "--max-turns",
            "1",
            "--temperature",
            "0",
            "--yolo",
            "--trajectory",
            str(trajectory),
        ],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    wall = time.perf_counter() - start
    if not trajectory.is_file():
        return {"kind": "error", "wall_s": wall, "stderr": done.stderr[-500:]}
    record = json.loads(trajectory.read_text())
    return {
        "kind": classify(record),
        "wall_s": wall,
        "exit_reason": record.get("exit_reason"),
        "output_tokens": record.get("usage", {}).get("output_tokens"),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="qwen2.5-coder-0.5b")
    ap.add_argument("--protocols", default="native,qwen-xml")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    path = resolve_model_file(args.model)
    results: dict[str, list[dict]] = {}
    with (
        tempfile.TemporaryDirectory() as tmp,
        LocalServer(path, alias=args.model, ctx=16384, parallel=1).start() as srv,
    ):
        for protocol in args.protocols.split(","):
            results[protocol] = [
                run_one(p, protocol, srv.base_url, args.model, Path(tmp), i) for i, p in enumerate(PROMPTS)
            ]
            print(f"{protocol}: {[r['kind'] for r in results[protocol]]}", file=sys.stderr, flush=True)
    print(
        f"model {args.model}, {len(PROMPTS)} prompts, one turn each, temperature 0 (load {os.getloadavg()[0]:.1f})"
    )
    print("protocol | valid call | repaired/salvaged | prose, no call | error | valid share | s per reply")
    print("--- | --- | --- | --- | --- | --- | ---")
    for protocol, rows in results.items():
        count = {k: sum(r["kind"] == k for r in rows) for k in ("call", "repaired", "prose", "error")}
        share = (count["call"] + count["repaired"]) / len(rows)
        wall = sum(r["wall_s"] for r in rows) / len(rows)
        print(
            f"{protocol} | {count['call']} | {count['repaired']} | {count['prose']} | {count['error']} | "
            f"{share:.0%} | {wall:.1f}"
        )
    if args.json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

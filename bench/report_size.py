"""How big and how slow the HTML report is for large runs.

Writes a gym run directory of N synthetic episodes through the real run store, shaped like an
agent's trajectories on SWE-style tasks: T turns each, tool outputs that are real Python source
files of this machine's standard library (so they compress as code does) and pytest-like logs,
a diff, a verdict with FAIL_TO_PASS / PASS_TO_PASS lists and a test-log tail. Then builds the
page and prints its size, the build time, and how many trajectories did not fit the budget.

    .venv/bin/python bench/report_size.py [--episodes 1000] [--turns 30] [--max-mb 8] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import sysconfig
import tempfile
import time
from pathlib import Path

from swerve.gym.store import RunStore
from swerve.report.build import write_report

SENTENCES = (
    "Let me look at how the parser handles this case.",
    "The failing test expects the trailing separator to be kept.",
    "I will read the module that defines the cache first.",
    "Running the test suite again to see whether the fix holds.",
    "That change broke two other tests; reverting part of it.",
    "The bug is an off-by-one in the loop bound.",
    "Now I check the edge case with an empty input.",
)


def _sources(limit: int = 400) -> list[str]:
    root = Path(sysconfig.get_paths()["stdlib"])
    texts = []
    for path in sorted(root.glob("*.py"))[:limit]:
        try:
            texts.append(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
    return texts


def _pytest_log(rng: random.Random, task: int) -> str:
    names = [f"tests/test_mod{task % 17}.py::test_case_{i}" for i in range(rng.randint(20, 120))]
    lines = ["============================= test session starts =============================="]
    lines += [f"{n} {'PASSED' if rng.random() > 0.1 else 'FAILED'}" for n in names]
    lines.append(
        f"======================== {len(names)} passed in {rng.random() * 9:.2f}s ========================"
    )
    return "\n".join(lines)


def _task_id(task: int) -> str:
    return f"synthetic__lib{task % 12}-{task:05d}"


def _record(rng: random.Random, sources: list[str], task: int, sample: int, turns: int) -> dict:
    task_id = _task_id(task)
    messages: list[dict] = [
        {"role": "system", "content": "You are swerve, a coding agent. " * 40},
        {"role": "user", "content": f"Task {task}: " + " ".join(rng.choice(SENTENCES) for _ in range(30))},
    ]
    for turn in range(turns):
        source = rng.choice(sources)
        start = rng.randrange(max(1, len(source) - 8000))
        if turn % 3 == 0:
            call = {"name": "read_file", "arguments": {"file_path": f"src/mod{turn}.py"}}
            output = source[start : start + rng.randint(1500, 8000)]
        elif turn % 3 == 1:
            call = {"name": "run_shell_command", "arguments": {"command": "python -m pytest -q -x"}}
            output = _pytest_log(rng, task + turn)
        else:
            snippet = source[start : start + 400]
            call = {
                "name": "edit",
                "arguments": {"file_path": "src/mod.py", "old_string": snippet, "new_string": snippet[::-1]},
            }
            output = "The file was edited."
        call_id = f"call_{task}_{sample}_{turn}"
        messages.append(
            {
                "role": "assistant",
                "content": rng.choice(SENTENCES),
                "tool_calls": [{"id": call_id, "type": "function", "function": call}],
            }
        )
        messages.append({"role": "tool", "tool_call_id": call_id, "name": call["name"], "content": output})
    resolved = rng.random() < 0.4
    source = rng.choice(sources)
    patch = "diff --git a/src/mod.py b/src/mod.py\n--- a/src/mod.py\n+++ b/src/mod.py\n@@ -1,20 +1,20 @@\n"
    patch += "\n".join(("-" if i % 7 == 0 else " ") + line for i, line in enumerate(source.splitlines()[:40]))
    p2p = [f"tests/test_mod.py::test_keeps_{i}" for i in range(100)]
    status = {
        "FAIL_TO_PASS": {
            "success": ["tests/test_mod.py::test_bug"] if resolved else [],
            "failure": [] if resolved else ["tests/test_mod.py::test_bug"],
        },
        "PASS_TO_PASS": {"success": p2p, "failure": []},
    }
    return {
        "schema": "swerve.trajectory/1",
        "instance_id": task_id,
        "model": {"name": "synthetic"},
        "messages": messages,
        "usage": {"input_tokens": rng.randint(20_000, 400_000), "output_tokens": rng.randint(500, 9000)},
        "timing": {
            "model_s": rng.random() * 300,
            "env_s": rng.random() * 60,
            "verify_s": rng.random() * 30,
            "episode_s": rng.random() * 400,
        },
        "num_turns": turns,
        "patch": patch,
        "verdict": {
            "reward": float(resolved),
            "resolved": resolved,
            "tests_status": status,
            "report": {
                "outcome": "resolved" if resolved else "unresolved",
                "output_tail": _pytest_log(rng, task)[-4096:],
            },
        },
        "exit_reason": "completed",
        "infra_error": None,
        "reward": float(resolved),
        "started_at": "2025-01-01T00:00:00+00:00",
        "ended_at": "2025-01-01T00:05:00+00:00",
        "episode": {"key": f"{task_id}#{sample}", "task_id": task_id, "sample": sample, "group_id": task_id},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=4, help="episodes per task")
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--max-mb", type=float, default=None, help="the report's trajectory budget")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = random.Random(7)
    sources = _sources()
    with tempfile.TemporaryDirectory(prefix="swerve-report-bench-") as tmp:
        out = Path(tmp) / "run"
        keys = [(i // args.samples, i % args.samples) for i in range(args.episodes)]
        config = {"source": {"kind": "synthetic"}, "model": "synthetic", "samples": args.samples}
        with RunStore.open(out, config, planned_keys=[f"{_task_id(t)}#{s}" for t, s in keys]) as store:
            for task, sample in keys:
                store.append(_record(rng, sources, task, sample, args.turns))
        raw_mb = (out / "episodes.jsonl").stat().st_size / 1e6
        t0 = time.perf_counter()
        extra = {"budget_mb": args.max_mb} if args.max_mb else {}
        target, built = write_report(out, **extra)
        build_s = time.perf_counter() - t0
        page_mb = target.stat().st_size / 1e6
        result = {
            "episodes": args.episodes,
            "turns": args.turns,
            "records_mb": round(raw_mb, 1),
            "page_mb": round(page_mb, 2),
            "trajectories_mb": round(sum(len(c) for c in built.packed["chunks"]) / 1e6, 2),
            "omitted": built.packed["omitted"],
            "folded": built.packed["folded"],
            "min_scale": built.packed["min_scale"],
            "build_s": round(build_s, 2),
        }
    print(
        f"{result['episodes']} episodes x {args.turns} turns: records {result['records_mb']} MB -> page "
        f"{result['page_mb']} MB (trajectories {result['trajectories_mb']} MB; {result['folded']} episodes folded "
        f"shorter, limits down to {result['min_scale']}; {result['omitted']} left out) in {result['build_s']} s"
    )
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

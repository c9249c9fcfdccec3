"""Reward throughput: verdicts per second of the verifier against a new Python process per candidate.

The candidates are each task's reference and AST mutants of it (the built-in suite's operators),
judged on the task's input/output tests (for HumanEval: the calls its own check makes). The
baseline runs the same judging code with ``subprocess.run([python, server.py])`` once per
candidate, on the host, without a sandbox; the verifier runs warm fork servers in namespace
sandboxes. Both judge the same inputs; their verdicts must agree.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

from swerve.tasks.code.grading import expected_of, grade, original_tests, tests_job
from swerve.tasks.code.model import CodeTask
from swerve.tasks.code.server import PREFIX
from swerve.tasks.code.verifier import SERVER, Isolation, Verifier, VerifyLimits, judge
from swerve.tasks.generate.mutate import mutations_for


def mutants_of(task: CodeTask, limit: int | None = None) -> list[tuple[str, str]]:
    """(description, program) for each first-order mutant of the reference, outside the prompt's
    docstring (edits in the prompt's own code count: a helper the prompt defines is fair game)."""
    data = task.reference.encode()
    out = []
    for m in mutations_for("solution.py", data):
        out.append((f"{m.operator} line {m.line}: {m.description}", m.apply(data).decode()))
    return out[:limit] if limit is not None else out


async def with_io_tests(
    verifier: Verifier, tasks: Sequence[CodeTask]
) -> tuple[list[CodeTask], dict[str, str]]:
    """Tasks that have (or, from their check program, get) input/output tests; the rest with reasons."""
    need = [t for t in tasks if not t.tests]
    traced = await original_tests(verifier, need) if need else {}
    ready, skipped = [], {}
    for task in tasks:
        got = traced.get(task.id, task.tests)
        if isinstance(got, str):
            skipped[task.id] = got
        elif got:
            task.tests = list(got)
            ready.append(task)
        else:
            skipped[task.id] = "no tests"
    return ready, skipped


def _baseline(items: Sequence[tuple[CodeTask, str]], limits: VerifyLimits, python: str) -> list[bool]:
    verdicts = []
    for task, program in items:
        job = tests_job(task, program, [t.args for t in task.tests], limits)
        job["id"] = 0
        done = subprocess.run(
            [python, "-I", str(SERVER)],
            input=json.dumps(job) + "\n",
            capture_output=True,
            text=True,
            timeout=120,
        )
        lines = [json.loads(x[len(PREFIX) :]) for x in done.stdout.splitlines() if x.startswith(PREFIX)]
        result = lines[1] if len(lines) > 1 else {"id": 0, "status": "ended", "messages": []}
        verdicts.append(judge(result, expected_of(task)).passed)
    return verdicts


async def _measure(
    verifier: Verifier, pool: list[tuple[CodeTask, str]], baseline: int, limits: VerifyLimits
) -> dict[str, Any]:
    await grade(verifier, pool[: min(len(pool), 50)], limits=limits)  # warm-up: page cache, pools
    start = time.perf_counter()
    verdicts = await grade(verifier, pool, limits=limits)
    verifier_s = time.perf_counter() - start
    sample = pool[: min(baseline, len(pool))]
    start = time.perf_counter()
    base = await asyncio.to_thread(_baseline, sample, limits, sys.executable)
    baseline_s = time.perf_counter() - start
    agree = sum(a == v.passed for a, v in zip(base, verdicts, strict=False))
    fast = len(pool) / verifier_s
    slow = len(sample) / baseline_s if baseline_s else 0.0
    return {
        "candidates": len(pool),
        "tests_per_candidate": round(sum(len(t.tests) for t, _ in pool) / max(1, len(pool)), 2),
        "accepted": sum(v.passed for v in verdicts),
        "verifier_s": round(verifier_s, 3),
        "verifier_verdicts_per_s": round(fast, 1),
        "baseline_candidates": len(sample),
        "baseline_s": round(baseline_s, 3),
        "baseline_verdicts_per_s": round(slow, 1),
        "speedup": round(fast / slow, 1) if slow else None,
        "baseline_agreement": f"{agree}/{len(sample)}",
    }


async def bench_reward(
    tasks: Sequence[CodeTask],
    *,
    candidates: int = 2000,
    baseline: int = 100,
    workers: int = 2,
    isolation: Isolation = "namespace",
    hidden: Sequence[str] = (),
    seed: int = 0,
    reuse: int = 1,
) -> dict[str, Any]:
    """Measure both ways on the same candidates, for two pools: the references (every verdict a
    pass, every test run) and their mutants (wrong answers, crashes, some time-outs)."""
    limits = VerifyLimits()
    rng = random.Random(seed)
    async with Verifier(workers=workers, isolation=isolation, hidden=hidden, reuse=reuse) as verifier:
        ready, skipped = await with_io_tests(verifier, tasks)
        pools: dict[str, list[tuple[CodeTask, str]]] = {
            "references": [(t, t.reference) for t in ready],
            "mutants": [(t, program) for t in ready for _, program in mutants_of(t, 12)],
        }
        figures: dict[str, Any] = {"tasks": len(ready), "skipped": skipped, "isolation": isolation,
                                   "workers": workers, "reuse": reuse, "pools": {}}  # fmt: skip
        for name, pool in pools.items():
            rng.shuffle(pool)
            pool = (pool * (candidates // max(1, len(pool)) + 1))[:candidates]
            figures["pools"][name] = await _measure(verifier, pool, baseline, limits)
    return figures

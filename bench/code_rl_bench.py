"""Code RL on HumanEval: original tests against swerve-scaled ones, and reward throughput.

Runs the three commands a user would (each figure printed comes from their JSON):

    swerve tasks scale-tests humaneval --out DIR      (skipped when DIR already holds a dataset)
    swerve tasks strength DIR --json
    swerve tasks bench-reward --json                  (verifier vs subprocess.run per candidate)

and prints tests per task, mutation score and false-positive rates for both suites, the scaled to
original ratio of tests beside HumanEval+'s published 80x, and verdicts per second of both judges.

    .venv/bin/python bench/code_rl_bench.py [--dir bench/.out/humaneval-scaled] [--candidates 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HUMANEVAL_PLUS_TEST_RATIO = 80.0  # EvalPlus: HumanEval+ has 80x HumanEval's tests


def swerve(*args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-m", "swerve.cli.main", *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"swerve {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=str(ROOT / "bench" / ".out" / "humaneval-scaled"))
    parser.add_argument("--candidates", type=int, default=2000)
    parser.add_argument("--baseline", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = Path(args.dir)
    out: dict = {}
    if not (folder / "tasks.jsonl").is_file():
        start = time.monotonic()
        swerve("tasks", "scale-tests", "humaneval", "--out", str(folder))
        out["scale_s"] = round(time.monotonic() - start, 1)
    report = json.loads((folder / "report.json").read_text())
    out["scaled_tasks"], out["skipped"] = len(report["tasks"]), report["skipped"]
    start = time.monotonic()
    out["strength"] = json.loads(swerve("tasks", "strength", str(folder), "--json"))
    out["strength_s"] = round(time.monotonic() - start, 1)
    out["reward"] = json.loads(swerve("tasks", "bench-reward", "--json", "--candidates", str(args.candidates),
                                      "--baseline", str(args.baseline)))  # fmt: skip
    if args.json:
        print(json.dumps(out, indent=1))
        return
    o, s = out["strength"]["suites"]["original"], out["strength"]["suites"]["scaled"]
    pool = out["strength"]["pool"]

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{v:.1%}"

    print(f"HumanEval: {out['scaled_tasks']} of 164 tasks scaled, {len(out['skipped'])} skipped")
    print(f"{'':<40}{'original':>10}{'scaled':>10}")
    print(f"{'tests per task':<40}{o['tests_per_task']:>10.2f}{s['tests_per_task']:>10.2f}")
    for label, key in (("mutation score", "mutation_score"), ("FP, 1st-order mutants", "fp_rate_first_order"),
                       ("FP, 2nd-order mutants (held out)", "fp_rate_second_order"), ("FN rate", "fn_rate")):
        print(f"{label:<40}{pct(o[key]):>10}{pct(s[key]):>10}")  # fmt: skip
    ratio = s["tests_per_task"] / o["tests_per_task"]
    print(f"tests ratio scaled/original {ratio:.1f}x (HumanEval+: {HUMANEVAL_PLUS_TEST_RATIO:.0f}x); "
          f"mutants {pool['mutants']}, estimated equivalent {pool['equivalent']}")  # fmt: skip
    for name, f in out["reward"]["pools"].items():
        print(f"reward, {name}: verifier {f['verifier_verdicts_per_s']:.1f}/s, subprocess.run "
              f"{f['baseline_verdicts_per_s']:.1f}/s, {f['speedup']}x, agree {f['baseline_agreement']}")  # fmt: skip


if __name__ == "__main__":
    main()

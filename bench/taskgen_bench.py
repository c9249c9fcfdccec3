"""Yield of ``swerve tasks generate`` per strategy on PyPI libraries outside the built-in six.

    .venv/bin/python bench/taskgen_bench.py --count 5 --max-tries 15
    .venv/bin/python bench/taskgen_bench.py --libraries six==1.16.0 idna==3.7 --strategies procedural

Each library runs as its own ``swerve tasks generate --sdist`` from a clean state (the sdist and
its venv are cached after the first run). Per strategy it prints candidates judged per hour of
judging, the share that became valid tasks, and valid tasks per hour; per library the wall time
(environment build and baselines included) and the generator's peak memory. A library the
generator refuses is listed with the reason from its report. SWE-smith (the peer) needs docker
images per repository and is not run here; its published yields are quoted in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

LIBRARIES = (
    "more-itertools==10.5.0",
    "six==1.16.0",
    "idna==3.7",
    "jmespath==1.0.1",
    "semver==3.0.2",
)
OUT = Path(__file__).parent / ".out" / "taskgen"


def run_one(spec: str, args: argparse.Namespace) -> dict[str, object]:
    name = spec.split("==")[0]
    out = OUT / f"{name}.jsonl"
    for suffix in ("", ".state.jsonl", ".report.json"):
        Path(str(out) + suffix).unlink(missing_ok=True)
    argv = [sys.executable, "-m", "swerve.cli.main", "tasks", "generate", "--sdist", spec, "--out", str(out)]
    argv += ["--count", str(args.count), "--max-tries", str(args.max_tries), "--strategies", args.strategies]
    argv += ["--workers", str(args.workers), "--timeout", str(args.timeout), "--no-model-statements"]
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_MODEL", "OPENAI_BASE_URL")}
    started = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env)
    wall = time.monotonic() - started
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    report_path = Path(str(out) + ".report.json")
    report = json.loads(report_path.read_text()) if report_path.is_file() else {}
    if proc.returncode not in (0, 1) or not report:
        report = {"error": (proc.stderr or proc.stdout).strip()[-300:]}
    return {"library": spec, "wall_s": wall, "peak_mib": peak_mib, **report}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--libraries", nargs="+", default=list(LIBRARIES))
    p.add_argument("--count", type=int, default=5)
    p.add_argument("--max-tries", type=int, default=15)
    p.add_argument("--strategies", default="procedural,combo")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--timeout", type=float, default=120.0)
    args = p.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    results = [run_one(spec, args) for spec in args.libraries]
    totals: dict[str, list[float]] = {}
    print(
        f"{'library':<24} {'strategy':<11} {'tried':>5} {'valid':>5} {'valid%':>6} {'cand/h':>7} {'valid/h':>7}"
    )
    for r in results:
        if r.get("error"):
            print(f"{r['library']:<24} skipped: {r['error']}")
            continue
        for name, s in (r.get("by_strategy") or {}).items():  # type: ignore[union-attr]
            hours = max(s["seconds"], 1e-9) / 3600
            print(
                f"{r['library']:<24} {name:<11} {s['tried']:>5} {s['valid']:>5} {s['valid_pct']:>6} "
                f"{s['tried'] / hours:>7.0f} {s['valid'] / hours:>7.0f}"
            )
            t = totals.setdefault(name, [0, 0, 0.0])
            t[0], t[1], t[2] = t[0] + s["tried"], t[1] + s["valid"], t[2] + s["seconds"]
        print(
            f"{'':<24} wall {r['wall_s']:.0f}s, {r.get('stable_tests')} stable tests, "
            f"peak RSS {r['peak_mib']:.0f} MiB, {r.get('seconds_per_valid')}s per valid task (whole run)"
        )
    for name, (tried, valid, seconds) in sorted(totals.items()):
        hours = max(seconds, 1e-9) / 3600
        pct = 100 * valid / tried if tried else 0.0
        print(
            f"{'all':<24} {name:<11} {tried:>5.0f} {valid:>5.0f} {pct:>6.1f} {tried / hours:>7.0f} {valid / hours:>7.0f}"
        )
    wall = sum(float(r["wall_s"]) for r in results)  # type: ignore[arg-type]
    valid_all = sum(int(r.get("valid") or 0) for r in results)  # type: ignore[call-overload]
    print(
        f"wall {wall:.0f}s for {valid_all} valid tasks over {len(results)} libraries: {3600 * valid_all / wall:.0f} valid tasks/hour"
    )
    (OUT / "summary.json").write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

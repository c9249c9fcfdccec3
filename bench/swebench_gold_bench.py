"""SWE-bench gold validation without docker, with grading parity against ``swebench``.

For every instance of the chosen splits (Verified by default; an instance in two splits runs once)
and repositories: run the gold patch and no patch in namespace
sandboxes (``swerve.eval``), time it, and time the same eval script run bare (host, no sandbox,
private layer). Then grade every log we produced again with the ``swebench`` package's own grader
(installed into ``bench/.out/swebench-venv``, never into the project venv) and compare verdicts.

    .venv/bin/python bench/swebench_gold_bench.py --repos /path/to/mirrors \
        --dataset verified --dataset lite --repo psf/requests --workers 2 --run-id gold-all

Resumable: run the same command with the same --run-id and what finished is kept
(--rerun-unavailable also runs again what ended before grading, e.g. after a spec change).
Results go to ``bench/.out/gold/<run-id>/`` (results.json, table.md per instance, repos.md per
split and repository); the figures in
docs/benchmarks.md come from here. Repositories are looked up under --repos as
``<owner>__<name>``, ``<owner>/<name>`` or ``<owner>+<name>[/repo]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / ".out"
DATA = ROOT.parent / "shared" / "data" / "swebench"
SWEBENCH_VERSION = "5.0.2"

PARITY_SCRIPT = r"""
import json, sys
from swebench.harness.grading import get_eval_report
from swebench.harness.utils import make_test_spec
jobs = json.load(open(sys.argv[1]))
out = {}
for job in jobs:
    spec = make_test_spec(job["instance"])
    pred = {"instance_id": job["instance"]["instance_id"], "model_name_or_path": job["model"], "model_patch": "x"}
    rep = get_eval_report(spec, pred, job["log"], include_tests_status=True)[pred["instance_id"]]
    out[job["key"]] = {"resolved": rep["resolved"], "applied": rep["patch_successfully_applied"],
                       "tests_status": rep.get("tests_status", {})}
json.dump(out, open(sys.argv[2], "w"))
"""


def swebench_python() -> Path:
    """A venv with the swebench package, made on first use with uv (or pip)."""
    venv = OUT / "swebench-venv"
    python = venv / "bin" / "python"
    if python.exists():
        return python
    uv = Path(sys.executable).parent / "uv"
    if uv.exists():
        subprocess.run([str(uv), "venv", "-q", "--python", sys.executable, str(venv)], check=True)
        subprocess.run(
            [str(uv), "pip", "install", "-q", "--python", str(python), f"swebench=={SWEBENCH_VERSION}"],
            check=True,
        )
    else:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", f"swebench=={SWEBENCH_VERSION}"], check=True
        )
    return python


def parity(records: dict[str, dict], results: list[dict], workdir: Path) -> dict:
    """Grade our logs with swebench's grader; count agreements on resolved and on test lists."""
    jobs = []
    for row in results:
        for model in ("gold", "no-patch"):
            run = row.get(model)
            if not run or run["outcome"] not in ("resolved", "unresolved"):
                continue
            log = Path(run["log_dir"]) / "test_output.txt"
            jobs.append(
                {
                    "key": f"{row['id']}|{model}",
                    "instance": records[row["id"]],
                    "model": model,
                    "log": str(log),
                }
            )
    if not jobs:
        return {"compared": 0}
    jobs_file, out_file = workdir / "parity_jobs.json", workdir / "parity_out.json"
    jobs_file.write_text(json.dumps(jobs))
    script = workdir / "parity.py"
    script.write_text(PARITY_SCRIPT)
    subprocess.run([str(swebench_python()), str(script), str(jobs_file), str(out_file)], check=True)
    theirs = json.loads(out_file.read_text())
    agree, differ = 0, []
    by_key = {f"{row['id']}|{m}": row[m] for row in results for m in ("gold", "no-patch") if row.get(m)}
    for key, verdict in theirs.items():
        ours = by_key[key]
        same = verdict["resolved"] == (ours["outcome"] == "resolved")
        for part in ("FAIL_TO_PASS", "PASS_TO_PASS"):
            a = verdict["tests_status"].get(part, {})
            b = ours.get("tests_status", {}).get(part, {})
            if sorted(a.get("success", [])) != sorted(b.get("success", [])) or sorted(
                a.get("failure", [])
            ) != sorted(b.get("failure", [])):
                same = False
        if same:
            agree += 1
        else:
            differ.append(key)
    return {"compared": len(theirs), "agree": agree, "differ": differ}


SPLITS = {
    "verified": DATA / "SWE-bench_Verified_test.parquet",
    "lite": DATA / "SWE-bench_Lite_test.parquet",
    "lite-dev": DATA / "SWE-bench_Lite_dev.parquet",
    "dev": DATA / "SWE-bench_dev.parquet",
}
# SWE-bench's docker harness: about 500 Verified instances in an hour on 32 cores.
ANCHOR_CORE_S_PER_INSTANCE = 32 * 3600 / 500
RERUN_OUTCOMES = ("environment-unavailable", "error", "timeout")


def forget_unavailable(log_root: Path, run_ids: list[str]) -> int:
    """Delete this run's results that ended before grading, so that they run again."""
    removed = 0
    for run_id in run_ids:
        for path in (log_root / run_id).glob("*/*/swerve.json"):
            with contextlib.suppress(OSError, ValueError):
                if json.loads(path.read_text()).get("outcome") in RERUN_OUTCOMES:
                    path.unlink()
                    removed += 1
    return removed


def bare_sample(tasks: list, report: dict, per_repo: int) -> list:
    """The first ``per_repo`` gold-graded instances of each repository (0: all of them)."""
    picked, count = [], {}
    for t in tasks:
        if report["instances"][t.id]["gold"]["outcome"] not in ("resolved", "unresolved"):
            continue
        if per_repo and count.get(t.repo, 0) >= per_repo:
            continue
        count[t.repo] = count.get(t.repo, 0) + 1
        picked.append(t)
    return picked


async def run(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT / "src"))
    from swerve.eval.environments import HostSandbox, NamespaceSandbox
    from swerve.eval.harness import EvalOptions, Harness
    from swerve.eval.validation import validate
    from swerve.tasks.swebench import Prediction, load_instances, read_records

    datasets = [str(SPLITS.get(d, d)) for d in (args.dataset or ["verified"])]
    records: dict[str, dict] = {}
    splits: dict[str, list[str]] = {}
    tasks = []
    for dataset in datasets:
        name = next((k for k, v in SPLITS.items() if str(v) == dataset), Path(dataset).stem)
        records.update({r["instance_id"]: r for r in read_records(dataset)})
        for t in load_instances(dataset):
            if args.repo and t.repo not in args.repo:
                continue
            if t.id not in splits:
                tasks.append(t)  # an instance in two splits (same record) runs once
            splits.setdefault(t.id, []).append(name)
    if args.instance_ids:
        tasks = [t for t in tasks if t.id in set(args.instance_ids)]
    if args.limit:
        tasks = tasks[: args.limit]
    run_id = args.run_id or time.strftime("gold-%Y%m%d-%H%M%S")
    workdir = OUT / "gold" / run_id
    workdir.mkdir(parents=True, exist_ok=True)
    done = 0

    def progress(kind: str, iid: str, detail: object) -> None:
        nonlocal done
        if kind == "done":
            done += 1
            print(f"[{done}] {iid} {detail.model}: {detail.outcome} {detail.cause[:120]}", flush=True)  # type: ignore[attr-defined]

    opts = EvalOptions(
        run_id=run_id,
        report_dir=workdir,
        repos=args.repos,
        workers=args.workers,
        sandbox=NamespaceSandbox(),
        timeout_s=args.timeout,
    )
    not_run: list = []
    if args.report_only:

        def has(model: str, t) -> bool:
            return (opts.log_root / run_id / model / t.id / "swerve.json").exists()

        not_run = [t for t in tasks if not (has("gold", t) and has("no-patch", t))]
        tasks = [t for t in tasks if t not in not_run]
        print(f"report only: {len(tasks)} instances with results, {len(not_run)} not run", flush=True)
    if args.rerun_unavailable:
        gone = forget_unavailable(opts.log_root, [run_id, run_id + "-bare"])
        print(f"running again {gone} results that ended before grading", flush=True)
    harness = Harness(opts, on_event=progress)
    started = time.monotonic()
    report, _ = await validate(harness, tasks)
    wall = time.monotonic() - started

    bare: dict[str, dict] = {}
    if not args.no_bare:
        bare_opts = EvalOptions(
            run_id=run_id + "-bare",
            report_dir=workdir,
            repos=args.repos,
            workers=args.workers,
            sandbox=HostSandbox(),
            timeout_s=args.timeout,
        )
        bare_harness = Harness(bare_opts, on_event=progress)
        sample = bare_sample(tasks, report, args.bare_per_repo)
        if args.report_only:
            done_bare = bare_opts.log_root / bare_opts.run_id / "gold"
            sample = [t for t in sample if (done_bare / t.id / "swerve.json").exists()]
        bare_results = await asyncio.gather(
            *(bare_harness.run_instance(t, Prediction(t.id, "gold", t.gold_patch)) for t in sample)
        )
        bare = {r.instance_id: {"outcome": r.outcome, "timings": r.timings} for r in bare_results}

    rows = []
    for t in tasks:
        item = report["instances"][t.id]
        gold_dir = opts.log_root / run_id / "gold" / t.id
        nopatch_dir = opts.log_root / run_id / "no-patch" / t.id
        row = {
            "id": t.id,
            "repo": t.repo,
            "splits": splits[t.id],
            "valid": item["valid"],
            "cause": item["cause"],
            "detail": item["detail"],
        }
        for model, folder in (("gold", gold_dir), ("no-patch", nopatch_dir)):
            path = folder / "swerve.json"
            if path.exists():
                data = json.loads(path.read_text())
                row[model] = {
                    k: data.get(k) for k in ("outcome", "cause", "resolution", "tests_status", "timings")
                }
                row[model]["log_dir"] = str(folder)
        row["bare"] = bare.get(t.id)
        rows.append(row)
    for t in not_run:
        rows.append({"id": t.id, "repo": t.repo, "splits": splits[t.id], "not_run": True})

    parity_result = (
        {"compared": 0, "skipped": "--no-parity"} if args.no_parity else parity(records, rows, workdir)
    )
    cores = os.cpu_count() or 1
    summary = {
        "run_id": run_id,
        "datasets": datasets,
        "instances": len(tasks),
        "not_run": len(not_run),
        "gold_resolved": sum(1 for r in rows if r.get("gold", {}).get("outcome") == "resolved"),
        "no_patch_resolved": sum(1 for r in rows if r.get("no-patch", {}).get("outcome") == "resolved"),
        "valid": report["valid"],
        "invalid_by_cause": report["invalid_by_cause"],
        "wall_s": round(wall, 1),
        "cores": cores,
        "core_s_per_instance": round(wall * cores / max(1, len(tasks)), 1),
        "anchor_core_s_per_instance": round(ANCHOR_CORE_S_PER_INSTANCE, 1),
        "parity": parity_result,
    }
    (workdir / "results.json").write_text(json.dumps({"summary": summary, "rows": rows}, indent=2))
    table = markdown(rows)
    (workdir / "table.md").write_text(table)
    by_repo = repo_tables(rows)
    (workdir / "repos.md").write_text(by_repo)
    print(table)
    print(by_repo)
    print(json.dumps(summary, indent=2))
    return 0


def _median(values: list[float]) -> float | str:
    return round(statistics.median(values), 1) if values else "-"


def repo_tables(rows: list[dict]) -> str:
    """Per split and repository: instances, gold / no-patch resolved, causes; then timings."""
    out = []
    for split in sorted({s for r in rows for s in r["splits"]}):
        out += [
            f"### {split}",
            "",
            "| repository | instances | gold resolved | no patch resolved | not run yet | not resolvable here (cause) |",
            "| --- | ---: | ---: | ---: | ---: | --- |",
        ]
        mine = [r for r in rows if split in r["splits"]]
        for repo in [*sorted({r["repo"] for r in mine}), "**total**"]:
            group = [r for r in mine if repo in ("**total**", r["repo"])]
            gold = sum(1 for r in group if (r.get("gold") or {}).get("outcome") == "resolved")
            nop = sum(1 for r in group if (r.get("no-patch") or {}).get("outcome") == "resolved")
            waiting = sum(1 for r in group if r.get("not_run"))
            causes = [
                r
                for r in group
                if not r.get("not_run") and (r.get("gold") or {}).get("outcome") != "resolved"
            ]
            why = "; ".join(f"{r['id']}: {r['cause']}: {r['detail'].split(' (')[0][:90]}" for r in causes)
            why = f"{len(causes)}" if repo == "**total**" and causes else why
            out.append(f"| {repo} | {len(group)} | {gold} | {nop} | {waiting} | {why} |")
        out.append("")
    out += [
        "| repository | n | sandboxed run (s) | its eval script in the sandbox (s) | n bare | the eval script bare (s) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    resolved = [r for r in rows if (r.get("gold") or {}).get("outcome") == "resolved"]
    for repo in [*sorted({r["repo"] for r in resolved}), "all"]:
        group = [r for r in resolved if repo in ("all", r["repo"])]
        total = [r["gold"]["timings"].get("total_s", 0) for r in group]
        tests = [r["gold"]["timings"].get("tests_s", 0) for r in group]
        bare = [
            r["bare"]["timings"]["tests_s"]
            for r in group
            if (r.get("bare") or {}).get("timings", {}).get("tests_s")
        ]
        out.append(
            f"| {repo} | {len(group)} | {_median(total)} | {_median(tests)} | {len(bare)} | {_median(bare)} |"
        )
    return "\n".join(out) + "\n"


def markdown(rows: list[dict]) -> str:
    lines = [
        "| instance | gold | no patch | sandboxed gold run (s) | its tests (s) | bare eval script (s) | cause |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r.get("not_run"):
            lines.append(f"| {r['id']} | not run | not run | - | - | - | |")
            continue
        gold = r.get("gold") or {}
        nop = r.get("no-patch") or {}
        bare = (r.get("bare") or {}).get("timings", {})
        t = gold.get("timings") or {}
        lines.append(
            f"| {r['id']} | {gold.get('outcome', '-')} | {nop.get('outcome', '-')} | {t.get('total_s', '-')} | "
            f"{t.get('tests_s', '-')} | {bare.get('tests_s', '-')} | {(r['cause'] + ': ' + r['detail'])[:90] if r['cause'] else ''} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--dataset",
        action="append",
        help="a dataset file or split (verified, lite, lite-dev, dev); may repeat (default: verified)",
    )
    p.add_argument(
        "--repos", action="append", default=[], required=True, help="folder of repository snapshots"
    )
    p.add_argument(
        "--repo", action="append", default=[], help="only this repository (owner/name); may repeat"
    )
    p.add_argument("--instance-ids", nargs="+")
    p.add_argument("--limit", type=int)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--run-id")
    p.add_argument("--no-bare", action="store_true", help="skip the bare (unsandboxed) timing runs")
    p.add_argument(
        "--bare-per-repo", type=int, default=5, help="bare timing runs per repository (0: every instance)"
    )
    p.add_argument(
        "--report-only",
        action="store_true",
        help="run nothing new: tables from the instances this run id has finished (the rest: not run)",
    )
    p.add_argument("--timeout", type=float, help="seconds per instance (default: the task's own)")
    p.add_argument(
        "--rerun-unavailable",
        action="store_true",
        help="run again the instances of this run id that ended before grading (after a spec change)",
    )
    p.add_argument("--no-parity", action="store_true", help="skip grading parity with the swebench package")
    args = p.parse_args()
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())

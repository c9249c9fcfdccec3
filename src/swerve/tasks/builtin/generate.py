"""Making tasks: inject a bug, run the library's tests, keep the bugs that break a few of them.

For one library: unpack the pinned sdist, build its test venv, run the whole suite twice on the
pristine tree (tests whose outcome differs between the two runs are flaky and never used), then try
candidate mutations one by one (spread over operators and functions, in an order fixed by the
seed). A candidate becomes a task when the suite still collects, nothing times out, and between 1
and ``max_f2p`` stable tests fail. FAIL_TO_PASS are those tests; PASS_TO_PASS are the other tests
of the same files that pass both with and without the bug; the gold patch is the reverse of the
bug's diff; the problem statement is written from the failing tests alone.

    python -m swerve.tasks.builtin.generate --library inflection --count 5 --out new.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swerve.errors import TaskError
from swerve.tasks.builtin.libraries import LIBRARIES, Library, get_library
from swerve.tasks.builtin.sources import (
    apply_patch,
    ensure_task_repo,
    pristine_tree,
)
from swerve.tasks.builtin.suite import DATA_DIR, env_spec
from swerve.tasks.generate.core import (
    Baseline,
    GenerationError,
    diff,
    judge,
    make_work_tree,
    order_candidates,
    pass_to_pass,
    run_baseline,
    test_file,
)
from swerve.tasks.generate.mutate import OPERATORS, Mutation, mutations_for
from swerve.tasks.generate.runner import SuiteRun, run_suite
from swerve.tasks.generate.statement import Failure, leaked_lines, library_api, write_statement

GENERATOR = "swerve.tasks.builtin.generate/1"


@dataclass
class Options:
    """How many tasks to make and how picky to be."""

    count: int = 5
    seed: int = 0
    max_f2p: int = 5
    max_p2p: int = 300
    max_tries: int = 300
    workers: int = 2
    timeout_s: float = 120.0
    operators: tuple[str, ...] = OPERATORS
    one_per_function: bool = True
    python: str | None = None  # run the tests with this Python instead of the library's pinned venv


@dataclass
class Stats:
    tried: int = 0
    kept: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


async def library_python(lib: Library, cache: Path | None = None) -> str:
    """The Python of the library's test venv (built on first use by the environment builder)."""
    from swerve.errors import EnvUnavailable
    from swerve.tasks.envbuild import ensure_env

    try:
        layer = await ensure_env(env_spec(lib), cache=cache, label=f"builtin-{lib.name}")
    except EnvUnavailable as exc:
        raise GenerationError(f"cannot build the test venv of {lib.name}: {exc.cause}") from None
    return os.path.join(layer.bin, "python")


class Generator:
    """Generation state for one library."""

    def __init__(
        self, lib: Library, options: Options, *, cache: Path | None = None, log: Callable[[str], None] = print
    ):
        self.lib = lib
        self.options = options
        self.cache = cache
        self.log = log
        self.stats = Stats()
        self.tasks: list[dict[str, Any]] = []
        self.used_functions: set[tuple[str, str]] = set()
        self.queue: list[Mutation] = []
        self.timeout = options.timeout_s
        self.python = options.python or ""
        self.workers: list[asyncio.Task[None]] = []

    @property
    def done(self) -> bool:
        return len(self.tasks) >= self.options.count

    def candidates(self, pristine: Path) -> list[Mutation]:
        found: list[Mutation] = []
        for rel in self.lib.source_files:
            found += mutations_for(rel, (pristine / rel).read_bytes(), self.options.operators)
        return order_candidates(found, self.options.seed)

    def _next(self) -> Mutation | None:
        while self.queue:
            if len(self.tasks) >= self.options.count or self.stats.tried >= self.options.max_tries:
                return None
            m = self.queue.pop(0)
            if self.options.one_per_function and (m.path, m.function) in self.used_functions:
                continue
            self.stats.tried += 1
            return m
        return None

    async def run(self) -> list[dict[str, Any]]:
        started = time.monotonic()
        pristine = await asyncio.to_thread(pristine_tree, self.lib, self.cache)
        python = self.options.python or await library_python(self.lib, self.cache)
        self.python = python
        api = library_api(pristine, self.lib.source_files)
        with tempfile.TemporaryDirectory(prefix=f"swerve-gen-{self.lib.name}-") as scratch:
            trees = [
                await asyncio.to_thread(make_work_tree, pristine, Path(scratch) / f"w{i}")
                for i in range(max(1, self.options.workers))
            ]
            clock = time.monotonic()
            baseline = await run_baseline(self.lib, trees, python, self.options.timeout_s)
            # a mutant that loops forever should not cost the full limit
            self.timeout = min(self.options.timeout_s, 15.0 + 4 * (time.monotonic() - clock))
            self.log(
                f"{self.lib.key}: {len(baseline.stable_passing)} stable passing tests"
                + (f", {len(baseline.flaky)} flaky (never used)" if baseline.flaky else "")
            )
            self.queue = self.candidates(pristine)
            self.log(f"{self.lib.key}: {len(self.queue)} candidate mutations")
            workers = [asyncio.create_task(self._worker(tree, python, baseline, api)) for tree in trees]
            self.workers = workers
            try:
                await asyncio.gather(*workers)
            except asyncio.CancelledError:
                if not self.done:
                    raise
            finally:
                for w in workers:
                    w.cancel()
                await asyncio.gather(*workers, return_exceptions=True)
        self.stats.seconds = time.monotonic() - started
        return self.tasks

    async def _worker(self, tree: Path, python: str, baseline: Baseline, api: dict[str, str]) -> None:
        while (m := self._next()) is not None:
            target = tree / m.path
            original = target.read_bytes()
            target.write_bytes(m.apply(original))
            try:
                run = await run_suite(self.lib, tree, python, timeout=self.timeout)
                f2p, why = judge(baseline, run, self.options.max_f2p)
                record = None
                if not why:
                    record, why = await self._record(m, tree, baseline, run, f2p, api)
            finally:
                target.write_bytes(original)
            if record is None:
                self.stats.rejected[why] += 1
                continue
            if len(self.tasks) >= self.options.count or (m.path, m.function) in self.used_functions:
                continue
            self.used_functions.add((m.path, m.function))
            self.tasks.append(record)
            self.stats.kept += 1
            self.log(f"  kept {record['id']}: {m.operator} in {m.path}:{m.line} breaks {len(f2p)} test(s)")
            if self.done:  # stop the other workers' runs: they can only be surplus now
                for w in self.workers:
                    if w is not asyncio.current_task():
                        w.cancel()

    async def _record(
        self, m: Mutation, tree: Path, baseline: Baseline, run: SuiteRun, f2p: list[str], api: dict[str, str]
    ) -> tuple[dict[str, Any] | None, str]:
        files = sorted({test_file(t) for t in f2p})
        p2p = pass_to_pass(baseline, run, f2p, self.options.max_p2p)
        # once more, on the judged files only: a bug whose failures come and go (randomness,
        # timing) would make a task that no fix can reliably resolve
        again = await run_suite(self.lib, tree, self.python, paths=tuple(files), timeout=self.timeout)
        if not again.ok or not set(f2p) <= again.failing() or not set(p2p) <= again.passing():
            return None, "the bug's failures are not repeatable"
        bug_patch = diff(tree)
        gold_patch = diff(tree, reverse=True)
        sources = {f: (tree / f).read_text(encoding="utf-8", errors="replace") for f in files}
        statement = write_statement(
            library=self.lib.name,
            version=self.lib.version,
            failures=[Failure(t, run.tests[t]) for t in f2p],
            test_sources=sources,
            api=api,
            tree=tree,
        )
        if leaked_lines(statement, gold_patch):
            return None, "the statement would show a changed line"
        task_id = f"builtin__{self.lib.name}-{m.key[:8]}"
        _, commit = await asyncio.to_thread(ensure_task_repo, self.lib, task_id, bug_patch, cache=self.cache)
        return {
            "id": task_id,
            "library": self.lib.name,
            "version": self.lib.version,
            "base_commit": commit,
            "problem_statement": statement,
            "bug_patch": bug_patch,
            "gold_patch": gold_patch,
            "FAIL_TO_PASS": f2p,
            "PASS_TO_PASS": p2p,
            "test_files": files,
            "test_command": self.lib.test_command,
            "mutation": {
                "operator": m.operator,
                "file": m.path,
                "line": m.line,
                "function": m.function,
                "description": m.description,
            },
            "generator": {"tool": GENERATOR, "seed": self.options.seed},
        }, ""


async def generate(
    library: str | Library,
    options: Options | None = None,
    *,
    cache: Path | None = None,
    log: Callable[[str], None] = print,
) -> tuple[list[dict[str, Any]], Stats]:
    """Up to ``options.count`` new task records for ``library``, and what the run saw."""
    lib = library if isinstance(library, Library) else get_library(library)
    gen = Generator(lib, options or Options(), cache=cache, log=log)
    tasks = await gen.run()
    return tasks, gen.stats


async def restate(
    lib: Library, records: list[dict[str, Any]], *, python: str | None = None, cache: Path | None = None
) -> list[dict[str, Any]]:
    """The records with their problem statements written again (after the writer changed).

    Runs each task's FAIL_TO_PASS tests on its starting state to see how they fail now."""
    pristine = await asyncio.to_thread(pristine_tree, lib, cache)
    python = python or await library_python(lib, cache)
    api = library_api(pristine, lib.source_files)
    out: list[dict[str, Any]] = []
    for record in records:
        with tempfile.TemporaryDirectory(prefix=f"swerve-restate-{lib.name}-") as scratch:
            tree = Path(scratch) / "tree"
            shutil.copytree(pristine, tree, symlinks=True)
            apply_patch(tree, record["bug_patch"])
            run = await run_suite(lib, tree, python, paths=tuple(record["test_files"]))
            f2p = list(record["FAIL_TO_PASS"])
            missing = [t for t in f2p if run.tests.get(t, {}).get("outcome") not in ("failed", "error")]
            if missing:
                raise GenerationError(f"{record['id']}: {missing[0]} does not fail on the starting state")
            sources = {
                f: (tree / f).read_text(encoding="utf-8", errors="replace") for f in record["test_files"]
            }
            statement = write_statement(
                library=lib.name,
                version=lib.version,
                failures=[Failure(t, run.tests[t]) for t in f2p],
                test_sources=sources,
                api=api,
                tree=tree,
            )
        if leaked_lines(statement, record["gold_patch"]):
            raise GenerationError(f"{record['id']}: the new statement would show a changed line")
        out.append({**record, "problem_statement": statement})
    return out


def merge_into_suite(library: str, records: list[dict[str, Any]], data_dir: Path = DATA_DIR) -> int:
    """Add ``records`` to the stored suite of ``library`` (ids already there are skipped)."""
    lib = get_library(library)
    path = data_dir / f"{lib.name}.json"
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    tasks = list(data.get("tasks", []))
    have = {t["id"] for t in tasks}
    added = [r for r in records if r["id"] not in have]
    tasks += added
    out = {
        "library": lib.name,
        "version": lib.version,
        "sdist": lib.sdist,
        "sha256": lib.sha256,
        "tasks": tasks,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return len(added)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m swerve.tasks.builtin.generate",
        description="Make built-in tasks by injecting bugs into a pinned library and keeping those its tests catch.",
    )
    parser.add_argument("--library", required=True, help=f"one of: {', '.join(sorted(LIBRARIES))}")
    parser.add_argument("--count", type=int, default=5, help="tasks to make (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="order of the candidates (default 0)")
    parser.add_argument("--max-f2p", type=int, default=5, help="most tests a bug may break (default 5)")
    parser.add_argument("--max-p2p", type=int, default=300, help="most PASS_TO_PASS tests kept (default 300)")
    parser.add_argument("--max-tries", type=int, default=300, help="most candidates to try (default 300)")
    parser.add_argument("--workers", type=int, default=2, help="suites run at once (default 2)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per suite run (default 120)")
    parser.add_argument("--operators", default=",".join(OPERATORS), help="comma-separated mutation operators")
    parser.add_argument("--out", default="-", help="JSON file for the new tasks ('-': stdout)")
    parser.add_argument(
        "--add-to-suite", action="store_true", help="also add them to the package's stored suite"
    )
    parser.add_argument(
        "--restate",
        metavar="FILE",
        help="instead: write the problem statements of the tasks in FILE again, in place",
    )
    args = parser.parse_args(argv)
    if args.restate:
        return _restate_file(args.library, Path(args.restate))
    operators = tuple(o.strip() for o in args.operators.split(",") if o.strip())
    unknown = [o for o in operators if o not in OPERATORS]
    if unknown or args.count < 1 or args.workers < 1 or args.max_f2p < 1:
        what = (
            f"unknown operators {unknown} (known: {', '.join(OPERATORS)})"
            if unknown
            else "counts must be >= 1"
        )
        print(f"generate: {what}", file=sys.stderr)
        return 2
    options = Options(
        count=args.count,
        seed=args.seed,
        max_f2p=args.max_f2p,
        max_p2p=args.max_p2p,
        max_tries=args.max_tries,
        workers=args.workers,
        timeout_s=args.timeout,
        operators=operators,
    )

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        records, stats = asyncio.run(generate(args.library, options, log=log))
    except TaskError as exc:
        print(f"generate: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    rejected = ", ".join(f"{why}: {n}" for why, n in stats.rejected.most_common())
    log(
        f"tried {stats.tried}, kept {stats.kept} in {stats.seconds:.1f}s"
        + (f" (rejected: {rejected})" if rejected else "")
    )
    lib = get_library(args.library)
    payload = json.dumps(
        {"library": lib.name, "version": lib.version, "tasks": records}, indent=1, ensure_ascii=False
    )
    if args.out == "-":
        print(payload)
    else:
        Path(args.out).write_text(payload + "\n", encoding="utf-8")
        log(f"wrote {len(records)} task(s) to {args.out}")
    if args.add_to_suite:
        log(f"added {merge_into_suite(args.library, records)} task(s) to {DATA_DIR / (lib.name + '.json')}")
    return 0 if records else 1


def _restate_file(library: str, path: Path) -> int:
    try:
        lib = get_library(library)
        data = json.loads(path.read_text(encoding="utf-8"))
        records = [r for r in data["tasks"] if r.get("library") == lib.name]
        others = [r for r in data["tasks"] if r.get("library") != lib.name]
        new = asyncio.run(restate(lib, records))
    except (OSError, ValueError, KeyError, TaskError) as exc:
        print(f"generate: cannot restate {path}: {exc}", file=sys.stderr)
        return 1
    data["tasks"] = others + new
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"restated {len(new)} task(s) in {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

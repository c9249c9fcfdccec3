"""Generation for any project: candidates from each strategy, judged against the project's tests.

One run: build the test venv, run the suite twice on the pristine tree (flaky tests never used;
test files that do not collect are left out with a note), then judge candidates in turn from each
strategy in ``workers`` work trees at once, tests run without network (``unshare -rn``) when this
machine allows it. A candidate is a task when 1..``max_f2p`` stable tests fail, it touches no test
file, its failures repeat on a second run, it is not a duplicate (same diff or same failing
tests as a kept task) and its problem statement shows no line of the fix. Every verdict goes to the
state file at once, so a killed run picks up where it stopped.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from swerve.errors import TaskError
from swerve.tasks.generate import candidates as cands
from swerve.tasks.generate.core import (
    Baseline,
    GenerationError,
    diff,
    judge,
    make_work_tree,
    pass_to_pass,
    run_baseline,
    test_file,
)
from swerve.tasks.generate.dataset import commit_task, eval_script, task_repo, write_dataset
from swerve.tasks.generate.issue import Writer, choose
from swerve.tasks.generate.project import Project
from swerve.tasks.generate.runner import SuiteRun, run_suite
from swerve.tasks.generate.state import RunReport, RunState
from swerve.tasks.generate.statement import Failure, leaked_lines, library_api, write_statement
from swerve.tasks.model import EnvSpec

GENERATOR = "swerve.tasks.generate/1"


@dataclass
class Options:
    """What to make and how picky to be."""

    count: int = 10
    strategies: tuple[str, ...] = ("procedural", "combo")
    seed: int = 0
    max_f2p: int = 5
    max_p2p: int = 300
    max_tries: int = 500
    workers: int = 1
    timeout_s: float = 120.0
    python: str | None = None  # run the tests with this Python instead of building the venv
    offline: bool = True  # run the tests without network when the machine allows it
    statement_writer: Writer | None = None  # the model's issue writer; None: from the failing tests
    model: Any = None  # the configured model (swerve.models), for the model strategy
    history_repo: Path | None = None  # the checkout whose git history the history strategy mirrors


@dataclass
class Work:
    """What the workers share."""

    baseline: Baseline
    python: str
    api: dict[str, str]
    spec: EnvSpec
    repo: Path
    queue: list[cands.Candidate] = field(default_factory=list)
    seen_patches: set[str] = field(default_factory=set)
    seen_failures: set[frozenset[str]] = field(default_factory=set)
    used_functions: set[tuple[str, str]] = field(default_factory=set)


def network_wrapper(enabled: bool) -> tuple[str, ...]:
    """``unshare -rn`` when it works here (a new user and network namespace: no network)."""
    if not enabled or shutil.which("unshare") is None:
        return ()
    import subprocess

    ok = subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0
    return ("unshare", "-rn") if ok else ()


_NETWORK_WORDS = ("ConnectionError", "gaierror", "Network is unreachable", "NewConnectionError", "socket")


class Generator:
    """One run over one project."""

    def __init__(self, project: Project, options: Options, out: Path, *, log: Callable[[str], None] = print):
        self.project = project
        self.options = options
        self.out = out
        self.log = log
        self.report = RunReport(project=project.key)
        self.report.skipped += list(project.skipped)
        header = {"project": project.key, "origin": project.origin, "seed": options.seed}
        self.state = RunState(out.with_name(out.name + ".state.jsonl"), header)
        self.wrapper: tuple[str, ...] = ()
        self.timeout = options.timeout_s
        self.workers: list[asyncio.Task[None]] = []
        self.stopped = False

    @property
    def kept(self) -> int:
        return len(self.state.records())

    @property
    def done(self) -> bool:
        return self.kept >= self.options.count or self.report.tried >= self.options.max_tries

    # -- set-up -----------------------------------------------------------------------------------

    async def _baseline(self, trees: list[Path], python: str) -> Baseline:
        clock = time.monotonic()
        limit, wrapper = self.options.timeout_s, self.wrapper
        base = await run_baseline(
            self.project, trees, python, limit, wrapper=wrapper, tolerate_collect_errors=True
        )
        if base.run.collect_errors:
            bad = {e.get("nodeid", "").split("::")[0] for e in base.run.collect_errors}
            good = sorted({test_file(t) for t in base.run.tests} - bad)
            for path in sorted(bad):
                self.report.skipped.append(f"{path or '(a test path)'}: does not collect")
            if not good:
                raise GenerationError(f"{self.project.key}: no test file collects")
            from dataclasses import replace

            self.project = replace(self.project, test_paths=tuple(good))
            base = await run_baseline(self.project, trees, python, limit, wrapper=wrapper)
        # a bug that loops forever should not cost the full limit
        self.timeout = min(self.options.timeout_s, 15.0 + 4 * (time.monotonic() - clock))
        failing = base.run.failing()
        netty = [
            t for t in failing if any(w in str(base.run.tests[t].get("message", "")) for w in _NETWORK_WORDS)
        ]
        if netty:
            self.report.skipped.append(f"{len(netty)} test(s): need the network (never used)")
        if not base.stable_passing:
            why = "need the network" if netty else "fail"
            raise GenerationError(
                f"{self.project.key}: no test passes on the pristine tree ({len(failing)} {why})"
            )
        self.report.stable_tests, self.report.flaky_tests = len(base.stable_passing), len(base.flaky)
        if base.flaky:
            self.report.skipped.append(f"{len(base.flaky)} test(s): flaky on the pristine tree (never used)")
        return base

    def candidates(self, extra: dict[str, list[cands.Candidate]] | None = None) -> list[cands.Candidate]:
        """Every strategy's candidates, interleaved so that a short run still tries each."""
        tree, seed = self.project.tree, self.options.seed
        mutations = cands.all_mutations(tree, self.project.source_files)
        lists: dict[str, list[cands.Candidate]] = dict(extra or {})
        if "procedural" in self.options.strategies:
            lists["procedural"] = cands.procedural(mutations, seed)
        if "combo" in self.options.strategies:
            lists["combo"] = cands.combos(mutations, seed, self.options.max_tries)
        out: list[cands.Candidate] = []
        order = [s for s in self.options.strategies if lists.get(s)]
        while any(lists[s] for s in order):
            for s in order:
                if lists[s]:
                    out.append(lists[s].pop(0))
        return out

    async def _extra(self) -> dict[str, list[cands.Candidate]]:
        """The candidates of the history and model strategies (when asked for and possible)."""
        extra: dict[str, list[cands.Candidate]] = {}
        o = self.options
        if "history" in o.strategies:
            if o.history_repo is None:
                self.report.skipped.append("history strategy: needs --repo with its git history")
            else:
                from swerve.tasks.generate.history import history_candidates

                extra["history"] = await asyncio.to_thread(
                    history_candidates, o.history_repo, self.project, o.max_tries
                )
        if "model" in o.strategies:
            if o.model is None:
                self.report.skipped.append("model strategy: no model configured (--model)")
            else:
                extra["model"], unusable = await self._model_candidates()
                if unusable:
                    self.report.stats("model").rejected["model reply unusable"] += unusable
        return extra

    async def _model_candidates(self) -> tuple[list[cands.Candidate], int]:
        """The model's rewrites: asked once, then read back from the state on every later run."""
        from swerve.tasks.generate.rewrite import model_candidates

        saved = self.state.saved.get("model")
        if saved is not None:
            self.log(f"  {len(saved['candidates'])} model candidate(s) from an earlier run, not asked again")
            return [cands.Candidate.from_json(c) for c in saved["candidates"]], saved.get("unusable", 0)
        o = self.options
        limit = min(o.max_tries, 3 * o.count)
        found, unusable = await model_candidates(
            o.model, self.project.tree, self.project.source_files, o.seed, limit
        )
        self.state.save("model", [c.to_json() for c in found], unusable=unusable)
        return found, unusable

    async def run(self, *, extra: dict[str, list[cands.Candidate]] | None = None) -> list[dict[str, Any]]:
        """Make up to ``options.count`` tasks (counting those of an earlier run of this state)."""
        from swerve.tasks.generate.fetch import compile_pins, env_spec_for, project_python

        started = time.monotonic()
        earlier = self.state.load()
        self.report.resumed = len(earlier)
        for entry in earlier.values():
            stats = self.report.stats(entry.get("strategy", "?"))
            stats.tried += 1
            stats.valid += bool(entry.get("record"))
            if not entry.get("record"):
                stats.rejected[entry.get("why", "?")] += 1
        self.wrapper = network_wrapper(self.options.offline)
        if self.options.python:
            python = self.options.python
            spec = env_spec_for(self.project, await asyncio.to_thread(compile_pins, self.project))
        else:
            python, spec = await project_python(self.project)
        repo = task_repo(self.out, self.project)
        with tempfile.TemporaryDirectory(prefix=f"swerve-gen-{self.project.name}-") as scratch:
            trees = [
                await asyncio.to_thread(make_work_tree, self.project.tree, Path(scratch) / f"w{i}")
                for i in range(max(1, self.options.workers))
            ]
            baseline = await self._baseline(trees, python)
            api = library_api(self.project.tree, self.project.source_files)
            work = Work(baseline, python, api, spec, repo)
            extra = {**(await self._extra()), **(extra or {})}
            for record in self.state.records():
                self._remember(work, record)
            work.queue = [c for c in self.candidates(extra) if c.key not in earlier]
            self.log(
                f"{self.project.key}: {len(baseline.stable_passing)} stable tests, {len(work.queue)} candidates"
                + (f", {self.kept} task(s) from an earlier run" if self.kept else "")
            )
            self.workers = [asyncio.create_task(self._worker(tree, work)) for tree in trees]
            try:
                await asyncio.gather(*self.workers)
            except asyncio.CancelledError:
                if not self.stopped:
                    raise
            finally:
                for w in self.workers:
                    w.cancel()
                await asyncio.gather(*self.workers, return_exceptions=True)
                self.report.seconds += time.monotonic() - started
                write_dataset(self.out, self.state.records())
                self.report.write(self.out.with_name(self.out.name + ".report.json"))
        return self.state.records()

    def _remember(self, work: Work, record: dict[str, Any]) -> None:
        work.seen_patches.add(hashlib.sha256(record["patch"].encode()).hexdigest())
        work.seen_failures.add(frozenset(record["FAIL_TO_PASS"]))
        gen = record.get("generator") or {}
        work.used_functions.add((gen.get("strategy", ""), gen.get("function", "")))

    # -- judging ----------------------------------------------------------------------------------

    def _next(self, work: Work) -> cands.Candidate | None:
        while work.queue and not self.done:
            cand = work.queue.pop(0)
            if cand.function and (cand.strategy, cand.function) in work.used_functions:
                continue
            self.report.stats(cand.strategy).tried += 1
            return cand
        return None

    async def _worker(self, tree: Path, work: Work) -> None:
        while (cand := self._next(work)) is not None:
            clock = time.monotonic()
            why = ""
            record: dict[str, Any] | None = None
            if any(self.project.is_test_file(p) for p in cand.paths):
                why = "touches a test file"
            else:
                try:
                    originals = await asyncio.to_thread(cands.apply_candidate, tree, cand)
                except (OSError, TaskError) as exc:  # a patch that no longer applies
                    originals, why = {}, f"does not apply ({exc.__class__.__name__})"
                try:
                    if not why:
                        record, why = await self._judge(cand, tree, work)
                finally:
                    cands.restore(tree, originals)
            stats = self.report.stats(cand.strategy)
            stats.seconds += time.monotonic() - clock
            if record is not None and self.kept >= self.options.count:
                record, why = None, "surplus"
            entry: dict[str, Any] = {
                "key": cand.key,
                "strategy": cand.strategy,
                "seconds": round(time.monotonic() - clock, 2),
            }
            if record is None:
                stats.rejected[why] += 1
                entry["why"] = why
            else:
                stats.valid += 1
                entry["record"] = record
                self._remember(work, record)
                self.log(f"  kept {record['instance_id']} ({cand.strategy}: {cand.description[:70]})")
            self.state.append(entry)
            if self.kept >= self.options.count:
                self.stopped = True
                for w in self.workers:
                    if w is not asyncio.current_task():
                        w.cancel()

    async def _judge(
        self, cand: cands.Candidate, tree: Path, work: Work
    ) -> tuple[dict[str, Any] | None, str]:
        run = await run_suite(self.project, tree, work.python, timeout=self.timeout, wrapper=self.wrapper)
        f2p, why = judge(work.baseline, run, self.options.max_f2p)
        if why:
            return None, why
        gold = diff(tree, reverse=True)
        if hashlib.sha256(gold.encode()).hexdigest() in work.seen_patches:
            return None, "duplicate diff"
        if frozenset(f2p) in work.seen_failures:
            return None, "duplicate failing tests"
        files = sorted({test_file(t) for t in f2p})
        p2p = pass_to_pass(work.baseline, run, f2p, self.options.max_p2p)
        # once more on the judged files: failures that come and go make a task no fix resolves
        again = await run_suite(self.project, tree, work.python, paths=tuple(files), timeout=self.timeout, wrapper=self.wrapper)  # fmt: skip
        if not again.ok or not set(f2p) <= again.failing() or not set(p2p) <= again.passing():
            return None, "failures not repeatable"
        statement, writer = await self._statement(run, f2p, files, tree, work, gold)
        if leaked_lines(statement, gold):
            return None, "statement shows a line of the fix"
        iid = f"{self.project.name}__{self.project.name}-{self.project.version}-{cand.key}"
        message = f"{self.project.name} {self.project.version}\n"
        commit = await asyncio.to_thread(commit_task, work.repo, tree, iid, message)
        record = self._record(cand, iid, commit, gold, statement, f2p, p2p, files, work)
        record["generator"]["statement"] = writer
        return record, ""

    async def _statement(
        self, run: SuiteRun, f2p: list[str], files: list[str], tree: Path, work: Work, gold: str
    ) -> tuple[str, str]:
        """(the problem statement, who wrote it: "model" or "fallback")."""
        failures = [Failure(t, run.tests[t]) for t in f2p]
        sources = {f: (tree / f).read_text(encoding="utf-8", errors="replace") for f in files}
        fallback = write_statement(
            library=self.project.name,
            version=self.project.version,
            failures=failures,
            test_sources=sources,
            api=work.api,
            tree=tree,
        )
        writer = self.options.statement_writer
        if writer is None:
            return fallback, "fallback"
        evidence = {"project": self.project.name, "version": self.project.version, "fallback": fallback}
        try:
            text = await writer(evidence)
        except Exception as exc:  # a model that fails costs the task its better statement only
            self.log(f"  the model's statement failed ({exc.__class__.__name__}: {exc}); using the fallback")
            return fallback, "fallback"
        return choose(text, fallback, gold)

    def _record(
        self,
        cand: cands.Candidate,
        iid: str,
        commit: str,
        gold: str,
        statement: str,
        f2p: list[str],
        p2p: list[str],
        files: list[str],
        work: Work,
    ) -> dict[str, Any]:
        p = self.project
        return {
            "instance_id": iid,
            "repo": p.repo,
            "base_commit": commit,
            "patch": gold,
            "test_patch": "",
            "problem_statement": statement,
            "hints_text": "",
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "version": p.version,
            "environment_setup_commit": commit,
            "FAIL_TO_PASS": f2p,
            "PASS_TO_PASS": p2p,
            "eval_script": eval_script(p.test_command, files, commit),
            "environment": {
                "python": work.spec.python,
                "pins": list(work.spec.pins),
                "install": list(work.spec.install),
            },
            "source": {"kind": "git", "location": f"{work.repo.parent.name}/{work.repo.name}"},
            "generator": {
                "tool": GENERATOR,
                "seed": self.options.seed,
                "strategy": cand.strategy,
                "function": cand.function,
                **cand.info(),
            },
        }

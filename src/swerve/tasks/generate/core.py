"""The generator's judgement, shared by the built-in suite and ``swerve tasks generate``.

A baseline is two runs of the whole suite on the pristine tree; tests whose outcome differs are
flaky and never used. A candidate bug is kept when the suite still collects, nothing times out and
between 1 and ``max_f2p`` stable tests fail (FAIL_TO_PASS); PASS_TO_PASS are the other stable
tests of the same files that still pass.
"""

from __future__ import annotations

import asyncio
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

from swerve.errors import TaskError
from swerve.tasks.generate.gitops import commit_tree, git, git_env
from swerve.tasks.generate.mutate import Mutation
from swerve.tasks.generate.runner import PASSING, SuiteRun, Tested, run_suite


class GenerationError(TaskError):
    """Generation cannot start (the pristine suite does not run cleanly, no venv, ...)."""


@dataclass
class Baseline:
    """The pristine suite: tests that passed in both runs, and those whose outcome moved."""

    run: SuiteRun
    stable_passing: set[str]
    flaky: set[str]


def make_work_tree(pristine: Path, dest: Path) -> Path:
    """A scratch copy of the pristine tree, committed, so that edits show as ``git diff``."""
    shutil.copytree(pristine, dest, symlinks=True)
    git(["init", "--quiet", str(dest)])
    git(["symbolic-ref", "HEAD", "refs/heads/main"], cwd=dest)
    commit_tree(dest, dest / ".git", "pristine\n")
    return dest


def diff(tree: Path, *, reverse: bool = False) -> str:
    # -R swaps the prefixes too; swapping them first keeps the usual "a/... b/..." headers
    flip = ["-R", "--src-prefix=b/", "--dst-prefix=a/"] if reverse else []
    args = ["diff", "--no-color", "--no-ext-diff", *flip]
    return git(args, cwd=tree, env=git_env())


async def run_baseline(
    lib: Tested,
    trees: list[Path],
    python: str,
    timeout: float,
    *,
    wrapper: tuple[str, ...] = (),
    tolerate_collect_errors: bool = False,
) -> Baseline:
    """Two runs of the whole suite on the pristine tree (in two trees at once when there are two)."""
    first_tree, second_tree = trees[0], trees[-1]
    runs = await asyncio.gather(
        run_suite(lib, first_tree, python, timeout=timeout * 3, wrapper=wrapper),
        run_suite(lib, second_tree, python, timeout=timeout * 3, wrapper=wrapper),
    )
    for run in runs:
        if tolerate_collect_errors and run.tests and not run.timed_out:
            continue
        if not run.ok:
            why = (
                f"took longer than {timeout * 3:.0f}s"
                if run.timed_out
                else f"collection errors: {run.collect_errors[:1]}"
            )
            if not run.tests and not run.timed_out:
                why = f"no tests ran: {run.output_tail[-600:]}"
            raise GenerationError(f"the pristine {lib.key} suite does not run cleanly ({why})")
    a, b = runs
    flaky = {
        t
        for t in set(a.tests) | set(b.tests)
        if a.tests.get(t, {}).get("outcome") != b.tests.get(t, {}).get("outcome")
    }
    stable = (a.passing() & b.passing()) - flaky
    return Baseline(a, stable, flaky)


def order_candidates(mutations: list[Mutation], seed: int) -> list[Mutation]:
    """A seeded order that alternates between operators, so a short run still gets variety."""
    rng = random.Random(seed)
    by_op: dict[str, list[Mutation]] = {}
    for m in mutations:
        by_op.setdefault(m.operator, []).append(m)
    for group in by_op.values():
        rng.shuffle(group)
    ops = sorted(by_op)
    rng.shuffle(ops)
    out: list[Mutation] = []
    while any(by_op[o] for o in ops):
        for o in ops:
            if by_op[o]:
                out.append(by_op[o].pop())
    return out


def spread(items: list[str], limit: int) -> list[str]:
    if len(items) <= limit:
        return items
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def test_file(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def judge(baseline: Baseline, run: SuiteRun, max_f2p: int) -> tuple[list[str], str]:
    """(FAIL_TO_PASS, "") for a usable mutant, or ([], why not)."""
    if run.timed_out:
        return [], "timed out"
    if run.collect_errors:
        return [], "tests no longer collect"
    if set(baseline.run.tests) - set(run.tests):
        return [], "tests vanished"
    broken = sorted(t for t in baseline.stable_passing if run.tests[t]["outcome"] in ("failed", "error"))
    if not broken:
        return [], "no test broke"
    if len(broken) > max_f2p:
        return [], "too many tests broke"
    if any(any(c.isspace() for c in t) for t in broken):
        return [], "a broken test's id has spaces"
    return broken, ""


def pass_to_pass(baseline: Baseline, run: SuiteRun, f2p: list[str], limit: int) -> list[str]:
    files = {test_file(t) for t in f2p}
    keep = sorted(
        t
        for t in baseline.stable_passing
        if test_file(t) in files
        and t not in f2p
        and run.tests.get(t, {}).get("outcome") in PASSING
        and not any(c.isspace() for c in t)
    )
    return spread(keep, limit)

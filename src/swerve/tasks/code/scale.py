"""Test scaling: many new inputs per task, expected values from the reference, a strong subset kept.

For each function task: its original tests (for HumanEval, the calls its check makes), then new
inputs (``inputs``: hypothesis, boundary, mutated, model-proposed), deduplicated. The reference
runs on all of them three times, each time in a fresh sandboxed server (so a fresh hash seed);
an input stays only when the three answers agree and none raised, timed out or ran out of memory.
Then every first-order mutant of the reference (``mutants_of``) runs on the survivors, and a greedy
pass picks, after the original tests, the input that kills the most mutants not yet killed, until
no pick kills more; ``breadth`` more are added round-robin over the kinds. What is not picked is
kept as held-out tests (``heldout.jsonl``) for auditing. Every test records how it was made.

A task is skipped, with its reason, when its reference fails its own tests, answers its original
tests differently from run to run, has no entry point, or its inputs cannot be generated in time.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from swerve.tasks.code import inputs as gen
from swerve.tasks.code.codec import Unencodable, encode
from swerve.tasks.code.grading import expected_of, original_tests, tests_job
from swerve.tasks.code.model import CodeTask, IOTest
from swerve.tasks.code.rewardbench import mutants_of
from swerve.tasks.code.verifier import Verifier, VerifyLimits, judge, outcome_key, values_equal

Propose = Callable[[CodeTask, int], Awaitable[str]]  # a model: (task, how many) -> one tuple a line
CHUNK = 64  # inputs per reference job: a timeout loses at most this many


@dataclass
class ScaleOptions:
    hypothesis: int = 150  # inputs drawn from strategies, per task
    max_inputs: int = 400  # candidate inputs per task, after deduplication
    breadth: int = 10  # tests added beyond the greedy picks, round-robin over kinds
    max_tests: int = 60  # generated tests kept per task at most
    runs: int = 3  # reference runs that must agree
    mutants: int = 40  # first-order mutants per task used to pick tests
    generate_s: float = 30.0  # seconds a task's input generation may take
    max_output_bytes: int = 20_000  # an expected value larger than this is not a good test
    limits: VerifyLimits = field(default_factory=lambda: VerifyLimits(test_s=1.0, load_s=5.0))
    propose: Propose | None = None
    propose_count: int = 10
    model_name: str = ""
    slow_ms: float = 50.0  # a new input the reference needs longer for is dropped (rewards stay fast)
    chunk_s: float = 8.0  # wall seconds for the reference on one chunk of new inputs
    propose_s: float = 120.0  # seconds a model may take to propose a task's inputs


@dataclass
class Scaled:
    """What scaling one dataset gave."""

    tasks: list[CodeTask] = field(default_factory=list)
    heldout: dict[str, list[IOTest]] = field(default_factory=dict)
    provenance: list[dict[str, Any]] = field(default_factory=list)
    mutants: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)


def _key(args: Any) -> str:
    return json.dumps(args, sort_keys=True)


def candidate_inputs(
    task: CodeTask, options: ScaleOptions, proposed: str = "", deadline: float = math.inf
) -> tuple[list[tuple[Any, str, str]], str]:
    """(encoded args, origin, note) of new inputs, deduplicated against the originals; or a reason.
    For a program (stdin/stdout) task the inputs are stdin texts in its examples' layout."""
    if task.contract == "stdio":
        from swerve.tasks.code.textinputs import stdin_inputs

        texts = [t.args for t in task.tests if isinstance(t.args, str)]
        if not texts:
            return [], "it has no example inputs to take a layout from"
        seen_texts = set(texts)
        fresh = []
        for text, origin, note in stdin_inputs(texts, options.hypothesis):
            if text not in seen_texts:
                seen_texts.add(text)
                fresh.append((text, origin, note))
        return fresh[: options.max_inputs], ""
    examples = [gen_args for gen_args in (_decode_args(t) for t in task.tests) if gen_args is not None]
    shapes = gen.shapes_of(examples, task.reference, task.entry_point)
    if shapes is None:
        return [], "its examples disagree on the number of arguments"
    made: list[gen.Made] = []
    made += gen.boundary_inputs(shapes, examples)
    made += gen.mutated_inputs(examples)
    made += gen.hypothesis_inputs(shapes, options.hypothesis, deadline)
    if time.monotonic() > deadline:  # the drawing stopped at the deadline: the task is skipped
        return [], f"generating inputs took longer than {options.generate_s:g} s"
    if proposed:
        made += gen.proposed_inputs(proposed, len(shapes), options.model_name or "the model")
    seen = {_key(t.args) for t in task.tests}
    out = []
    for args, origin, note in made:
        if len(args) != len(shapes) or not gen.in_domain(args, shapes, examples):
            continue
        try:
            encoded = encode(args)
        except (Unencodable, RecursionError):
            continue
        key = _key(encoded)
        if key not in seen:
            seen.add(key)
            out.append((encoded, origin, note))
    return out[: options.max_inputs], ""


def _in_daemon_thread(fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
    """``fn(*args)`` in a daemon thread: a generator that never returns cannot hold up the exit."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(value: Any, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)

    def work() -> None:
        try:
            value, error = fn(*args), None
        except BaseException as exc:
            value, error = None, exc
        try:
            loop.call_soon_threadsafe(settle, value, error)
        except RuntimeError:  # the loop is gone
            pass

    threading.Thread(target=work, daemon=True).start()
    return future


def _decode_args(test: IOTest) -> list[Any] | None:
    from swerve.tasks.code.codec import decode

    try:
        value = decode(test.args)
    except (ValueError, TypeError, KeyError):
        return None
    return value if isinstance(value, list) else None


async def _reference_runs(
    verifier: Verifier, task: CodeTask, encoded: list[Any], n_original: int, options: ScaleOptions
) -> list[list[Any] | None]:
    """Per input, the reference's outputs in each run (None where a run did not answer). The
    original inputs go in chunks of their own; a chunk of new ones has ``chunk_s`` in all, so
    inputs the reference is slow on are dropped rather than waited for."""
    spans = [(i, min(i + CHUNK, n_original)) for i in range(0, n_original, CHUNK)]
    spans += [(i, min(i + CHUNK, len(encoded))) for i in range(n_original, len(encoded), CHUNK)]
    quick = replace(options.limits, total_s=options.chunk_s)
    answers: list[list[Any] | None] = [[] for _ in encoded]
    for _ in range(options.runs):
        jobs = [
            tests_job(task, task.reference, encoded[a:b], options.limits if a < n_original else quick)
            for a, b in spans
        ]
        results = await verifier.run(jobs)  # each run is a new batch: a new server, a new hash seed
        for (a, b), result in zip(spans, results, strict=True):
            verdict = judge(result, None, keep=True)
            times = [m.get("ms", 0.0) for m in result["messages"] if "i" in m]
            for n in range(a, b):
                got = answers[n]
                if got is None:
                    continue
                slow = n >= n_original and n - a < len(times) and times[n - a] > options.slow_ms
                if n - a < len(verdict.outputs) and not slow:
                    got.append(verdict.outputs[n - a])
                else:
                    answers[n] = None
    return answers


def _stable(outputs: list[Any] | None) -> bool:
    if not outputs or outputs[0].__class__.__name__ == "_Raised":
        return False
    return all(outcome_key(o) == outcome_key(outputs[0]) and values_equal(outputs[0], o) for o in outputs[1:])


async def scale_task(verifier: Verifier, task: CodeTask, options: ScaleOptions, out: Scaled) -> None:
    """Scale one task (its original tests already in ``task.tests``) into ``out``."""
    proposed = ""
    if options.propose is not None:
        try:
            proposed = await asyncio.wait_for(options.propose(task, options.propose_count), options.propose_s)
        except Exception as exc:  # a model that fails costs its own inputs only
            out.notes.setdefault(task.id, []).append(
                f"the model proposed nothing: {type(exc).__name__}: {exc}"
            )
    deadline = time.monotonic() + options.generate_s
    try:
        made, reason = await asyncio.wait_for(
            _in_daemon_thread(candidate_inputs, task, options, proposed, deadline), options.generate_s
        )
    except TimeoutError:
        out.skipped[task.id] = f"generating inputs took longer than {options.generate_s:g} s"
        return
    if reason:
        out.skipped[task.id] = reason
        return
    originals = [t.args for t in task.tests]
    runs = await _reference_runs(verifier, task, [*originals, *(m[0] for m in made)], len(originals), options)
    expected = expected_of(task)
    for n in range(len(task.tests)):
        first = runs[n]
        if not first or not _stable(first) or not values_equal(expected[n], first[0]):
            out.skipped[task.id] = (
                f"the reference is not deterministic on its own test {n + 1}"
                if first and first[0].__class__.__name__ != "_Raised" and not _stable(first)
                else f"the reference fails its own test {n + 1}"
            )
            return
    kept: list[IOTest] = []
    dropped = {"unstable": 0, "raised, slow or timed out": 0, "too large": 0}
    for (args, origin, note), outputs in zip(made, runs[len(originals) :], strict=True):
        if not outputs or any(o.__class__.__name__ == "_Raised" for o in outputs):
            dropped["raised, slow or timed out"] += 1
        elif not _stable(outputs):
            dropped["unstable"] += 1
        else:
            value = encode(outputs[0])
            if len(json.dumps(value)) > options.max_output_bytes:
                dropped["too large"] += 1
            else:
                kept.append(IOTest(args, value, origin, note))
    await _select(verifier, task, kept, options, out, dropped)


async def _select(
    verifier: Verifier, task: CodeTask, kept: list[IOTest], options: ScaleOptions, out: Scaled, dropped: dict
) -> None:
    suite = [*task.tests, *kept]
    mutants = mutants_of(task, options.mutants)
    limits = VerifyLimits(test_s=min(0.5, options.limits.test_s), load_s=2.0, total_s=options.chunk_s / 2)
    jobs = [tests_job(task, program, [t.args for t in suite], limits) for _, program in mutants]
    results = await verifier.run(jobs)
    expected = expected_of(task, suite)
    kills: list[set[int]] = []  # per mutant: the tests that kill it
    for result in results:
        verdict = judge(result, expected, keep=True)
        killed = {i for i, got in enumerate(verdict.outputs) if not values_equal(expected[i], got)}
        if len(verdict.outputs) < len(suite):  # it stopped (hung, crashed) at the first unreported test
            killed.add(len(verdict.outputs))
        kills.append(killed)
    n_orig = len(task.tests)
    by_original = {m for m, k in enumerate(kills) if any(i < n_orig for i in k)}
    killable = {m for m, k in enumerate(kills) if k}
    chosen: list[int] = []
    why: dict[int, str] = {}
    covered = set(by_original)
    while len(chosen) < options.max_tests:
        gains = {
            i: sum(1 for m in killable - covered if i in kills[m])
            for i in range(n_orig, len(suite))
            if i not in why
        }
        best = max(gains, key=lambda i: (gains[i], -i), default=None)
        if best is None or gains[best] == 0:
            break
        chosen.append(best)
        why[best] = f"kills {gains[best]} mutant(s) no earlier test kills"
        covered |= {m for m in killable if best in kills[m]}
    by_origin: dict[str, list[int]] = {}
    for i in range(n_orig, len(suite)):
        if i not in why:
            by_origin.setdefault(suite[i].origin, []).append(i)
    extra = 0
    while extra < options.breadth and any(by_origin.values()) and len(chosen) < options.max_tests:
        for queue in by_origin.values():
            if queue and extra < options.breadth:
                i = queue.pop(len(queue) // 2)
                chosen.append(i)
                why[i] = "breadth: one more of its kind"
                extra += 1
    chosen.sort()
    scaled = CodeTask(
        id=task.id, prompt=task.prompt, entry_point=task.entry_point, reference=task.reference,
        tests=[*task.tests, *(suite[i] for i in chosen)], check=task.check, contract=task.contract,
        source="scaled", metadata={**task.metadata, "scaled_from": task.source},
    )  # fmt: skip
    out.tasks.append(scaled)
    out.heldout[task.id] = [suite[i] for i in range(n_orig, len(suite)) if i not in why]
    for i, test in enumerate(suite):
        out.provenance.append({
            "task_id": task.id, "test": i, "origin": test.origin, "note": test.note,
            "kept": i < n_orig or i in why, "why": "an original test" if i < n_orig else why.get(i, "held out"),
            "mutants_killed": sum(1 for k in kills if i in k),
        })  # fmt: skip
    out.mutants[task.id] = [
        {"mutant": desc, "killed_by_original": m in by_original, "killed_by_pool": bool(kills[m])}
        for m, (desc, _) in enumerate(mutants)
    ]
    origins: dict[str, int] = {}
    for test in kept:
        origins[test.origin] = origins.get(test.origin, 0) + 1
    out.stats[task.id] = {
        "original_tests": n_orig, "inputs_kept": len(kept), "dropped": dropped, "kept_by_origin": origins,
        "selected": len(chosen), "mutants": len(mutants), "killed_by_original": len(by_original),
        "killed_by_selected": len({m for m in killable if kills[m] & (set(range(n_orig)) | set(chosen))}),
        "killed_by_pool": len(killable),
    }  # fmt: skip


async def scale_tasks(
    verifier: Verifier,
    tasks: Sequence[CodeTask],
    options: ScaleOptions,
    on_task: Callable[[str, str], None] | None = None,
) -> Scaled:
    """Scale every task; one that cannot be scaled is skipped with its reason, the rest go on."""
    out = Scaled()
    ready: list[CodeTask] = []
    for task in tasks:
        if not task.tests and not task.check:
            out.skipped[task.id] = "it has no tests to start from"
        elif task.contract == "stdio":
            ready.append(task)
        elif gen.shapes_of([], task.reference, task.entry_point) is None:
            out.skipped[task.id] = f"its reference defines no function {task.entry_point!r} (the entry point)"
        else:
            ready.append(task)
    traced = await original_tests(verifier, [t for t in ready if not t.tests])
    for task in ready:
        got = traced.get(task.id, task.tests)
        if isinstance(got, str):
            out.skipped[task.id] = got
            continue
        if not got:
            out.skipped[task.id] = "its check calls the function with nothing recordable"
            continue
        task = CodeTask(**{**task.__dict__, "tests": list(got)})
        try:
            await scale_task(verifier, task, options, out)
        except Exception as exc:  # one task's failure is its own
            out.skipped[task.id] = f"scaling failed: {type(exc).__name__}: {exc}"
        if on_task:
            on_task(task.id, out.skipped.get(task.id, "scaled"))
    return out

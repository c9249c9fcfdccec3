"""``swerve tasks scale-tests`` and ``swerve tasks strength``: more tests, picked by mutants killed,
measured against the original ones; bad tasks are skipped with their reasons, the rest go on."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from swerve.tasks.code import CodeTask, IOTest, load_code_tasks
from swerve.tasks.code.codec import encode
from swerve.tasks.code.grading import grade
from swerve.tasks.code.scale import ScaleOptions, scale_tasks
from swerve.tasks.code.scaledir import read_heldout, write_scaled
from swerve.tasks.code.strength import measure_strength
from swerve.tasks.code.verifier import Verifier

SRC = str(Path(__file__).resolve().parents[3] / "src")
VOWELS = '''def count_vowels(s: str) -> int:
    n = 0
    for c in s.lower():
        if c in "aeiou":
            n += 1
    return n
'''


def io(args: list, value: object) -> IOTest:
    return IOTest(encode(args), encode(value))


def tasks() -> list[CodeTask]:
    good = CodeTask("t/good", "def count_vowels(s: str) -> int:\n", "count_vowels", VOWELS,
                    tests=[io(["abc"], 1), io(["AEx"], 2)])  # fmt: skip
    wrong = CodeTask("t/fails", "", "f", "def f(x):\n    return x + 1\n", tests=[io([1], 3)])
    shaky = CodeTask("t/random", "", "f", "import random\ndef f(x):\n    return x + random.random()\n",
                     tests=[io([1], 1.5)])  # fmt: skip
    absent = CodeTask("t/absent", "", "g", "def f(x):\n    return x\n", tests=[io([1], 1)])
    stdio = CodeTask("t/stdio", "", "", "print(input())\n", tests=[IOTest("a\n", "a\n")], contract="stdio")
    return [wrong, good, shaky, absent, stdio]


def run(coro_fn):
    async def go():
        async with Verifier(workers=2) as verifier:
            return await coro_fn(verifier)

    return asyncio.run(go())


def test_scaling_skips_bad_tasks_with_reasons_and_keeps_the_rest(tmp_path, namespaces):
    scaled = run(lambda v: scale_tasks(v, tasks(), ScaleOptions(hypothesis=60)))
    assert [t.id for t in scaled.tasks] == ["t/good", "t/stdio"]
    assert scaled.skipped["t/fails"] == "the reference fails its own test 1"
    assert scaled.skipped["t/random"] == "the reference is not deterministic on its own test 1"
    assert "defines no function 'g'" in scaled.skipped["t/absent"]
    good = scaled.tasks[0]
    stats = scaled.stats["t/good"]
    assert good.tests[:2] == tasks()[1].tests  # the original tests come first, unchanged
    assert len(good.tests) > 2 and stats["selected"] == len(good.tests) - 2
    assert stats["killed_by_selected"] >= stats["killed_by_original"] and stats["mutants"] > 0
    origins = {t.origin for t in good.tests[2:]} | {t.origin for t in scaled.heldout["t/good"]}
    assert {"hypothesis", "boundary", "mutated"} <= origins
    records = [p for p in scaled.provenance if p["task_id"] == "t/good"]
    assert len(records) == 2 + stats["inputs_kept"] and all(r["why"] for r in records)
    assert sum(r["kept"] for r in records) == len(good.tests)


SUM_MAX = "n = int(input())\nxs = list(map(int, input().split()))\nprint(sum(xs), max(xs))\n"
# right on the three examples: the largest of the first and the last
ENDS = "n = int(input())\nxs = list(map(int, input().split()))\nprint(sum(xs), max(xs[0], xs[-1]))\n"


def test_program_tasks_scale_in_their_examples_layout(tmp_path, namespaces):
    examples = [("3\n1 2 3\n", "6 3\n"), ("2\n5 -1\n", "4 5\n"), ("1\n7\n", "7 7\n")]
    task = CodeTask("t/summax", "", "", SUM_MAX, tests=[IOTest(a, e) for a, e in examples], contract="stdio")
    scaled = run(lambda v: scale_tasks(v, [task], ScaleOptions(hypothesis=40)))
    (done,) = scaled.tasks
    assert done.tests[:3] == task.tests and len(done.tests) > 3, scaled.stats
    new = done.tests[3:] + scaled.heldout["t/summax"]
    assert {"mutated", "boundary", "random"} <= {t.origin for t in new}
    for t in new:  # the count on the first line still counts the numbers on the second
        count, numbers = t.args.splitlines()
        assert int(count) == len(numbers.split()), t.args
    stats = scaled.stats["t/summax"]
    assert stats["killed_by_selected"] >= stats["killed_by_original"] and stats["mutants"] > 0

    async def judged(verifier):
        return await grade(verifier, [(task, ENDS), (done, ENDS), (done, SUM_MAX)])

    on_original, on_scaled, reference = run(judged)
    assert on_original.passed and not on_scaled.passed and reference.passed
    write_scaled(scaled, tmp_path / "out", {})  # the folder reads back, held-out texts included
    assert read_heldout(tmp_path / "out")["t/summax"] == scaled.heldout["t/summax"]
    assert load_code_tasks(str(tmp_path / "out"))[0].tests == done.tests


def test_a_generator_that_does_not_finish_in_time_skips_its_task(namespaces):
    options = ScaleOptions(hypothesis=10**6, generate_s=0.01)
    scaled = run(lambda v: scale_tasks(v, tasks()[1:2], options))
    assert scaled.tasks == [] and "generating inputs took longer" in scaled.skipped["t/good"]


def test_model_proposals_become_tests_and_a_hung_model_costs_only_its_inputs(namespaces):
    async def propose(task, count):
        return '("aeiouAEIOU",)\n("rhythm",)\nnot a tuple\n(1, 2)\n'

    async def hang(task, count):
        await asyncio.Event().wait()

    scaled = run(lambda v: scale_tasks(v, tasks()[1:2], ScaleOptions(hypothesis=5, propose=propose, model_name="m")))
    pool = [*scaled.tasks[0].tests, *scaled.heldout["t/good"]]
    proposed = [t for t in pool if t.origin == "model"]
    assert {tuple(t.args) for t in proposed} == {("aeiouAEIOU",), ("rhythm",)}
    assert all(t.note == "proposed by m" for t in proposed)
    hung = run(lambda v: scale_tasks(v, tasks()[1:2], ScaleOptions(hypothesis=5, propose=hang, propose_s=0.2)))
    assert [t.id for t in hung.tasks] == ["t/good"] and "proposed nothing" in hung.notes["t/good"][0]


def test_strength_original_vs_scaled(tmp_path, namespaces):
    weak = CodeTask("t/weak", "", "count_vowels", VOWELS, tests=[io(["xyz bcd"], 0)])  # kills few mutants
    scaled = run(lambda v: scale_tasks(v, [weak], ScaleOptions(hypothesis=60)))
    write_scaled(scaled, tmp_path, {})
    loaded = load_code_tasks(str(tmp_path))
    lazy = ("t/weak", "def count_vowels(s):\n    return 0\n")  # right on the one original test only
    figures = run(lambda v: measure_strength(v, loaded, read_heldout(tmp_path), samples=[lazy]))
    original, scaled_fig = figures["suites"]["original"], figures["suites"]["scaled"]
    assert original["fn_rate"] == scaled_fig["fn_rate"] == 0.0
    assert scaled_fig["mutation_score"] >= original["mutation_score"]
    assert scaled_fig["mutation_score"] == 1.0 and original["mutation_score"] < 1.0
    assert scaled_fig["tests_per_task"] > original["tests_per_task"] == 1
    assert scaled_fig["fp_rate_first_order"] == 0.0 < original["fp_rate_first_order"]
    assert figures["pool"]["mutants"] == figures["per_task"]["t/weak"]["mutants"] > 0
    assert original["fp_rate_samples"] == 1.0 and scaled_fig["fp_rate_samples"] == 0.0
    assert figures["audit"] == ["t/weak"]


def test_the_cli_scales_humaneval_and_prints_the_table(tmp_path, namespaces, humaneval_rows):
    env = {**os.environ, "PYTHONPATH": SRC, "OPENAI_MODEL": "", "OPENAI_BASE_URL": ""}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "swerve.cli.main", "tasks", *args]
        return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True)

    ids = ["HumanEval/0", "HumanEval/2", "HumanEval/13"]
    done = cli("scale-tests", "humaneval", "--instance-ids", *ids, "--out", "scaled", "--hypothesis", "40")
    assert done.returncode == 0, done.stderr
    assert "scaled   3 / 3 tasks" in done.stdout
    for name in ("tasks.jsonl", "heldout.jsonl", "provenance.jsonl", "mutants.jsonl", "report.json"):
        assert (tmp_path / "scaled" / name).is_file()
    shown = cli("strength", "scaled")
    assert shown.returncode == 0, shown.stderr
    assert "original    scaled" in shown.stdout and "FN rate (must be 0)" in shown.stdout
    figures = json.loads((tmp_path / "scaled" / "strength.json").read_text())
    assert figures["suites"]["scaled"]["fn_rate"] == 0.0
    graded = subprocess.run(
        [sys.executable, "-m", "swerve.cli.main", "eval", "--dataset", "scaled", "--predictions", "gold"],
        cwd=tmp_path, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert graded.returncode == 0 and "passed   3 / 3" in graded.stdout, graded.stderr
    assert "input/output tests" in graded.stdout
    missing = cli("strength", "nowhere")
    assert missing.returncode == 2 and "no such dataset" in missing.stderr


def test_the_configured_model_proposes_inputs_through_the_cli(tmp_path, namespaces, openai_server):
    srv = openai_server([{"text": 'Here:\n("aeiouAEIOU",)\n("rhythm",)\n'}])
    task = tasks()[1]
    (tmp_path / "t.jsonl").write_text(json.dumps(task.to_dict()) + "\n")
    env = {**os.environ, "PYTHONPATH": SRC, "OPENAI_BASE_URL": srv.base_url, "OPENAI_MODEL": "proposer",
           "OPENAI_API_KEY": "sk-test", "SWERVE_HOME": str(tmp_path / "home")}  # fmt: skip
    cmd = [sys.executable, "-m", "swerve.cli.main", "tasks", "scale-tests", "t.jsonl", "--out", "out",
           "--hypothesis", "5"]  # fmt: skip
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "model inputs: proposer" in done.stderr
    posts = [r for r in srv.requests if r.json]  # (a GET of /v1/models comes first)
    asked = posts[0].json["messages"][-1]["content"]
    assert "count_vowels" in asked and "tuple" in asked
    rows = [json.loads(line) for line in (tmp_path / "out" / "provenance.jsonl").read_text().splitlines()]
    assert {r["note"] for r in rows if r["origin"] == "model"} == {"proposed by proposer"}
    assert sum(r["origin"] == "model" for r in rows) == 2


def test_new_inputs_keep_the_examples_domain():
    from swerve.tasks.code.inputs import in_domain, shapes_of

    examples = [["0101", "1100"], ["1", "0"]]
    shapes = shapes_of(examples, "def xor(a, b):\n    return a\n", "xor")
    assert in_domain(["11", "00"], shapes, examples)
    assert not in_domain(["12", "00"], shapes, examples)  # "01" is a closed alphabet
    assert not in_domain(["1", "00"], shapes, examples)  # the examples' lengths always agree
    numbers = [[1.5], [3.25]]
    assert not in_domain([-1.5], shapes_of(numbers, "def f(x): pass", "f"), numbers)  # no negatives shown
    mixed = [[-2], [7]]
    assert in_domain([-9], shapes_of(mixed, "def f(x): pass", "f"), mixed)

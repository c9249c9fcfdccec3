"""The page as a file: self-contained, its data equal to the run's records, small for large runs;
``swerve report`` and the end of ``swerve eval`` / ``swerve gym run`` writing it."""

from __future__ import annotations

import base64
import json
import re
import shutil
import zlib
from pathlib import Path

from support import TASKS, records, swerve

from swerve.report.build import build
from swerve.report.pack import LIMITS, fold

SCRIPT = re.compile(r'<script type="application/json" id="([\w-]+)">(.*?)</script>', re.S)


def page_parts(html: str) -> dict[str, dict]:
    return {name: json.loads(body) for name, body in SCRIPT.findall(html)}


def inflate(text: str) -> object:
    return json.loads(zlib.decompress(base64.b64decode(text)))


def test_the_page_names_nothing_outside_itself(gym_run) -> None:
    out, _ = gym_run
    html = (out / "report.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)""", html, re.I)
    assert not re.search(r"@import|url\(\s*['\"]?(https?:|//)", html, re.I)
    assert "connect-src 'none'" in html, "the page forbids itself any request"
    assert html.count("<script") == 3 and html.count("</script>") == 3, "no script ends early inside the data"


def test_the_page_data_is_the_runs_records(gym_run) -> None:
    out, _ = gym_run
    parts = page_parts((out / "report.html").read_text())
    data, packed = parts["report-data"], parts["report-trajectories"]
    rows = [dict(zip(data["columns"], row, strict=True)) for row in data["episodes"]]
    stored = {r["episode"]["key"]: r for r in records(out)}
    assert {r["key"] for r in rows} == set(stored)
    for row in rows:
        r = stored[row["key"]]
        assert row["reward"] == r["reward"] and row["turns"] == r["num_turns"]
        assert row["tokens_in"] == r["usage"]["input_tokens"]
    key = next(k for k, r in stored.items() if r["episode"]["task_id"] == TASKS[0])
    chunk, position = packed["index"][key]
    detail = inflate(packed["chunks"][chunk])[position]
    assert detail["patch"] == stored[key]["patch"]
    assert len(detail["messages"]) == len(stored[key]["messages"])
    strings = inflate(packed["strings"])
    system = detail["messages"][0]["text"]
    assert strings[system["ref"]] == stored[key]["messages"][0]["content"], "the system prompt is stored once"


def test_a_long_output_is_folded_with_its_size_said() -> None:
    text = "".join(f"line {i}\n" for i in range(20_000))
    folded = fold(text, LIMITS["tool"])
    assert isinstance(folded, dict)
    assert len(folded["head"]) + len(folded["tail"]) == LIMITS["tool"]
    assert folded["cut"] == len(text) - LIMITS["tool"]
    assert text.startswith(folded["head"]) and text.endswith(folded["tail"])
    assert fold("short", 10) == "short"


def test_a_thousand_episodes_fit_the_budget(gym_run, scratch: Path) -> None:
    """1,000 episodes (the real run's records, repeated under new keys) in a page of a few MB, with
    every trajectory in it; a smaller budget folds further and then leaves some out, saying so."""
    out, _ = gym_run
    big = scratch / "big"
    big.mkdir()
    stored = records(out)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["config"]["samples"] = 4
    manifest["counts"]["planned"] = 1000
    (big / "manifest.json").write_text(json.dumps(manifest))
    with open(big / "episodes.jsonl", "w") as f:
        for i in range(1000):
            r = json.loads(json.dumps(stored[i % len(stored)]))
            task = f"{r['episode']['task_id']}-{i // 4}"
            r["episode"].update(key=f"{task}#{i % 4}", task_id=task, sample=i % 4, group_id=task)
            r["messages"].append({"role": "tool", "content": f"unique output {i}\n" * 50})
            f.write(json.dumps(r) + "\n")
    built = build(big)
    size_mb = len(built.html.encode()) / 1e6
    assert size_mb < 8.5, size_mb
    assert built.packed["omitted"] == 0 and len(built.packed["index"]) == 1000
    tight = build(big, budget_mb=0.1)
    assert tight.packed["folded"] > 0 and tight.packed["omitted"] > 0
    assert len(tight.html.encode()) < len(built.html.encode())
    assert any("not in this file" in p for p in tight.run.problems)


def test_swerve_report_writes_the_page_and_says_where(validation_run, scratch: Path) -> None:
    out, _ = validation_run
    target = scratch / "val-page.html"
    done = swerve("report", str(out / "validation.val.json"), "-o", str(target))
    assert done.returncode == 0, done.stderr
    assert f"report: {target}" in done.stdout and target.resolve().as_uri() in done.stdout
    assert page_parts(target.read_text())["report-data"]["run"]["kind"] == "validation"


def test_eval_and_gym_runs_end_with_their_page(validation_run, predictions_run, agent_run, gym_run) -> None:
    for folder, done, page in (
        (validation_run[0], validation_run[1], "validation.val.html"),
        (predictions_run[0], predictions_run[1], "gold.pred.html"),
        (agent_run[0], agent_run[1], next(agent_run[0].glob("*.agent.json")).with_suffix(".html").name),
        (gym_run[0], gym_run[1], "report.html"),
    ):
        assert (folder / page).is_file(), page
        assert f"html report: {folder / page}" in done.stdout
        assert (folder / page).resolve().as_uri() in done.stdout


def test_bad_input_gets_a_message_not_a_traceback(tmp_path: Path) -> None:
    for argv, expected in (
        ([str(tmp_path / "missing")], "does not exist"),
        ([str(tmp_path)], "not a run swerve knows"),
        ([str(tmp_path), "--max-mb", "0"], "--max-mb must be positive"),
        ([str(tmp_path), "--serve", "-o", "x.html"], "--serve writes no file"),
    ):
        done = swerve("report", *argv)
        assert done.returncode == 2 and expected in done.stderr, (argv, done.stderr)
        assert "Traceback" not in done.stderr


def test_compare_pairs_the_tasks_of_two_runs(agent_run, gym_run, scratch: Path) -> None:
    target = scratch / "compare.html"
    done = swerve("report", str(gym_run[0]), "--compare", str(agent_run[0]), "-o", str(target))
    assert done.returncode == 0, done.stderr
    c = page_parts(target.read_text())["report-data"]["compare"]
    assert sorted(r["task"] for r in c["rows"]) == sorted(TASKS)
    mine = {r["task"]: r["this"] for r in c["rows"]}
    for task in TASKS:
        rewards = [r["reward"] for r in records(gym_run[0]) if r["episode"]["task_id"] == task]
        assert mine[task] == sum(rewards) / len(rewards)
    d = c["difference"]
    assert d["wins"] + d["losses"] + d["ties"] == len(TASKS) and d["low"] <= d["mean"] <= d["high"]


def test_a_run_folder_copied_elsewhere_still_reports(agent_run, scratch: Path) -> None:
    """The run report names its trajectories by the path they had; a moved folder finds its own."""
    moved = scratch / "moved-agent"
    shutil.copytree(agent_run[0], moved)
    report_file = next(moved.glob("*.agent.json"))
    report = json.loads(report_file.read_text())
    report["trajectories"] = str(scratch / "gone" / "trajectories" / "agent")
    report_file.write_text(json.dumps(report))
    built = build(moved)
    assert built.run.kind == "agent-eval" and len(built.packed["index"]) == len(TASKS)

"""Loading SWE-bench instances (shipped parquet files, jsonl, json) and predictions (three formats)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swerve.errors import TaskError
from swerve.tasks.swebench import (
    check_prediction_ids,
    files_in_patch,
    gold_predictions,
    load_instances,
    load_predictions,
    read_records,
)

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "swebench"

TEST_PATCH = """diff --git a/tests/test_calc.py b/tests/test_calc.py
--- a/tests/test_calc.py
+++ b/tests/test_calc.py
@@ -1,2 +1,4 @@
 def test_a():
     pass
+def test_b():
+    pass
diff --git a/tests/data.json b/tests/data.json
new file mode 100644
"""


def classic_instance(iid: str = "acme__calc-1", **extra) -> dict:
    record = {
        "instance_id": iid,
        "repo": "acme/calc",
        "base_commit": "0" * 40,
        "patch": "diff --git a/calc.py b/calc.py\n",
        "test_patch": TEST_PATCH,
        "problem_statement": "add() is wrong",
        "hints_text": "",
        "created_at": "2024-01-01T00:00:00Z",
        "version": "1.0",
        "FAIL_TO_PASS": json.dumps(["tests/test_calc.py::test_b"]),
        "PASS_TO_PASS": ["tests/test_calc.py::test_a"],
        "environment_setup_commit": "0" * 40,
    }
    record.update(extra)
    return record


def shipped(name: str) -> Path:
    path = DATA / name
    if not path.exists():
        pytest.skip(f"shared SWE-bench data not present at {path}")
    return path


@pytest.mark.parametrize(
    ("name", "rows"),
    [
        ("SWE-bench_Verified_test.parquet", 500),
        ("SWE-bench_Lite_test.parquet", 300),
        ("SWE-bench_Lite_dev.parquet", 23),
        ("SWE-bench_dev.parquet", 225),
        ("SWE-bench_Multilingual_test.parquet", 300),
    ],
)
def test_shipped_parquet_files_load(name: str, rows: int) -> None:
    pytest.importorskip("pyarrow", reason="pyarrow (the tasks extra) is needed for parquet")
    tasks = load_instances(shipped(name))
    assert len(tasks) == rows
    assert len({t.id for t in tasks}) == rows
    assert sum(1 for t in tasks if t.fail_to_pass) >= rows - 5
    assert all(t.eval_script.startswith("#!/bin/bash") for t in tasks)  # the v5 field


def test_verified_fields_are_decoded() -> None:
    pytest.importorskip("pyarrow", reason="pyarrow (the tasks extra) is needed for parquet")
    tasks = {t.id: t for t in load_instances(shipped("SWE-bench_Verified_test.parquet"))}
    t = tasks["psf__requests-6028"]
    assert t.repo == "psf/requests" and t.version == "2.27"
    assert t.fail_to_pass[0].startswith("tests/test_utils.py::test_prepend_scheme_if_needed[")
    assert len(t.pass_to_pass) > 100
    assert t.log_parser == "parse_log_requests"
    assert t.eval_type == "pass_and_fail"
    assert t.image.startswith("swebench/sweb.eval.x86_64.psf_1776_requests-6028")
    assert t.test_files == ("tests/test_utils.py",)
    assert t.env is not None and t.env.python == "3.9" and "pytest==7.4.4" in t.env.pins
    assert tasks["django__django-11099"].env is None  # no spec: environment-unavailable later
    own = tasks["pylint-dev__pylint-4970"].env
    assert own is not None and own.instance_pins == ("astroid==2.7.3",)
    assert t.metadata["difficulty"] == "15 min - 1 hour"


def test_jsonl_and_json_instances_classic_fields(tmp_path: Path) -> None:
    records = [classic_instance("acme__calc-1"), classic_instance("acme__calc-2", FAIL_TO_PASS=["x::y"])]
    jsonl = tmp_path / "d.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in records) + "\n\n")
    as_list = tmp_path / "list.json"
    as_list.write_text(json.dumps(records))
    as_dict = tmp_path / "dict.json"
    as_dict.write_text(
        json.dumps({r["instance_id"]: {k: v for k, v in r.items() if k != "instance_id"} for r in records})
    )
    for path in (jsonl, as_list, as_dict):
        tasks = load_instances(path)
        assert [t.id for t in tasks] == ["acme__calc-1", "acme__calc-2"]
        assert tasks[0].fail_to_pass == ("tests/test_calc.py::test_b",)  # from a JSON string
        assert tasks[1].fail_to_pass == ("x::y",)  # from a list
        assert tasks[0].pass_to_pass == ("tests/test_calc.py::test_a",)
        assert tasks[0].eval_script == ""  # classic: the harness generates one
        assert tasks[0].log_parser == "pytest"  # unknown repo: pytest
        assert tasks[0].test_files == ("tests/test_calc.py", "tests/data.json")


def test_files_in_patch_lists_each_file_once() -> None:
    assert files_in_patch(TEST_PATCH + TEST_PATCH) == ("tests/test_calc.py", "tests/data.json")
    assert files_in_patch(None) == ()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"instance_id": "a", "repo": "x/y", "base_commit": "1"}\n{bad json\n', ":2: invalid JSON"),
        ('{"repo": "x/y"}\n', "without an instance_id"),
        ('{"instance_id": "a", "repo": "x/y"}\n', "missing base_commit"),
        (
            '{"instance_id": "a", "repo": "x/y", "base_commit": "1", "FAIL_TO_PASS": "not json"}\n',
            "not a JSON list",
        ),
        (
            '{"instance_id": "a", "repo": "x/y", "base_commit": "1", "FAIL_TO_PASS": [1, 2]}\n',
            "list of test ids",
        ),
        (
            '{"instance_id": "a", "repo": "x/y", "base_commit": "1", "eval_type": "weird"}\n',
            "unknown eval_type",
        ),
        ("[1, 2]\n", "not a JSON object"),
    ],
)
def test_bad_instances_raise_clear_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / ("d.json" if content.startswith("[") else "d.jsonl")
    path.write_text(content)
    with pytest.raises(TaskError, match=message):
        load_instances(path)


def test_duplicate_ids_and_unsupported_files(tmp_path: Path) -> None:
    dup = tmp_path / "dup.jsonl"
    dup.write_text(json.dumps(classic_instance()) + "\n" + json.dumps(classic_instance()) + "\n")
    with pytest.raises(TaskError, match="appears twice"):
        load_instances(dup)
    csv = tmp_path / "d.csv"
    csv.write_text("a,b\n")
    with pytest.raises(TaskError, match="unsupported file type"):
        read_records(csv)
    with pytest.raises(TaskError, match="no such file"):
        read_records(tmp_path / "missing.jsonl")
    binary = tmp_path / "b.parquet"
    binary.write_bytes(b"\x00\x01 not parquet")
    pytest.importorskip("pyarrow", reason="pyarrow (the tasks extra) is needed for parquet")
    with pytest.raises(TaskError, match="cannot read parquet"):
        read_records(binary)


def test_predictions_in_all_three_formats(tmp_path: Path) -> None:
    preds = [
        {
            "instance_id": "acme__calc-1",
            "model_name_or_path": "org/model",
            "model_patch": "diff --git a/x b/x\n",
        },
        {"instance_id": "acme__calc-2", "model_name_or_path": "org/model", "model_patch": ""},
        {"instance_id": "acme__calc-3", "model_name_or_path": "org/model", "model_patch": None},
    ]
    jsonl = tmp_path / "preds.jsonl"
    jsonl.write_text("\n".join(json.dumps(p) for p in preds))
    as_list = tmp_path / "preds.json"
    as_list.write_text(json.dumps(preds))
    as_dict = tmp_path / "preds_by_id.json"
    as_dict.write_text(json.dumps({p["instance_id"]: p for p in preds}))
    for path in (jsonl, as_list, as_dict):
        loaded = load_predictions(path)
        assert sorted(loaded) == ["acme__calc-1", "acme__calc-2", "acme__calc-3"]
        assert loaded["acme__calc-1"].model_name_or_path == "org/model"
        assert not loaded["acme__calc-1"].is_empty
        assert loaded["acme__calc-2"].is_empty and loaded["acme__calc-3"].is_empty


def test_prediction_errors(tmp_path: Path) -> None:
    bad = tmp_path / "p.jsonl"
    bad.write_text(json.dumps({"instance_id": "a", "model_patch": 5}) + "\n")
    with pytest.raises(TaskError, match="model_patch must be a string"):
        load_predictions(bad)
    twice = tmp_path / "twice.jsonl"
    twice.write_text((json.dumps({"instance_id": "a", "model_patch": "x"}) + "\n") * 2)
    with pytest.raises(TaskError, match="two predictions"):
        load_predictions(twice)
    nameless = tmp_path / "mymodel.jsonl"
    nameless.write_text(json.dumps({"instance_id": "a", "model_patch": "x"}) + "\n")
    assert load_predictions(nameless)["a"].model_name_or_path == "mymodel"
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps(classic_instance()) + "\n")
    tasks = load_instances(data)
    with pytest.raises(TaskError, match="not in the dataset: a"):
        check_prediction_ids(load_predictions(nameless), tasks)
    gold = gold_predictions(tasks)
    assert gold["acme__calc-1"].model_name_or_path == "gold"
    assert gold["acme__calc-1"].model_patch == tasks[0].gold_patch

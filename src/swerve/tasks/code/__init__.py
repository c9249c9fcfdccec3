"""Code tasks: function- and program-level problems with input/output tests, and their verifier.

``model`` (CodeTask, IOTest), ``loaders`` (HumanEval offline, JSONL, candidates), ``server`` (the
fork server that runs inside a sandbox, standard library only), ``verifier`` (batches, limits,
verdicts), ``grading`` (tests or the dataset's own check). Imports the base modules and, when a
verifier opens, the namespace sandbox.
"""

from swerve.tasks.code.loaders import Candidate, is_code_dataset, load_candidates, load_code_tasks
from swerve.tasks.code.model import CodeTask, IOTest

__all__ = ["Candidate", "CodeTask", "IOTest", "is_code_dataset", "load_candidates", "load_code_tasks"]

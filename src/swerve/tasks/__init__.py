"""Verifiable tasks: the Task model, loaders (SWE-bench, native folders), environments, grading.

Imports stay light here; the heavy parts (pyarrow, venv building) load on use. Imports only the
base modules: a task knows no agent or model; ``code/`` (code tasks) opens namespace sandboxes for
its verifier when one is used.
"""

from swerve.errors import TaskError
from swerve.tasks.model import EnvSpec, RepoSource, Task

__all__ = ["EnvSpec", "RepoSource", "Task", "TaskError"]

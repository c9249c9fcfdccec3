"""Verifiable tasks: the Task model, loaders (SWE-bench, native folders), environments, grading.

Imports stay light here; the heavy parts (pyarrow, venv building) load on use.
"""

from swerve.tasks.model import EnvSpec, RepoSource, Task, TaskError

__all__ = ["EnvSpec", "RepoSource", "Task", "TaskError"]

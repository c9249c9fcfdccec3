"""Every error swerve raises on purpose, in one tree (it imports nothing of swerve).

    SwerveError
    ├── ConfigError        settings that cannot be used; the message says what to change
    ├── ModelError         a model request that failed for good (after retries, or not retryable)
    ├── ToolError          a tool failure whose message is meant for the model as it stands
    │   └── PathError      a path a tool may not use
    ├── SandboxError       a sandbox that cannot be created or used
    ├── TaskError          a task description or dataset that cannot be used (also a ValueError)
    ├── EnvUnavailable     a task's environment cannot be had here; ``cause`` says why
    ├── SessionError       a saved session that cannot be found or read
    ├── StoreError         a run store that cannot do what was asked; nothing was written
    ├── InfraError         the machinery around an agent failed: never a reward of 0
    ├── RunError           a run that could not start; the message says why and what to change
    └── LocalModelError    the local model runtime (weights, builds, the server) failed

Modules re-export the ones they raise (``swerve.sandbox.base.SandboxError`` is this class), so
``except SwerveError`` catches every deliberate failure and nothing else.
"""

from __future__ import annotations


class SwerveError(Exception):
    """The root of every error swerve raises on purpose."""


class ConfigError(SwerveError):
    """Settings that cannot be used; the message says what to change."""


class ModelError(SwerveError):
    """A model request that failed for good (after retries, or not retryable)."""

    def __init__(self, message: str, *, endpoint: str = "", status: int | None = None) -> None:
        where = f" ({endpoint}" + (f", HTTP {status}" if status is not None else "") + ")" if endpoint else ""
        super().__init__(message + where)
        self.endpoint = endpoint
        self.status = status


class ToolError(SwerveError):
    """A failure whose message is meant for the model as it stands (no exception type shown)."""


class PathError(ToolError):
    """A path a tool may not use."""


class SandboxError(SwerveError):
    """A sandbox that cannot be created or used; the message says why."""


class TaskError(SwerveError, ValueError):
    """A task description is malformed (bad field, missing value, unreadable file)."""


class EnvUnavailable(SwerveError):
    """The environment for a task cannot be had here; ``cause`` says why."""

    def __init__(self, cause: str, log_path: str | None = None) -> None:
        super().__init__(cause)
        self.cause = cause
        self.log_path = log_path


class SessionError(SwerveError):
    """A saved session that cannot be found or read."""


class StoreError(SwerveError):
    """The run store cannot do what was asked; nothing was written."""


class InfraError(SwerveError):
    """The machinery around the agent failed; never a reward of 0."""


class RunError(SwerveError):
    """The run could not start; the message says why and what to change."""


class LocalModelError(SwerveError):
    """The local model runtime could not do what was asked: weights, a build, the server."""

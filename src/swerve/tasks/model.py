"""The Task: one verifiable coding problem, from SWE-bench, a native task folder or the built-in suite.

A task names where its repository comes from, the commit to start at, what to tell the solver, how
to build its environment, how to run its tests, which tests decide the verdict and how to read the
test log. Everything here is plain data; loading, building and running live in other modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

SourceKind = Literal["git", "dir", "sdist", "snapshot"]
EvalType = Literal["pass_and_fail", "fail_only"]


@dataclass(frozen=True)
class RepoSource:
    """Where the task's code comes from.

    - ``git``: a git URL or path to a git repository (bare or not); ``base_commit`` is checked out.
    - ``snapshot``: a local clone or mirror found by repository name under a ``--repos`` folder.
    - ``dir``: a plain directory whose files are the starting state (no git needed).
    - ``sdist``: a source archive (``.tar.gz`` / ``.zip``) unpacked as the starting state.
    """

    kind: SourceKind
    location: str = ""  # URL, path or archive; "" for a snapshot looked up by repo name


@dataclass(frozen=True)
class EnvSpec:
    """How to build the task's environment: one venv per (repository, version), shared read-only.

    ``pins`` are pip requirement strings installed into that venv (the test runner pinned as the
    dataset pins it); ``instance_pins`` go into one instance's own venv, where its versions differ
    from the shared ones; ``pre_install`` runs in the checkout before ``install``; ``install`` runs in
    the checkout with the per-instance venv active and no network (it usually installs the
    repository itself in editable mode).
    """

    python: str = ""  # "3.9"; "" means the Python running swerve
    pins: tuple[str, ...] = ()
    pre_install: tuple[str, ...] = ()
    install: tuple[str, ...] = ()
    eval_env: tuple[tuple[str, str], ...] = ()  # environment variables for the tests
    instance_pins: tuple[str, ...] = ()  # this instance's own versions, installed over the shared venv
    system_tools: tuple[str, ...] = ()  # programs the tests need from the machine (``dot``)
    services: tuple[str, ...] = ()  # stand-ins started on loopback for the tests (swerve.eval.services)
    # compile C extensions at build time through ccache, one cache per env layer
    compiler_cache: bool = False
    # constraints on the build environments of the pins' sdists ("setuptools<71": old sdists that
    # need pkg_resources, or whose pytest breaks on a newer setuptools' vendored plugins)
    build_pins: tuple[str, ...] = ()
    # files a repository snapshot may lack without harm to the tests (a stray binary in the repo)
    optional_files: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"compiler_cache": True} if self.compiler_cache else {}
        if self.build_pins:
            extra["build_pins"] = list(self.build_pins)
        if self.optional_files:
            extra["optional_files"] = list(self.optional_files)
        return {
            "python": self.python,
            "pins": list(self.pins),
            "instance_pins": list(self.instance_pins),
            "system_tools": list(self.system_tools),
            "pre_install": list(self.pre_install),
            "install": list(self.install),
            "eval_env": dict(self.eval_env),
            **extra,
        }


@dataclass
class Task:
    """One task. ``fail_to_pass`` tests must pass after the fix; ``pass_to_pass`` must stay passing."""

    id: str
    repo: str  # "owner/name" for SWE-bench, any label for native tasks
    source: RepoSource
    base_commit: str = ""
    problem_statement: str = ""
    version: str = ""
    env: EnvSpec | None = None  # None: no known way to build this task's environment
    test_command: str = ""  # run from the repository root; test files are appended for SWE-bench
    test_files: tuple[str, ...] = ()
    eval_script: str = ""  # SWE-bench v5: the dataset's own script (adapted before running)
    fail_to_pass: tuple[str, ...] = ()
    pass_to_pass: tuple[str, ...] = ()
    log_parser: str = "pytest"
    eval_type: EvalType = "pass_and_fail"
    gold_patch: str | None = None
    test_patch: str | None = None
    image: str = ""  # SWE-bench's docker image, when the dataset names one
    timeout_s: float = 1800.0
    metadata: dict[str, Any] = field(default_factory=dict)  # hints, created_at, difficulty, ...

    @property
    def repo_slug(self) -> str:
        """``owner__name``: the form SWE-bench uses in instance ids and folder names."""
        return self.repo.replace("/", "__")

    def summary(self) -> dict[str, Any]:
        """A small JSON-able description (for reports and listings)."""
        return {
            "id": self.id,
            "repo": self.repo,
            "version": self.version,
            "base_commit": self.base_commit,
            "log_parser": self.log_parser,
            "fail_to_pass": len(self.fail_to_pass),
            "pass_to_pass": len(self.pass_to_pass),
        }

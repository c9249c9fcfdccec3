"""The evaluation harness: predictions in, SWE-bench-compatible reports out, without docker.

For each instance: build (or reuse) the env layer and the instance layer, open a fresh sandbox
over them, apply the patch as SWE-bench does (``git apply``, ``--3way``, ``--reject``, then
``patch`` with fuzz, resetting between attempts), run the eval script with stdout and stderr
merged into one file (the spec's stand-in services started first on the sandbox's loopback,
``swerve.eval.services``), grade the log, and write the reports. An instance whose environment
cannot be had is reported environment-unavailable with the cause; a timeout or a sandbox failure
is kept apart from an unresolved result.

The farm (``swerve.gym``) uses the same steps: ``prepare`` (the layers), ``open`` (a sandbox over
them, for an agent) and ``evaluate_patch`` (grade an agent's diff, always fresh, into a chosen
log folder).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from swerve.errors import EnvUnavailable, SandboxError
from swerve.eval.environments import (
    EnvironmentSandbox,
    EvalSandbox,
    NamespaceSandbox,
    SandboxUnavailable,
    TaskEnvironment,
    provides_environment,
)
from swerve.eval.reports import (
    EMPTY_PATCH,
    ENV_UNAVAILABLE,
    ERROR,
    OUTCOME_FILE,
    PATCH_FAILED,
    REPORT_FILE,
    RESOLVED,
    TIMEOUT,
    UNRESOLVED,
    InstanceResult,
    instance_log_dir,
    read_instance_result,
    run_report,
    write_instance_result,
    write_run_report,
)
from swerve.eval.services import FAILED_FILE, STARTED_FILE, ServiceLayer, ensure_services, wrapper_script
from swerve.sandbox.base import Workspace
from swerve.tasks.envbuild import (
    EnvLayer,
    InstanceLayer,
    build_instance_layer,
    ensure_env,
    ensure_instance_layer,
)
from swerve.tasks.evalscript import eval_script_for
from swerve.tasks.grading.parsers import get_parser
from swerve.tasks.grading.verdict import APPLIED, APPLY_FAILED, TESTS_TIMED_OUT, grade_log
from swerve.tasks.model import Task
from swerve.tasks.repos import describe_search, resolve_source
from swerve.tasks.swebench import Prediction

APPLY_COMMANDS = (
    "git apply --verbose",
    "git apply --verbose --3way",
    "git apply --verbose --reject",
    "patch --batch --forward --fuzz=5 -p1 -i",
)
RESET_COMMAND = "git checkout -- . ; git clean -fd"
NO_PATCH_MODEL = "no-patch"
# what one evaluation writes into its log folder (cleared before a fresh evaluation there)
INSTANCE_FILES = (
    REPORT_FILE,
    OUTCOME_FILE,
    "run_instance.log",
    "test_output.txt",
    "eval.sh",
    "patch.diff",
    "build.log",
)

EventKind = Literal["stage", "done"]  # a stage started (detail: its name), or the instance is graded
Event = Callable[[EventKind, str, Any], None]  # (kind, instance id, detail)


@dataclass
class EvalOptions:
    run_id: str
    report_dir: Path = Path(".")
    repos: list[str] = field(default_factory=list)
    workers: int = 1
    timeout_s: float | None = None  # per instance; None: the task's own (1800 s for SWE-bench)
    cache: Path | None = None
    sandbox: EvalSandbox | None = None
    force: bool = False  # run again even when this run id already has a result

    @property
    def log_root(self) -> Path:
        return self.report_dir / "logs" / "run_evaluation"


class _InstanceLog:
    """run_instance.log: what the harness did, with timestamps."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
        self.start = time.monotonic()

    def write(self, text: str) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(f"[{time.monotonic() - self.start:7.2f}s] {text.rstrip()}\n")


class Harness:
    """Runs instances; one Harness per run id."""

    def __init__(self, options: EvalOptions, *, on_event: Event | None = None) -> None:
        self.options = options
        self.sandbox: EvalSandbox = options.sandbox or NamespaceSandbox()
        self.on_event = on_event or (lambda kind, iid, detail: None)
        self._semaphore = asyncio.Semaphore(max(1, options.workers))

    # -- one instance ---------------------------------------------------------------------

    async def run_instance(
        self, task: Task, prediction: Prediction, *, apply_patch: bool = True
    ) -> InstanceResult:
        """Evaluate ``prediction`` on ``task`` (``apply_patch`` False: the starting state as is)."""
        async with self._semaphore:
            result = await self._run_instance(task, prediction, apply_patch=apply_patch)
        self.on_event("done", task.id, result)
        return result

    async def _run_instance(self, task: Task, prediction: Prediction, *, apply_patch: bool) -> InstanceResult:
        opts = self.options
        log_dir = instance_log_dir(opts.log_root, opts.run_id, prediction.model_name_or_path, task.id)
        if not opts.force:
            earlier = read_instance_result(log_dir)
            if earlier is not None:
                return earlier
        return await self._run_fresh(task, prediction, apply_patch, log_dir)

    async def evaluate_patch(
        self, task: Task, patch: str, log_dir: Path, *, model: str = NO_PATCH_MODEL
    ) -> InstanceResult:
        """Grade ``patch`` on ``task`` now, in a fresh sandbox over the untouched instance layer,
        writing the instance's files into ``log_dir`` (what an earlier grading left there is
        removed first; an earlier result is never reused). Unlike ``run_instance`` this takes no
        worker slot: the caller bounds how many run at once (the farm grades many samples)."""
        log_dir = Path(log_dir)
        log_dir.mkdir(parents=True, exist_ok=True)
        for name in INSTANCE_FILES:
            with contextlib.suppress(OSError):
                (log_dir / name).unlink()
        return await self._run_fresh(task, Prediction(task.id, model, patch), True, log_dir)

    async def _run_fresh(
        self, task: Task, prediction: Prediction, apply_patch: bool, log_dir: Path
    ) -> InstanceResult:
        result = InstanceResult(task.id, prediction.model_name_or_path, UNRESOLVED)
        if apply_patch and prediction.is_empty:
            result.outcome = EMPTY_PATCH
            write_instance_result(result, log_dir)
            return result
        log = _InstanceLog(log_dir / "run_instance.log")
        started = time.monotonic()
        scratch: list[Path] = []  # private layers to delete afterwards
        try:
            await self._evaluate(task, prediction, apply_patch, result, log, log_dir, scratch)
        except EnvUnavailable as exc:
            result.outcome, result.cause = ENV_UNAVAILABLE, exc.cause
            if exc.log_path:
                with contextlib.suppress(OSError):
                    shutil.copy(exc.log_path, log_dir / "build.log")
        except SandboxUnavailable as exc:
            result.outcome, result.cause = ENV_UNAVAILABLE, str(exc)
        except (SandboxError, OSError) as exc:
            result.outcome, result.cause = ERROR, f"{type(exc).__name__}: {exc}"
            log.write(traceback.format_exc())
        finally:
            for path in scratch:
                shutil.rmtree(path, ignore_errors=True)
        result.timings["total_s"] = round(time.monotonic() - started, 3)
        log.write(f"outcome: {result.outcome}{' (' + result.cause + ')' if result.cause else ''}")
        write_instance_result(result, log_dir)
        return result

    async def prepare(
        self,
        task: Task,
        *,
        scratch: list[Path] | None = None,
        timings: dict[str, float] | None = None,
        note: Callable[[str], None] | None = None,
    ) -> InstanceLayer:
        """Build (or reuse from the cache) the task's env and instance layers.

        For a sandbox that shares layers the instance layer is the cached one, shared read-only;
        otherwise a private layer is built and its folder appended to ``scratch`` (the caller
        removes it; ``scratch`` is then required). ``timings`` gets ``env_s`` and ``layer_s``,
        ``note`` a line per layer. Raises ``EnvUnavailable`` or ``SandboxUnavailable`` with the
        cause when the environment cannot be had.
        """
        if task.env is None:
            raise EnvUnavailable(f"no environment spec for {task.repo} {task.version}".strip())
        _check_parser(task)
        if not self.sandbox.shares_layers and scratch is None:
            raise ValueError(f"the {self.sandbox.name} sandbox needs private layers: pass scratch")
        timings = {} if timings is None else timings
        await self.sandbox.check()
        source = resolve_source(task, self.options.repos)
        if source is None:
            raise EnvUnavailable(describe_search(task.repo, self.options.repos))
        self.on_event("stage", task.id, "env")
        t0 = time.monotonic()
        env: EnvLayer = await ensure_env(
            task.env, cache=self.options.cache, label=f"{task.repo}-{task.version}"
        )
        timings["env_s"] = round(time.monotonic() - t0, 3)
        if note is not None:
            note(f"env layer: {env.path}")
        self.on_event("stage", task.id, "layer")
        t0 = time.monotonic()
        if self.sandbox.shares_layers:
            layer = await ensure_instance_layer(
                task.id,
                source=source,
                base_commit=task.base_commit,
                env=env,
                spec=task.env,
                cache=self.options.cache,
            )
        else:
            assert scratch is not None
            private = Path(tempfile.mkdtemp(prefix=f"swerve-{task.id[:40]}-"))
            scratch.append(private)
            layer = await build_instance_layer(
                private / "layer", source=source, base_commit=task.base_commit, env=env, spec=task.env
            )
        timings["layer_s"] = round(time.monotonic() - t0, 3)
        if note is not None:
            note(f"instance layer: {layer.path}")
        return layer

    async def open(self, layer: InstanceLayer, services: list[ServiceLayer] | None = None) -> Workspace:
        """A fresh sandbox over ``layer`` (writes stay private to it), with the env layer and its
        base Python shown read-only (and the venvs of ``services``); the caller closes it."""
        expose = [layer.env.path, _python_prefix(layer.env.python)]
        for service in services or ():
            for path in (service.env.path, _python_prefix(service.env.python)):
                if path not in expose:
                    expose.append(path)
        return await self.sandbox.open([layer.path], layer.path, expose)

    async def _own_environment(
        self, sandbox: EnvironmentSandbox, task: Task, result: InstanceResult, log: _InstanceLog
    ) -> TaskEnvironment:
        """The environment a sandbox brings itself (SWE-bench's images): no layers are built."""
        _check_parser(task)
        self.on_event("stage", task.id, "env")
        t0 = time.monotonic()
        opened = await sandbox.open_task(task)
        result.timings["env_s"] = round(time.monotonic() - t0, 3)
        log.write(f"environment from the {sandbox.name} sandbox: {getattr(opened.workspace, 'image', '')}")
        self.on_event("stage", task.id, "tests")
        return opened

    async def _evaluate(
        self,
        task: Task,
        prediction: Prediction,
        apply_patch: bool,
        result: InstanceResult,
        log: _InstanceLog,
        log_dir: Path,
        scratch: list[Path],
    ) -> None:
        layer: InstanceLayer | TaskEnvironment
        services: list[ServiceLayer] = []
        if provides_environment(self.sandbox):
            layer = await self._own_environment(self.sandbox, task, result, log)
            ws = layer.workspace
            if task.env is not None and task.env.services:
                log.write(
                    f"stand-in services not started in the {self.sandbox.name} sandbox: {task.env.services}"
                )
        else:
            layer = await self.prepare(task, scratch=scratch, timings=result.timings, note=log.write)
            services = await ensure_services(task.env, cache=self.options.cache)
            for service in services:
                log.write(f"{service.service.name} stand-in: {service.env.path}")
            self.on_event("stage", task.id, "tests")
            ws = await self.open(layer, services)
        try:
            if apply_patch:
                patch = prediction.model_patch or ""
                (log_dir / "patch.diff").write_text(patch)
                t0 = time.monotonic()
                applied = await _apply_patch(ws, layer, patch, log)
                result.timings["apply_s"] = round(time.monotonic() - t0, 3)
                if not applied:
                    result.outcome, result.cause = PATCH_FAILED, "the patch does not apply"
                    return
            result.patch_applied = True
            diff = await ws.exec("git -c core.fileMode=false diff", cwd=layer.testbed, timeout=120)
            log.write(f"git diff before:\n{diff.output}")
            if isinstance(layer, TaskEnvironment):
                script = layer.eval_script
            else:
                script = eval_script_for(task, testbed=layer.testbed, activate=layer.activate)
            (log_dir / "eval.sh").write_text(script)
            run = layer.run_dir
            await ws.write_bytes(f"{run}/eval.sh", script.encode())
            command = f"/bin/bash {run}/eval.sh > {run}/test_output.txt 2>&1"
            if services:
                await ws.write_bytes(f"{run}/services.sh", wrapper_script(services, run_dir=run).encode())
                command = f"/bin/bash {run}/services.sh"
            timeout = self.options.timeout_s or task.timeout_s
            t0 = time.monotonic()
            ran = await ws.exec(command, cwd=layer.testbed, timeout=timeout)
            result.timings["tests_s"] = round(time.monotonic() - t0, 3)
            if services:
                await _check_services(ws, run, log, log_dir, services)
            try:
                output = (await ws.read_bytes(f"{run}/test_output.txt")).decode("utf-8", errors="replace")
            except (SandboxError, OSError):
                output = ""
            if ran.timed_out:
                output += f"\n\nTimeout error: {timeout:.0f} seconds exceeded.\n{TESTS_TIMED_OUT}\n"
            (log_dir / "test_output.txt").write_text(output)
            log.write(
                f"eval script exit {ran.exit_code} after {ran.duration_s:.1f}s{' (timed out)' if ran.timed_out else ''}"
            )
            if ran.timed_out:
                result.outcome, result.cause = TIMEOUT, f"the tests ran past {timeout:.0f}s"
                return
            verdict = grade_log(
                output,
                fail_to_pass=task.fail_to_pass,
                pass_to_pass=task.pass_to_pass,
                log_parser=task.log_parser,
                eval_type=task.eval_type,
            )
            result.log_found = verdict.found
            result.resolution = verdict.resolution
            result.test_exit_code = verdict.exit_code
            result.tests_status = verdict.tests_status
            result.outcome = RESOLVED if verdict.resolved else UNRESOLVED
            result.cause = verdict.reason
            log.write(f"verdict: {verdict.resolution}{' (' + verdict.reason + ')' if verdict.reason else ''}")
            return
        finally:
            with contextlib.suppress(Exception):
                await ws.close()

    # -- many instances -------------------------------------------------------------------

    async def evaluate(
        self, tasks: list[Task], predictions: dict[str, Prediction]
    ) -> tuple[dict[str, Any], Path]:
        """Every task that has a prediction; returns the run report and where it was written."""
        chosen = [t for t in tasks if t.id in predictions]
        results = await asyncio.gather(*(self.run_instance(t, predictions[t.id]) for t in chosen))
        models = sorted({p.model_name_or_path for p in predictions.values()}) or ["none"]
        report = run_report(
            dataset_ids=[t.id for t in tasks],
            submitted_ids=[t.id for t in chosen],
            results=list(results),
            sandbox=self.sandbox.name,
        )
        path = write_run_report(report, self.options.report_dir, models[0], self.options.run_id)
        return report, path


def _check_parser(task: Task) -> None:
    """EnvUnavailable when swerve has no parser for the task's test log."""
    try:
        get_parser(task.log_parser)
    except KeyError as exc:
        raise EnvUnavailable(str(exc.args[0])) from None


async def _check_services(
    ws: Workspace, run: str, log: _InstanceLog, log_dir: Path, services: list[ServiceLayer]
) -> None:
    """Log where the stand-in services served and keep their logs (``service-NAME.log``, what
    they were asked) beside the test log; EnvUnavailable when one did not start."""
    for service in services:
        name = f"service-{service.service.name}.log"
        with contextlib.suppress(SandboxError, OSError):
            (log_dir / name).write_bytes(await ws.read_bytes(f"{run}/{name}"))
    with contextlib.suppress(SandboxError, OSError):
        started = (await ws.read_bytes(f"{run}/{STARTED_FILE}")).decode(errors="replace").strip()
        log.write(f"stand-in services: {started or 'none started'}")
    try:
        failed = (await ws.read_bytes(f"{run}/{FAILED_FILE}")).decode(errors="replace").strip()
    except (SandboxError, OSError):
        return
    raise EnvUnavailable(failed or "a stand-in service did not start")


def _python_prefix(python: str) -> str:
    """The installation a base interpreter belongs to (``.../bin/python3.9`` -> ``...``)."""
    return os.path.dirname(os.path.dirname(os.path.realpath(python)))


async def _apply_patch(
    ws: Workspace, layer: InstanceLayer | TaskEnvironment, patch: str, log: _InstanceLog
) -> bool:
    """SWE-bench's order of attempts, with the tree reset between them; True when applied."""
    path = f"{layer.run_dir}/patch.diff"
    await ws.write_bytes(path, patch.encode())
    last = ""
    for attempt, command in enumerate(APPLY_COMMANDS):
        if attempt:
            await ws.exec(RESET_COMMAND, cwd=layer.testbed, timeout=300)
        ran = await ws.exec(f"{command} {path}", cwd=layer.testbed, timeout=300)
        if ran.exit_code == 0:
            log.write(f"{APPLIED} ({command}):\n{ran.output}")
            return True
        last = ran.output
        log.write(f"failed: {command}\n{ran.output}")
    check = await ws.exec(f"git apply --check --reverse {path}", cwd=layer.testbed, timeout=300)
    if check.exit_code == 0:
        log.write(f"{APPLIED}: verified already applied")
        return True
    log.write(f"{APPLY_FAILED}:\n{last}")
    return False

"""The farm across a Ray cluster: environment workers as Ray actors, episodes routed to them.

``RayExecutor`` is an ``Executor`` for ``Pool``. It starts environment workers (async Ray actors,
one per node by default), each holding the episode runner and its own ``Gates``, so every worker
hosts up to ``limits.envs`` live sandboxes. An episode goes to a worker that already ran an episode
with the same affinity key (``runner.affinity(task_id)``: the task's environment layer) while that
worker has room, else to the least-loaded worker; no worker is given more than ``limits.envs``.

When a worker dies (its process killed, its node gone), ``run`` raises ``WorkerLost`` for each of
its episodes in flight, so the pool queues them again; the worker is killed for certain (an
unreachable worker could otherwise finish an episode that runs again elsewhere) and replaced on its
node if the node still lives. ``lost_workers``, ``replaced`` and ``requeued`` count what happened.

Ray is imported only when the executor starts; without it, ``RayUnavailable`` says how to install it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import dataclass, field, replace
from typing import Any

from swerve.errors import InfraError, SwerveError
from swerve.gym.base import Episode, WorkerLost
from swerve.gym.episode import EpisodeRunner, Gates, PoolLimits

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'swerve[ray]'"
# Ray turns 127.0.0.1 into the machine's outward address; another loopback address stays loopback,
# so the processes of a Ray this executor starts for one machine talk to each other over loopback.
LOCAL_NODE_IP = "127.0.0.2"
START_TIMEOUT_S = 120.0  # for a worker to come up (a fresh process, imports, a sweep)
REPLACE_WAIT_S = 30.0  # at close, for a replacement still starting
SHUTDOWN_TIMEOUT_S = 60.0  # for a worker to close the environments it still has at close()
SWEEP_TIMEOUT_S = 30.0  # at close, for the sweep of the nodes the workers were on
RETRY_DELAY_S = 1.0  # between attempts to start a replacement
MAX_REPLACEMENTS = 3  # deaths in a row (no episode finished in between) before a worker slot is dropped
EXTRA_CONCURRENCY = 8  # actor calls beside the episodes themselves (ready, info, shutdown)


class RayUnavailable(SwerveError):
    """Ray is not installed (or cannot be imported)."""


class NoWorkersLeft(InfraError):
    """Every environment worker died and none could be replaced."""


def import_ray() -> Any:
    """The ``ray`` module, or RayUnavailable saying how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise RayUnavailable(f"the Ray backend needs Ray, which is not installed: {INSTALL_HINT}") from exc
    return ray


def _loss_errors(ray: Any) -> tuple[type[BaseException], ...]:
    """Ray's errors that mean the worker (process or node) is gone, not that the episode failed."""
    names = (
        "RayActorError",  # ActorDiedError, ActorUnavailableError
        "WorkerCrashedError",
        "NodeDiedError",
        "ObjectLostError",  # OwnerDiedError
        "LocalRayletDiedError",
        "ActorUnschedulableError",
    )
    return tuple(getattr(ray.exceptions, n) for n in names if hasattr(ray.exceptions, n))


# --- inside the worker process ----------------------------------------------------------------------


class EnvWorker:
    """One environment worker (the body of a Ray actor): runs episodes in its own event loop.

    At start it sweeps the sandbox state that dead processes left on its node (a worker killed with
    SIGKILL leaves directories; its replacement removes them). ``shutdown`` cancels the episodes
    still running, each closing its environment, before the actor is killed.
    """

    def __init__(self, runner: EpisodeRunner, limits: PoolLimits, label: str) -> None:
        from swerve.sandbox.ns.state import sweep

        self.label = label
        self.runner = replace(runner, worker=label)
        self.limits = limits
        self.gates: Gates | None = None
        self.tasks: set[asyncio.Task[Any]] = set()
        try:
            self.swept = sweep()
        except Exception as exc:  # not fatal: the first sandbox sweeps again
            log.warning("%s: sweeping sandbox leftovers failed: %s", label, exc)
            self.swept = []

    async def ready(self) -> dict[str, Any]:
        """Who and where this worker is: label, pid, node id, the dead owners it swept."""
        import ray

        return {
            "label": self.label,
            "pid": os.getpid(),
            "node_id": ray.get_runtime_context().get_node_id(),
            "swept": list(self.swept),
        }

    async def run(self, episode: Episode) -> dict[str, Any]:
        if self.gates is None:
            self.gates = Gates(self.limits)  # made in the actor's event loop
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)
        try:
            return await self.runner.run(episode, self.gates)
        finally:
            if task is not None:
                self.tasks.discard(task)

    async def shutdown(self) -> int:
        """Cancel every episode still running; returns how many there were once they closed."""
        tasks = [t for t in self.tasks if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        return len(tasks)


def _sweep_when_gone(pids: list[int], wait_s: float = 15.0) -> list[str]:
    """On a node: wait for these worker processes to end, then sweep what dead owners left."""
    import time

    from swerve.sandbox.ns.state import sweep

    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and any(p and os.path.exists(f"/proc/{p}") for p in pids):
        time.sleep(0.1)
    return sweep()


# --- in the driver --------------------------------------------------------------------------------


@dataclass(eq=False)
class Worker:
    """The driver's view of one worker actor."""

    slot: int  # the place in the plan; a replacement takes the same slot on the same node
    node_id: str
    generation: int
    label: str
    handle: Any
    pid: int | None = None
    load: int = 0
    finished: int = 0
    keys: set[str] = field(default_factory=set)
    alive: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "node_id": self.node_id,
            "pid": self.pid,
            "load": self.load,
            "finished": self.finished,
            "keys": len(self.keys),
        }


def worker_label(node_id: str, slot: int, generation: int) -> str:
    return f"ray:{node_id[:8]}:w{slot}.{generation}"


def plan_placement(node_ids: list[str], workers_per_node: int, num_workers: int | None) -> list[str]:
    """The node of each worker slot: ``workers_per_node`` on every node, or ``num_workers`` spread
    round-robin over the nodes."""
    if not node_ids:
        raise ValueError("no live Ray node can host environment workers")
    if num_workers is None:
        return [n for n in node_ids for _ in range(max(1, workers_per_node))]
    if num_workers < 1:
        raise ValueError(f"num_workers must be at least 1, not {num_workers}")
    return [node_ids[i % len(node_ids)] for i in range(num_workers)]


class RayExecutor:
    """Runs episodes on environment workers across a Ray cluster (see the module doc).

    ``address``: None starts a Ray for this machine in this process (stopped at ``close``); "auto"
    or "HOST:PORT" joins a running cluster (left running). ``limits`` apply to each worker
    (``limits.envs`` is a worker's capacity; ``capacity`` is their sum). ``workers_per_node``
    workers on every node, or exactly ``num_workers`` spread over the nodes; ``node_resource``
    keeps workers to the nodes that have that custom resource (``ray start --resources
    '{"swerve_envs": 1}'``), off a trainer's GPU nodes, say. ``actor_options`` go to Ray's
    ``.options()`` for every worker (``runtime_env``, ``memory``, ...).
    """

    def __init__(
        self,
        runner: EpisodeRunner,
        *,
        address: str | None = None,
        limits: PoolLimits | None = None,
        workers_per_node: int = 1,
        num_workers: int | None = None,
        node_resource: str | None = None,
        actor_options: dict[str, Any] | None = None,
        start_timeout_s: float = START_TIMEOUT_S,
    ) -> None:
        if workers_per_node < 1:
            raise ValueError(f"workers_per_node must be at least 1, not {workers_per_node}")
        if num_workers is not None and num_workers < 1:
            raise ValueError(f"num_workers must be at least 1, not {num_workers}")
        self.runner = runner
        self.address = address
        self.limits = (limits or PoolLimits()).resolved()
        self.workers_per_node = workers_per_node
        self.num_workers = num_workers
        self.node_resource = node_resource
        self.actor_options = dict(actor_options or {})
        self.start_timeout_s = start_timeout_s
        self.per_worker = self.limits.envs
        self.capacity = 0  # set by start(): per_worker times the worker slots still in use
        self.workers: list[Worker] = []  # live workers
        self.lost_workers = 0  # workers that died
        self.replaced = 0  # workers started in place of dead ones
        self.dropped = 0  # worker slots given up (node gone, or dying again and again)
        self.requeued = 0  # episodes handed back to the pool because their worker died
        self.history: list[str] = []  # what happened to workers, in words
        self._ray: Any = None
        self._actor_class: Any = None
        self._started_ray = False
        self._slots = 0  # slots in use (live or being replaced)
        self._deaths: dict[int, int] = {}  # slot -> deaths in a row
        self._waiters: list[asyncio.Future[None]] = []  # run() calls waiting for a worker with room
        self._started = False
        self._background: set[asyncio.Task[Any]] = set()
        self._closed = False

    # -- lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Join (or start) Ray and start the workers; InfraError when that cannot be done."""
        ray = self._ray = import_ray()
        self._started, self._closed, self._deaths = True, False, {}
        if not ray.is_initialized():
            self._init_ray(ray)
        self._actor_class = ray.remote(EnvWorker)
        nodes = await asyncio.to_thread(self._live_nodes)
        try:
            placement = plan_placement(nodes, self.workers_per_node, self.num_workers)
        except ValueError as exc:
            await self.close()
            raise InfraError(
                f"{exc} (resource {self.node_resource!r})" if self.node_resource else str(exc)
            ) from None
        results = await asyncio.gather(
            *(self._start_worker(slot, node, 0) for slot, node in enumerate(placement)),
            return_exceptions=True,
        )
        failures = [r for r in results if isinstance(r, BaseException)]
        self.workers = [r for r in results if isinstance(r, Worker)]
        if not self.workers:
            await self.close()
            raise InfraError(f"no Ray worker started ({len(placement)} tried): {_describe(failures[0])}")
        for failure in failures:  # run with the workers that did start
            self.dropped += 1
            self.history.append(f"a worker did not start: {_describe(failure)}")
            log.warning("a Ray worker did not start: %s", _describe(failure))
        self._slots = len(self.workers)
        self.capacity = self.per_worker * self._slots

    def _init_ray(self, ray: Any) -> None:
        options: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
        if self.address is None:
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # never report anywhere
            # "local": a new Ray even where ``ray start`` left one running (None would join it)
            options.update(address="local", include_dashboard=False, _node_ip_address=LOCAL_NODE_IP)
        else:
            options["address"] = self.address
        try:
            ray.init(**options)
        except Exception as exc:
            where = self.address or "a new local Ray"
            raise InfraError(f"cannot start or join the Ray cluster ({where}): {exc}") from exc
        self._started_ray = True

    async def close(self) -> None:
        """Close every worker's environments, kill the workers; stop Ray if this executor started it.

        A replacement still starting is given a while to come up first: it sweeps what the worker
        it replaces left behind."""
        if self._background:
            _, pending = await asyncio.wait(set(self._background), timeout=REPLACE_WAIT_S)
            for task in pending:
                task.cancel()
            await asyncio.gather(*self._background, return_exceptions=True)
        self._closed = True
        self._wake()
        workers, self.workers = self.workers, []
        if self._ray is not None and workers:
            await asyncio.gather(*(self._stop_worker(w) for w in workers), return_exceptions=True)
            await self._sweep_nodes(workers)
        if self._started_ray and self._ray is not None:
            self._ray.shutdown()
            self._started_ray = False
        self.capacity = 0
        self._wake()

    async def _stop_worker(self, worker: Worker) -> None:
        worker.alive = False
        try:
            async with asyncio.timeout(SHUTDOWN_TIMEOUT_S):
                await worker.handle.shutdown.remote()
        except (TimeoutError, self._ray.exceptions.RayError):
            pass  # dead already, or stuck: killed below
        self._kill(worker)

    async def _sweep_nodes(self, workers: list[Worker]) -> None:
        """Once the workers are gone, remove on each of their nodes whatever sandbox state they
        could not remove themselves (a worker killed while an environment was still closing)."""
        ray = self._ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        by_node: dict[str, list[int]] = {}
        for worker in workers:
            by_node.setdefault(worker.node_id, []).append(worker.pid or 0)
        sweeper = ray.remote(num_cpus=0, max_retries=0)(_sweep_when_gone)
        refs = [
            sweeper.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False)).remote(pids)
            for node, pids in by_node.items()
            if node in set(self._live_nodes())
        ]
        with contextlib.suppress(Exception):
            async with asyncio.timeout(SWEEP_TIMEOUT_S):
                await asyncio.gather(*refs, return_exceptions=True)

    def _kill(self, worker: Worker) -> None:
        with contextlib.suppress(Exception):  # a worker that is gone already
            self._ray.kill(worker.handle, no_restart=True)

    # -- workers ------------------------------------------------------------------------------------

    def _live_nodes(self) -> list[str]:
        """Live nodes that may host workers (those with ``node_resource``, when one is named)."""
        return [
            n["NodeID"]
            for n in self._ray.nodes()
            if n.get("Alive")
            and (self.node_resource is None or self.node_resource in (n.get("Resources") or {}))
        ]

    async def _start_worker(self, slot: int, node_id: str, generation: int) -> Worker:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        label = worker_label(node_id, slot, generation)
        options = {
            "num_cpus": 0,  # the worker's gates bound its work, not Ray's CPU accounting
            "max_concurrency": self.per_worker + EXTRA_CONCURRENCY,
            "max_restarts": 0,  # a replacement is this executor's to make (with a sweep, on a live node)
            "max_task_retries": 0,  # never run an episode twice behind the pool's back
            **self.actor_options,
            "scheduling_strategy": NodeAffinitySchedulingStrategy(node_id, soft=False),
        }
        handle = self._actor_class.options(**options).remote(self.runner, self.limits, label)
        worker = Worker(slot, node_id, generation, label, handle)
        try:
            async with asyncio.timeout(self.start_timeout_s):
                info = await handle.ready.remote()
        except BaseException:
            self._kill(worker)
            raise
        worker.pid = info["pid"]
        if info["swept"]:
            self.history.append(f"{label} swept the sandboxes of {len(info['swept'])} dead processes")
        return worker

    def _lose(self, worker: Worker, error: BaseException) -> None:
        """Take a dead worker out of rotation (once) and replace it if its node lives."""
        if not worker.alive:
            return
        worker.alive = False
        self.lost_workers += 1
        self.history.append(f"{worker.label} (pid {worker.pid}) was lost: {_describe(error)}")
        if worker in self.workers:
            self.workers.remove(worker)
        self._kill(worker)
        self._deaths[worker.slot] = 0 if worker.finished else self._deaths.get(worker.slot, 0) + 1
        if self._closed:
            return
        task = asyncio.create_task(self._replace(worker))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _replace(self, dead: Worker) -> None:
        generation = dead.generation
        while not self._closed:
            if self._deaths.get(dead.slot, 0) > MAX_REPLACEMENTS:
                self._drop(dead, "it died again and again before finishing an episode")
                return
            try:
                live = await asyncio.to_thread(self._live_nodes)
            except Exception as exc:
                self._drop(dead, f"the cluster could not be asked about its nodes: {_describe(exc)}")
                return
            if dead.node_id not in live:
                self._drop(dead, "its node is gone")
                return
            generation += 1
            try:
                worker = await self._start_worker(dead.slot, dead.node_id, generation)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._deaths[dead.slot] = self._deaths.get(dead.slot, 0) + 1
                self.history.append(f"a replacement of {dead.label} did not start: {_describe(exc)}")
                await asyncio.sleep(RETRY_DELAY_S)
                continue
            if self._closed:
                self._kill(worker)
                return
            self.replaced += 1
            self.workers.append(worker)
            self.history.append(f"{worker.label} (pid {worker.pid}) replaced {dead.label}")
            self._wake()
            return

    def _drop(self, dead: Worker, why: str) -> None:
        self.dropped += 1
        self._slots -= 1
        self.capacity = self.per_worker * self._slots
        self.history.append(f"worker slot of {dead.label} dropped: {why}")
        log.warning("Ray worker %s dropped: %s", dead.label, why)
        self._wake()

    def _wake(self) -> None:
        """Let every run() waiting for room look again."""
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    # -- routing ------------------------------------------------------------------------------------

    def pick(self, key: str) -> Worker | None:
        """A live worker with room: one that holds ``key`` if any (least loaded of them), else the
        least-loaded one; None when every worker is full."""
        free = [w for w in self.workers if w.alive and w.load < self.per_worker]
        holders = [w for w in free if key in w.keys]
        candidates = holders or free
        if not candidates:
            return None
        return min(candidates, key=lambda w: (w.load, w.slot))

    async def _acquire(self, key: str) -> Worker:
        if not self._started:
            raise RuntimeError("the Ray executor is not started")
        while True:
            if self._closed:
                raise InfraError("the Ray executor is closed")
            worker = self.pick(key)
            if worker is not None:
                worker.load += 1
                worker.keys.add(key)
                return worker
            if self._slots <= 0:
                raise NoWorkersLeft(
                    f"every Ray worker died and none could be replaced "
                    f"({self.lost_workers} lost, {self.dropped} dropped); " + "; ".join(self.history[-3:])
                )
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter

    async def run(self, episode: Episode) -> dict[str, Any]:
        ray = self._ray
        key = self.runner.affinity(episode.task_id)
        worker = await self._acquire(key)
        ref = None
        try:
            ref = worker.handle.run.remote(episode)
            record = await ref
        except asyncio.CancelledError:
            if ref is not None:
                with contextlib.suppress(Exception):
                    ray.cancel(ref)  # the worker cancels the episode, which closes its environment
            raise
        except _loss_errors(ray) as exc:
            self._lose(worker, exc)
            self.requeued += 1
            raise WorkerLost(f"{worker.label} died running {episode.key}: {_describe(exc)}") from exc
        except ray.exceptions.TaskCancelledError as exc:
            raise InfraError(f"{worker.label} cancelled {episode.key}") from exc
        except ray.exceptions.RayError as exc:
            raise InfraError(f"{worker.label} failed {episode.key}: {_describe(exc)}") from exc
        finally:
            worker.load -= 1
            self._wake()
        worker.finished += 1
        self._deaths[worker.slot] = 0
        return record

    def stats(self) -> dict[str, Any]:
        """Counters and the live workers, JSON-able (for a run's summary)."""
        return {
            "workers": [w.to_json() for w in self.workers],
            "capacity": self.capacity,
            "lost_workers": self.lost_workers,
            "replaced": self.replaced,
            "dropped": self.dropped,
            "requeued": self.requeued,
        }


def _describe(error: BaseException) -> str:
    """One line for an error (Ray's messages run over many lines)."""
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__

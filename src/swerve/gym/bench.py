"""``swerve gym bench``: many live environments driven by a scripted policy, with real commands.

Every environment is reset, then all of them are live at once; each takes ``steps`` steps of a
fixed policy (read a file, write a script, run it, in turn), is verified in a fresh copy of its
final state, and is closed. What is measured: wall time per phase, environment operations per
second, peak memory, failures, and what was left behind (processes, mounts, directories).
"""

from __future__ import annotations

import asyncio
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swerve.gym.leftovers import Footprint
from swerve.models.base import ToolCall
from swerve.paths import cache_root

SCRIPT = "printf 'ok %s\\n' \"$(wc -l < notes.txt)\" > out.txt\n"
VERIFY = "grep -q '^ok ' out.txt"


def make_base(directory: Path) -> Path:
    """The starting state every environment shares (copy-on-write)."""
    base = directory / "bench-base"
    (base / "pkg").mkdir(parents=True, exist_ok=True)
    (base / "notes.txt").write_text("".join(f"line {i}\n" for i in range(20)))
    (base / "pkg" / "mod.py").write_text("def f(x):\n    return x + 1\n")
    return base


def policy(step: int, env_index: int) -> ToolCall:
    """The scripted policy: read, write, run, then again."""
    kind = step % 3
    if kind == 0:
        return ToolCall(f"c{step}", "read_file", {"file_path": "notes.txt"})
    if kind == 1:
        return ToolCall(f"c{step}", "write_file", {"file_path": "run.sh", "content": SCRIPT})
    return ToolCall(f"c{step}", "run_shell_command", {"command": f"echo {env_index} >> notes.txt; sh run.sh"})


@dataclass
class BenchResult:
    envs: int
    steps: int
    failures: int = 0
    failure_examples: list[str] = field(default_factory=list)
    rewards: int = 0
    leftovers: dict[str, int] = field(default_factory=dict)
    phases_s: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0
    peak_rss_mb: float = 0.0
    peak_children_rss_mb: float = 0.0

    @property
    def operations(self) -> int:
        """reset + steps + verify + close for every environment."""
        return self.envs * (self.steps + 3)

    def to_json(self) -> dict[str, Any]:
        return {
            "envs": self.envs,
            "steps": self.steps,
            "failures": self.failures,
            "failure_examples": self.failure_examples[:5],
            "rewarded": self.rewards,
            "leftovers": sum(self.leftovers.values()),
            "leftovers_by_kind": self.leftovers,
            "wall_s": round(self.wall_s, 3),
            "ops_per_s": round(self.operations / self.wall_s, 1) if self.wall_s else 0.0,
            "phases_s": {k: round(v, 3) for k, v in self.phases_s.items()},
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "peak_children_rss_mb": round(self.peak_children_rss_mb, 1),
        }


async def run_bench(
    envs: int,
    steps: int = 3,
    *,
    concurrency: int = 64,
    work_dir: Path | None = None,
    on_phase: Any = None,
) -> BenchResult:
    """Run the benchmark; every environment is live at once between reset and close."""
    from swerve.gym.env import DirectoryEnv

    work_dir = work_dir or cache_root() / "gym-bench"
    base = make_base(work_dir)
    result = BenchResult(envs=envs, steps=steps)
    gate = asyncio.Semaphore(max(1, concurrency))
    before = Footprint.take()
    live: list[Any] = [None] * envs
    failed: set[int] = set()

    def fail(i: int, what: str) -> None:
        failed.add(i)
        result.failures += 1
        if len(result.failure_examples) < 5:
            result.failure_examples.append(f"env {i}: {what}")

    async def phase(name: str, work: Any) -> None:
        t0 = time.perf_counter()

        async def guarded(i: int) -> None:
            if i in failed:
                return
            async with gate:
                try:
                    await work(i)
                except Exception as exc:
                    fail(i, f"{name}: {type(exc).__name__}: {exc}")

        await asyncio.gather(*(guarded(i) for i in range(envs)))
        result.phases_s[name] = time.perf_counter() - t0
        if on_phase is not None:
            on_phase(name, result.phases_s[name])

    async def reset(i: int) -> None:
        env = DirectoryEnv(f"bench-{i}", str(base), VERIFY, prompt="benchmark")
        live[i] = env
        await env.reset()

    async def act(i: int) -> None:
        for step in range(steps):
            outcome = await live[i].step(policy(step, i))
            if outcome.is_error:
                raise RuntimeError(f"step {step}: {outcome.observation[:200]}")

    async def verify(i: int) -> None:
        verdict = await live[i].verify()
        if steps >= 3 and verdict.reward != 1.0:
            raise RuntimeError(f"reward {verdict.reward}: {verdict.report}")
        result.rewards += int(verdict.reward == 1.0)

    async def close(i: int) -> None:
        if live[i] is not None:
            await live[i].close()
            live[i] = None

    t0 = time.perf_counter()
    try:
        await phase("reset", reset)
        await phase("steps", act)
        await phase("verify", verify)
    finally:
        failed.clear()  # every environment is closed, failed or not
        await phase("close", close)
    result.wall_s = time.perf_counter() - t0
    await asyncio.sleep(0.5)  # let the kernel reap the last sandbox processes
    result.leftovers = before.left_since()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    result.peak_rss_mb = usage.ru_maxrss / 1024
    result.peak_children_rss_mb = children.ru_maxrss / 1024
    return result

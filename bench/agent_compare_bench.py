"""swerve against mini-swe-agent on the embedded local model, task by task, in the same sandboxes.

One local llama.cpp server (swerve's own, ``swerve.local``), started by the bench with its own
settings (never another process's), serves both agents. For each of N
built-in tasks, each agent runs one episode in a fresh swerve namespace sandbox over the task's
layer, and its final diff is graded by swerve's harness (``TaskEnv.verify``, as ``swerve gym run``
grades). Same model, temperature, seed, step budget (model calls) and reply tokens for all.

- ``swerve-native`` / ``swerve-qwen-xml``: swerve's agent through the farm's episode runner
  (``EpisodeRunner``, the code path of ``swerve gym run``), ``--tool-protocol native`` / ``qwen-xml``;
- ``mini``: mini-swe-agent's ``DefaultAgent`` with its ``LitellmModel`` (``openai/<alias>`` with
  ``api_base``) and its SWE-bench prompts, its bash commands run by ``SandboxEnvironment`` (below)
  through the sandbox's ``Workspace``.

mini-swe-agent is not a dependency of swerve; install it into the same environment first:

    .venv/bin/pip install mini-swe-agent
    .venv/bin/python bench/agent_compare_bench.py [--tasks 10] [--steps 30] [--reply-tokens 512] \\
        [--json bench/.out/agent-compare.json]

Each episode is appended to the JSON file as soon as it ends (its whole trajectory goes to
``<json stem>-trajectories/<agent>/<task>.json``); running the same command again
skips the episodes already there (``--fresh`` starts over).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

AGENTS = ("swerve-native", "swerve-qwen-xml", "mini")
MINI_INSTALL = "mini-swe-agent is not installed here: run `.venv/bin/pip install mini-swe-agent` (or pass --agents without mini)"
IDENTITY = ("model", "steps", "reply_tokens", "temperature", "seed", "ctx")


# -- tasks -------------------------------------------------------------------------------------------


def pick_tasks(source: Any, n: int, names: str) -> list[str]:
    """The named task ids, or ``n`` of the suite taken round-robin across its libraries."""
    ids = source.task_ids()
    if names:
        wanted = [t.strip() for t in names.split(",") if t.strip()]
        unknown = [t for t in wanted if t not in ids]
        if unknown:
            raise SystemExit(f"unknown task ids: {', '.join(unknown)}")
        return wanted
    by_repo: dict[str, list[str]] = defaultdict(list)
    for task_id in sorted(ids):
        by_repo[source.affinity(task_id)].append(task_id)
    picked: list[str] = []
    while len(picked) < min(n, len(ids)):
        for queue in by_repo.values():
            if queue and len(picked) < n:
                picked.append(queue.pop(0))
    return picked


# -- swerve --------------------------------------------------------------------------------------------


def swerve_agent(protocol: str, base_url: str, args: argparse.Namespace) -> Any:
    """The agent ``swerve gym run --model ALIAS --base-url URL`` would build, with these settings."""
    from swerve.cli.flags import TASK_ACT_NUDGES
    from swerve.config import AgentConfig, resolve

    sampling = {"temperature": args.temperature, "seed": args.seed, "max_tokens": args.reply_tokens}
    flags = {
        "model": args.model,
        "provider": "openai",
        "base_url": base_url,
        "api_key": "none",
        "tool_protocol": protocol,
        "sampling": sampling,
    }
    config = AgentConfig.from_settings(resolve(os.getcwd(), flags), max_turns=args.steps)
    config.act_nudges = TASK_ACT_NUDGES
    return config


async def swerve_episode(source: Any, task_id: str, config: Any) -> dict[str, Any]:
    from swerve.agent.loop import act_nudge
    from swerve.gym.base import Episode
    from swerve.gym.episode import EpisodeRunner, Gates, PoolLimits

    runner = EpisodeRunner(source, config, run_id="agent-compare")
    record = await runner.run(Episode(task_id), Gates(PoolLimits(envs=1, model_calls=1)))
    nudge = act_nudge([])[:40]
    timing, usage = record["timing"], record["usage"]
    return {
        "resolved": record.get("reward") == 1.0,
        "exit": record["exit_reason"],
        "format_failure": record["exit_reason"] == "format_error",
        "format_error_replies": sum(
            1
            for m in record["messages"]
            if m.get("role") == "user" and str(m.get("content", "")).startswith(nudge)
        ),
        "model_calls": len(record["turns"]),
        "input_tokens": usage["input_tokens"],
        "output_tokens": usage["output_tokens"],
        "wall_s": timing["duration_s"],
        "model_s": timing["model_s"],
        "env_s": timing["env_s"],
        "infra_error": record.get("infra_error"),
        "patch_bytes": len((record.get("patch") or "").encode()),
        "trajectory": record,
    }


# -- mini-swe-agent ------------------------------------------------------------------------------------


class SandboxEnvironment:
    """mini-swe-agent's Environment over a swerve sandbox: each command is one ``Workspace.exec``
    in the task's checkout (a new shell each time, as in mini's own environments)."""

    def __init__(self, workspace: Any, loop: asyncio.AbstractEventLoop, cwd: str, timeout: int) -> None:
        from pydantic import BaseModel

        class Config(BaseModel):
            cwd: str
            timeout: int

        self.config = Config(cwd=cwd, timeout=timeout)
        self.workspace = workspace
        self.loop = loop
        self.env_s = 0.0

    def execute(self, action: dict, cwd: str = "", *, timeout: int | None = None) -> dict[str, Any]:
        from minisweagent.environments.local import LocalEnvironment

        t0 = time.monotonic()
        ran = asyncio.run_coroutine_threadsafe(
            self.workspace.exec(
                action.get("command", ""), cwd=cwd or self.config.cwd, timeout=timeout or self.config.timeout
            ),
            self.loop,
        )
        try:
            result = ran.result()
            info = (
                f"The command timed out after {timeout or self.config.timeout} s." if result.timed_out else ""
            )
            output = {"output": result.output, "returncode": result.exit_code, "exception_info": info}
        except Exception as exc:  # a sandbox failure is shown to the agent, as mini's environments do
            output = {"output": "", "returncode": -1, "exception_info": f"{type(exc).__name__}: {exc}"}
        finally:
            self.env_s += time.monotonic() - t0
        LocalEnvironment._check_finished(self, output)  # type: ignore[arg-type]  # raises Submitted
        return output

    def get_template_vars(self, **kwargs: Any) -> dict[str, Any]:
        return {**self.config.model_dump(), **kwargs}

    def serialize(self) -> dict:
        return {
            "info": {
                "config": {"environment": self.config.model_dump(), "environment_type": "swerve-sandbox"}
            }
        }


def mini_model(base_url: str, args: argparse.Namespace, yaml_model: dict[str, Any], sampling: dict) -> Any:
    """mini's LitellmModel pointed at the local server, timing and counting each call, sampling as
    swerve does (``sampling``: swerve's effective sampling; top_k and the repetition penalty are not
    OpenAI fields, so they go in the request body as they are)."""
    from minisweagent.exceptions import FormatError
    from minisweagent.models.litellm_model import LitellmModel

    class TimedModel(LitellmModel):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.model_s = 0.0
            self.calls = 0
            self.format_errors = 0
            self.input_tokens = 0
            self.output_tokens = 0

        def _query(self, messages: list[dict[str, str]], **kwargs: Any) -> Any:
            t0 = time.monotonic()
            try:
                response = super()._query(messages, **kwargs)
            finally:
                self.model_s += time.monotonic() - t0
                self.calls += 1
            usage = getattr(response, "usage", None)
            self.input_tokens += getattr(usage, "prompt_tokens", 0) or 0
            self.output_tokens += getattr(usage, "completion_tokens", 0) or 0
            return response

        def _parse_actions(self, response: Any) -> list[dict]:
            try:
                return super()._parse_actions(response)
            except FormatError:
                self.format_errors += 1
                raise

    kwargs = {
        **yaml_model.get("model_kwargs", {}),
        "api_base": base_url,
        "api_key": "none",
        **{k: sampling[k] for k in ("temperature", "top_p", "seed", "max_tokens") if k in sampling},
        "extra_body": {k: sampling[k] for k in ("top_k", "repetition_penalty") if k in sampling},
    }
    return TimedModel(
        model_name=f"openai/{args.model}",
        model_kwargs=kwargs,
        cost_tracking="ignore_errors",
        observation_template=yaml_model["observation_template"],
        format_error_template=yaml_model["format_error_template"],
    )


def mini_config() -> dict[str, Any]:
    """mini-swe-agent's own SWE-bench configuration (prompts, templates, model arguments)."""
    import yaml
    from minisweagent.config import get_config_path

    return yaml.safe_load(get_config_path("swebench").read_text())


async def mini_episode(
    source: Any, task_id: str, base_url: str, args: argparse.Namespace, sampling: dict
) -> dict[str, Any]:
    from minisweagent.agents.default import DefaultAgent

    from swerve.errors import InfraError

    config = mini_config()
    env = source.make(task_id)
    try:
        prompt = await env.reset()
        sandbox = SandboxEnvironment(
            env.workspace, asyncio.get_running_loop(), env.testbed, int(config["environment"]["timeout"])
        )
        model = mini_model(base_url, args, config["model"], sampling)
        agent_yaml = config["agent"]
        agent = DefaultAgent(
            model,
            sandbox,
            system_template=agent_yaml["system_template"],
            instance_template=agent_yaml["instance_template"].replace("/testbed", env.testbed),
            step_limit=args.steps,
            cost_limit=0,
        )
        t0 = time.monotonic()
        infra, resolved = None, False
        try:
            exit_info = await asyncio.to_thread(agent.run, prompt)
        except Exception as exc:  # mini re-raises what it did not expect (the server failing): kept
            exit_info, infra = {"exit_status": type(exc).__name__}, f"mini-swe-agent failed: {exc}"
        wall = time.monotonic() - t0
        if infra is None:
            try:
                resolved = (await env.verify()).resolved
            except InfraError as exc:
                infra = str(exc)
        status = exit_info.get("exit_status", "")
        return {
            "resolved": resolved,
            "exit": status,
            "format_failure": status == "RepeatedFormatError",
            "format_error_replies": model.format_errors,
            "model_calls": model.calls,
            "input_tokens": model.input_tokens,
            "output_tokens": model.output_tokens,
            "wall_s": wall,
            "model_s": model.model_s,
            "env_s": sandbox.env_s,
            "infra_error": infra,
            "patch_bytes": len((env.patch or "").encode()),
            "trajectory": {**agent.serialize(), "patch": env.patch},
        }
    finally:
        await env.close()


# -- results -------------------------------------------------------------------------------------------


class Results:
    """The JSON file: the run's settings and one entry per episode, rewritten after each episode."""

    def __init__(self, path: Path, settings: dict[str, Any], fresh: bool) -> None:
        self.path = path
        self.data: dict[str, Any] = {"settings": settings, "episodes": []}
        if path.is_file() and not fresh:
            stored = json.loads(path.read_text())
            differ = [k for k in IDENTITY if stored.get("settings", {}).get(k) != settings[k]]
            if differ:
                raise SystemExit(
                    f"{path} holds a run with other settings ({', '.join(differ)}): "
                    "give --fresh to start over, or another --json"
                )
            self.data["episodes"] = stored.get("episodes", [])

    def trajectory_path(self, agent: str, task_id: str) -> Path:
        """Where the episode's whole trajectory goes (swerve's record, or mini's own serialization)."""
        return self.path.with_name(f"{self.path.stem}-trajectories") / agent / f"{task_id}.json"

    def done(self, agent: str, task_id: str) -> bool:
        return any(e["agent"] == agent and e["task_id"] == task_id for e in self.data["episodes"])

    def add(self, entry: dict[str, Any]) -> None:
        self.data["episodes"].append(entry)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1))
        os.replace(tmp, self.path)


def summary(episodes: list[dict[str, Any]]) -> dict[str, float]:
    n = len(episodes) or 1
    wall = sum(e["wall_s"] for e in episodes)
    model = sum(e["model_s"] for e in episodes)
    env = sum(e["env_s"] for e in episodes)
    return {
        "episodes": len(episodes),
        "resolved": sum(bool(e["resolved"]) for e in episodes),
        "format_failures": sum(bool(e["format_failure"]) for e in episodes),
        "format_error_replies": sum(e["format_error_replies"] for e in episodes),
        "infra_errors": sum(bool(e["infra_error"]) for e in episodes),
        "tokens": sum(e["input_tokens"] + e["output_tokens"] for e in episodes) / n,
        "output_tokens": sum(e["output_tokens"] for e in episodes) / n,
        "wall_s": wall / n,
        "outside_model": (wall - model) / wall if wall else 0.0,
        "overhead": (wall - model - env) / wall if wall else 0.0,
        "overhead_ms": 1000 * (wall - model - env) / n,
    }


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "–"


def table(results: Results, agents: list[str]) -> str:
    rows = {a: summary([e for e in results.data["episodes"] if e["agent"] == a]) for a in agents}
    s = results.data["settings"]
    lines = [
        f"model {s['model']} · {len(s.get('task_ids', []))} built-in tasks · {s['steps']} steps · {s['reply_tokens']} reply tokens"
        f" · temperature {s['temperature']} · seed {s['seed']} · load {os.getloadavg()[0]:.1f}",
        "",
        "agent | episodes | resolved | format-failure episodes | format-error replies | tokens / episode"
        " (out) | wall / episode | outside the model | agent overhead (per episode)",
        "--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---:",
    ]
    for agent, r in rows.items():
        lines.append(
            f"{agent} | {r['episodes']} | {r['resolved']} | {r['format_failures']} | {r['format_error_replies']}"
            f" | {r['tokens']:,.0f} ({r['output_tokens']:,.0f}) | {r['wall_s']:.1f} s | {r['outside_model']:.1%}"
            f" | {r['overhead']:.2%} ({r['overhead_ms']:.1f} ms)"
        )
    if "mini" in rows and rows["mini"]["episodes"]:
        m = rows["mini"]
        lines += [
            "",
            "vs mini | resolved | format failures | tokens / episode | wall / episode",
            "--- | ---: | ---: | ---: | ---:",
        ]
        for agent, r in rows.items():
            if agent != "mini":
                lines.append(
                    f"{agent} / mini | {r['resolved']} vs {m['resolved']} | {r['format_failures']} vs"
                    f" {m['format_failures']} | {ratio(r['tokens'], m['tokens'])} | {ratio(r['wall_s'], m['wall_s'])}"
                )
    infra = [e for e in results.data["episodes"] if e["infra_error"]]
    lines += [f"infra error: {e['agent']} {e['task_id']}: {e['infra_error']}" for e in infra]
    return "\n".join(lines)


# -- the run -------------------------------------------------------------------------------------------


async def run_all(
    args: argparse.Namespace,
    agents: list[str],
    results: Results,
    base_url: str,
    source: Any,
    task_ids: list[str],
) -> None:
    configs = {a: swerve_agent(a.removeprefix("swerve-"), base_url, args) for a in AGENTS if a != "mini"}
    sampling = configs["swerve-native"].effective_sampling()  # what every agent's requests carry
    results.data["settings"]["sampling"] = sampling
    for task_id in task_ids:
        for agent in agents:
            if results.done(agent, task_id):
                continue
            t0 = time.monotonic()
            if agent == "mini":
                entry = await mini_episode(source, task_id, base_url, args, sampling)
            else:
                entry = await swerve_episode(source, task_id, configs[agent])
            entry = {"agent": agent, "task_id": task_id, **entry, "episode_s": time.monotonic() - t0}
            trajectory = results.trajectory_path(agent, task_id)
            trajectory.parent.mkdir(parents=True, exist_ok=True)
            trajectory.write_text(json.dumps(entry.pop("trajectory"), indent=1, default=str))
            results.add(entry)
            print(
                f"{agent:<16} {task_id:<32} resolved={entry['resolved']!s:<5} exit={entry['exit']:<20}"
                f" calls={entry['model_calls']} wall={entry['wall_s']:.1f}s model={entry['model_s']:.1f}s",
                file=sys.stderr,
                flush=True,
            )


def quiet_mini(work: Path) -> None:
    """mini-swe-agent and litellm without a banner, a user config or a network look-up."""
    os.environ.setdefault("MSWEA_SILENT_STARTUP", "1")
    os.environ.setdefault("MSWEA_GLOBAL_CONFIG_DIR", str(work / "mini-config"))
    os.environ.setdefault("MSWEA_COST_TRACKING", "ignore_errors")
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="qwen2.5-coder-0.5b")
    ap.add_argument(
        "--tasks", type=int, default=10, help="how many built-in tasks (round-robin over libraries)"
    )
    ap.add_argument("--task-ids", default="", help="comma-separated task ids instead of --tasks")
    ap.add_argument("--steps", type=int, default=30, help="model calls per episode, for every agent")
    ap.add_argument("--reply-tokens", type=int, default=512, help="max tokens per model reply")
    ap.add_argument("--temperature", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ctx", type=int, default=16384, help="the server's context size")
    ap.add_argument("--agents", default=",".join(AGENTS), help=f"some of {', '.join(AGENTS)}")
    ap.add_argument("--json", default="bench/.out/agent-compare.json", help="results, appended per episode")
    ap.add_argument("--fresh", action="store_true", help="start over instead of resuming --json")
    args = ap.parse_args(argv)
    agents = [a.strip() for a in args.agents.split(",") if a.strip()]
    if not agents or set(agents) - set(AGENTS):
        ap.error(f"--agents takes some of {', '.join(AGENTS)}")
    out = Path(args.json)
    if "mini" in agents:
        quiet_mini(out.parent)
        if importlib.util.find_spec("minisweagent") is None:
            print(MINI_INSTALL, file=sys.stderr)
            return 2
        import litellm
        import minisweagent.agents.default  # noqa: F401  (litellm loads here, outside any episode)

        litellm.suppress_debug_info = True  # no "Provider List" banner for the local model's name

    from swerve.gym.sources import load_source
    from swerve.local.catalog import resolve_model_file
    from swerve.local.process import LocalServer

    settings = {k: getattr(args, k) for k in IDENTITY} | {"tasks": args.tasks}
    results = Results(out, settings, args.fresh)
    source = load_source("builtin")
    task_ids = pick_tasks(source, args.tasks, args.task_ids)
    results.data["settings"]["task_ids"] = task_ids
    if any(not results.done(a, t) for a in agents for t in task_ids):
        path = resolve_model_file(args.model)
        with LocalServer(path, alias=args.model, ctx=args.ctx, parallel=1, reuse=False).start() as srv:
            asyncio.run(run_all(args, agents, results, srv.base_url, source, task_ids))
    print(table(results, agents))
    print(f"\nepisodes: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

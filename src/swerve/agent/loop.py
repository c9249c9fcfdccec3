"""The agent loop: ask the model, run the tools it calls, repeat until it answers without calls."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from swerve.agent import context as ctxmod
from swerve.agent.events import (
    Compressed,
    Event,
    EventSink,
    ExitReason,
    Finished,
    MessageAdded,
    ModelReplied,
    Notice,
    TextDelta,
    ToolFinished,
    ToolStarted,
    TurnStarted,
)
from swerve.agent.guard import LOOP_WARNING, TEXT_LOOP_WARNING, LoopGuard
from swerve.agent.permissions import ApprovalRequest, Permission
from swerve.agent.prompts import system_prompt
from swerve.errors import ModelError
from swerve.models.base import Message, Model, ModelTurn, Pricing, Sampling, TokenTrace, ToolCall, Usage
from swerve.tools.base import ToolContext, ToolResult
from swerve.tools.registry import ToolRegistry


@dataclass
class RunLimits:
    """When a run stops by itself. ``None`` means no limit."""

    max_turns: int | None = 100
    max_tokens: int | None = None  # input + output, summed over turns
    max_cost: float | None = None  # in the currency of ``pricing``
    wall_clock_s: float | None = None
    pricing: Pricing = field(default_factory=Pricing)


@dataclass
class TurnStats:
    """One model turn as it happened: timings, usage, the server's finish reason, what was sent
    (``request``), what came back as text (``raw_text``) and, when the server says, its tokens."""

    turn: int
    model_s: float
    env_s: float
    usage: Usage
    finish_reason: str
    raw_text: str = ""
    request: dict[str, Any] | None = None
    tokens: TokenTrace | None = None
    repairs: list[str] = field(default_factory=list)  # near misses mended to read its calls


BeforeTools = Callable[[list[ToolCall]], Awaitable[None]]

# a reply that is neither an answer nor a call: the model is asked to go on this many times
NUDGE_LIMITS = {"empty_reply": 2, "truncated": 1}
NUDGES = {
    "empty_reply": (
        "Your last reply was empty. Either call a tool to make progress, or answer with what you "
        "found and what you changed."
    ),
    "truncated": (
        "Your last reply reached the output token limit and was cut off. Continue, more briefly: "
        "call a tool, or finish your answer in fewer words."
    ),
}
STOP_MESSAGES = {
    "format_error": "the model answered {n} times without calling a tool",
    "empty_reply": "the model replied with nothing {n} times in a row",
    "truncated": "the model's reply was cut off at the output token limit {n} times in a row",
}
_CONTEXT_OVERFLOW = re.compile(
    r"context.{0,20}(length|size|window)|maximum context|context_length_exceeded|prompt is too long|"
    r"too many tokens|exceeds the available context|input is too long",
    re.IGNORECASE,
)


def act_nudge(tools: list[Any]) -> str:
    """What a model that answered in prose is told: the task needs tool calls, and how to write one."""
    names = ", ".join(t.name for t in tools)
    return (
        "You answered without calling a tool, but this task is done by calling tools: look at the code, "
        f"change it and check it. Call one of these tools now: {names}. Write the call itself, not a "
        'description of it: for example {"name": "run_shell_command", "arguments": {"command": "ls"}}.'
    )


def context_overflow(exc: ModelError) -> bool:
    """Whether the endpoint refused the request because it does not fit the model's context."""
    return exc.status in (400, 413, 422, None) and bool(_CONTEXT_OVERFLOW.search(str(exc)))


@dataclass
class _Stop(Exception):
    reason: ExitReason
    error: str | None = None


class Agent:
    """Runs one conversation. Everything that happens is emitted as events to ``on_event``."""

    def __init__(
        self,
        model: Model,
        tools: ToolRegistry,
        tool_context: ToolContext,
        *,
        permission: Permission | None = None,
        limits: RunLimits | None = None,
        sampling: Sampling | None = None,
        system: str | None = None,
        history: list[Message] | None = None,
        on_event: EventSink | None = None,
        before_tools: BeforeTools | None = None,
        act_nudges: int = 0,
    ) -> None:
        self.model = model
        self.tools = tools
        self.ctx = tool_context
        self.permission = permission or Permission("default")
        if self.permission.root is None:  # writes are judged against the workspace the tools see
            self.permission.root = tool_context.workspace.root
            self.permission.allowed_dirs = tuple(tool_context.allowed_dirs)
        self.limits = limits or RunLimits()
        self.sampling = sampling
        self.on_event = on_event
        # a task run (gym, eval): a reply with no call before any call is a format failure; the
        # model is told how to call a tool this many times, then the run ends as format_error
        self.act_nudges = act_nudges
        # awaited with a turn's tool calls before any of them runs (the app checkpoints files here)
        self.before_tools = before_tools
        self.messages: list[Message] = list(history or [])
        if not self.messages:
            self._add({"role": "system", "content": system or system_prompt(tool_context.workspace.root)})
        self.usage = Usage()
        self.turns: list[TurnStats] = []
        self.guard = LoopGuard()
        self.denials: list[dict[str, Any]] = []
        self._last_input_tokens = 0
        self._messages_at_last_usage = 0
        self._step: asyncio.Future[Any] | None = None
        self._interrupted = False

    # -- events and history -------------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def _add(self, message: Message) -> None:
        self.messages.append(message)
        self._emit(MessageAdded(message))

    def set_tools(self, tools: ToolRegistry) -> None:
        """Use ``tools`` from the next turn on (MCP servers that connected, or went away)."""
        self.tools = tools

    def set_model(self, model: Model) -> None:
        """Use ``model`` from the next turn on (``/model`` in the app)."""
        self.model = model

    def interrupt(self) -> None:
        """End the current run at once (Esc, Ctrl-C); the history stays consistent."""
        self._interrupted = True
        if self._step is not None and not self._step.done():
            self._step.cancel()

    async def _guarded(self, coro: Any) -> Any:
        """Await a step so that ``interrupt`` can cancel it."""
        if self._interrupted:
            coro.close()
            raise _Stop("interrupted")
        self._step = asyncio.ensure_future(coro)
        try:
            return await self._step
        except asyncio.CancelledError:
            if self._interrupted:
                raise _Stop("interrupted") from None
            raise
        finally:
            self._step = None

    # -- the run ------------------------------------------------------------------------------

    async def run(self, task: str) -> Finished:
        """Add ``task`` as a user message and work on it until done or stopped."""
        self._interrupted = False
        started = time.monotonic()
        turns_before = len(self.turns)
        self._add({"role": "user", "content": task})
        reason: ExitReason = "completed"
        error: str | None = None
        result = ""
        try:
            async with asyncio.timeout(self.limits.wall_clock_s):
                result = await self._work(started, turns_before)
        except _Stop as stop:
            reason, error = stop.reason, stop.error
        except TimeoutError:
            reason, error = "timeout", f"wall-clock limit of {self.limits.wall_clock_s:g} s reached"
        except ModelError as exc:
            reason, error = "model_error", str(exc)
        self._close_open_calls()
        if reason != "completed" and not result:
            result = error or reason
        finished = Finished(
            exit_reason=reason,
            result=result,
            num_turns=len(self.turns) - turns_before,
            usage=self.usage,
            duration_s=time.monotonic() - started,
            model_s=sum(t.model_s for t in self.turns[turns_before:]),
            env_s=sum(t.env_s for t in self.turns[turns_before:]),
            error=error,
            denials=list(self.denials),
        )
        self._emit(finished)
        return finished

    async def _work(self, started: float, turns_before: int) -> str:
        nudges = {"empty_reply": 0, "truncated": 0, "format_error": 0}
        acted = any(m.get("tool_calls") for m in self.messages if m["role"] == "assistant")
        while True:
            self._check_limits(turns_before)
            await self._maybe_compress()
            number = len(self.turns) + 1
            self._emit(TurnStarted(number))
            t0 = time.monotonic()
            turn = await self._ask_model()
            model_s = time.monotonic() - t0
            self.usage.add(turn.usage)
            if turn.usage.input_tokens:
                self._last_input_tokens = turn.usage.input_tokens + turn.usage.output_tokens
                self._messages_at_last_usage = len(self.messages) + 1
            self._emit(ModelReplied(turn, model_s))
            stats = TurnStats(
                number,
                model_s,
                0.0,
                turn.usage,
                turn.finish_reason,
                raw_text=turn.raw_text,
                request=turn.request,
                tokens=turn.tokens,
                repairs=[r for c in turn.tool_calls for r in c.repairs],
            )
            self.turns.append(stats)
            self._add(turn.message())

            verdict = self.guard.check_text(turn.text)
            if verdict == "stop":
                raise _Stop("loop", "the model kept repeating the same text")
            if verdict == "warn":
                self._emit(Notice("repeated text detected; the model was told to change course", "warning"))
                if not turn.tool_calls:
                    self._add({"role": "user", "content": TEXT_LOOP_WARNING})
                    continue

            if not turn.tool_calls and not acted and self.act_nudges and turn.text.strip():
                nudges["format_error"] += 1
                if nudges["format_error"] > self.act_nudges:
                    raise _Stop(
                        "format_error", STOP_MESSAGES["format_error"].format(n=nudges["format_error"])
                    )
                self._emit(Notice("no tool call: the model was told how to call one", "warning"))
                self._add({"role": "user", "content": act_nudge(self.tools.specs())})
                continue
            if not turn.tool_calls:
                if turn.text.strip() and turn.finish_reason != "length":
                    return turn.text
                kind: Literal["empty_reply", "truncated"] = (
                    "truncated" if turn.text.strip() else "empty_reply"
                )
                nudges[kind] += 1
                if nudges[kind] > NUDGE_LIMITS[kind]:
                    raise _Stop(kind, STOP_MESSAGES[kind].format(n=nudges[kind]))
                self._emit(Notice(f"{kind.replace('_', ' ')}: the model was asked to go on", "warning"))
                self._add({"role": "user", "content": NUDGES[kind]})
                continue
            nudges = {"empty_reply": 0, "truncated": 0, "format_error": 0}
            acted = True
            t1 = time.monotonic()
            await self._before_tools(turn.tool_calls)
            await self._run_calls(turn.tool_calls)
            stats.env_s = time.monotonic() - t1

    async def _ask_model(self) -> ModelTurn:
        """One model turn. A request the server refuses as too long for its context gets one
        compression of the history and one more try; then the run stops as ``context_overflow``.
        An interrupted turn keeps the text streamed so far in the history."""
        partial: list[str] = []

        def on_text(delta: str) -> None:
            partial.append(delta)
            self._emit(TextDelta(delta))

        for attempt in (1, 2):
            partial.clear()
            try:
                return await self._guarded(
                    self.model.complete(
                        self.messages, self.tools.specs(), sampling=self.sampling, on_text=on_text
                    )
                )
            except _Stop:
                if partial:
                    self._add({"role": "assistant", "content": "".join(partial), "interrupted": True})
                raise
            except ModelError as exc:
                if not context_overflow(exc):
                    raise
                if attempt == 2 or not await self.compress():
                    raise _Stop(
                        "context_overflow", f"the history no longer fits the context window: {exc}"
                    ) from None
        raise AssertionError("unreachable")

    def _check_limits(self, turns_before: int) -> None:
        lim = self.limits
        if lim.max_turns is not None and len(self.turns) - turns_before >= lim.max_turns:
            raise _Stop("max_turns", f"reached the limit of {lim.max_turns} turns")
        total = self.usage.input_tokens + self.usage.output_tokens
        if lim.max_tokens is not None and total >= lim.max_tokens:
            raise _Stop("max_tokens", f"used {total} tokens, limit {lim.max_tokens}")
        if lim.max_cost is not None and lim.pricing.cost(self.usage) >= lim.max_cost:
            raise _Stop(
                "max_cost", f"cost {lim.pricing.cost(self.usage):.4f} reached the limit of {lim.max_cost:g}"
            )

    # -- tools --------------------------------------------------------------------------------

    async def _run_calls(self, calls: list[ToolCall]) -> None:
        """Run a turn's calls; consecutive read-only calls run concurrently, results keep call order."""
        batch: list[ToolCall] = []
        stop: _Stop | None = None
        for call in calls:
            if stop is not None:
                self._answer(call, ToolResult("Not run: the run was stopped by an earlier call.", True))
                continue
            verdict = self.guard.check_call(call) if call.error is None else "ok"
            if verdict != "ok":
                await self._flush(batch)
                batch = []
                if verdict == "stop":
                    stop = _Stop("loop", f"the model repeated the same {call.name} call without progress")
                    self._answer(call, ToolResult("Not run: the run was stopped because of a loop.", True))
                else:
                    self._emit(Notice(f"repeated {call.name} call not run", "warning"))
                    self._answer(call, ToolResult(LOOP_WARNING.format(n=self.guard.call_repeat_limit), True))
                continue
            tool = self.tools.get(call.name)
            if tool is not None and call.error is None and tool.kind == "read":
                batch.append(call)
                continue
            await self._flush(batch)
            batch = []
            await self._run_one(call)
        await self._flush(batch)
        if stop is not None:
            raise stop

    async def _before_tools(self, calls: list[ToolCall]) -> None:
        if self.before_tools is None:
            return
        try:
            await self._guarded(self.before_tools(calls))
        except _Stop:
            raise
        except Exception as exc:
            self._emit(Notice(f"before-tools hook failed: {exc}", "warning"))

    async def _flush(self, batch: list[ToolCall]) -> None:
        if not batch:
            return
        for call in batch:
            self._emit(ToolStarted(call, self.tools.summary(call), "read"))
        results = await self._guarded(asyncio.gather(*(self._execute(c) for c in batch)))
        for call, (result, seconds) in zip(batch, results, strict=True):
            self._answer(call, result, seconds)

    async def _run_one(self, call: ToolCall) -> None:
        tool = self.tools.get(call.name)
        invalid = (
            call.error is not None or tool is None or self.tools.validate(tool, call.arguments)[1] is not None
        )
        if invalid or tool is None:
            # the registry turns these into error observations the model can act on
            result, seconds = await self._execute(call)
            self._answer(call, result, seconds)
            return
        request = ApprovalRequest(call.name, tool.kind, call.arguments, self.tools.summary(call))
        if self.permission.needs_asking(tool.kind) and self.permission.ask is not None:
            with contextlib.suppress(Exception):
                request.preview = await tool.preview(call.arguments, self.ctx)
        decision = await self._guarded(self.permission.decide(request))
        if not decision.allowed:
            self.denials.append(
                {"tool_name": call.name, "tool_use_id": call.id, "tool_input": call.arguments}
            )
            text = (
                f"Permission denied: {decision.reason}"
                if decision.reason
                else "Permission denied by the user."
            )
            self._answer(call, ToolResult(text, True), denied=True)
            return
        self._emit(ToolStarted(call, request.summary, tool.kind))
        result, seconds = await self._guarded(self._execute(call))
        self._answer(call, result, seconds)

    async def _execute(self, call: ToolCall) -> tuple[ToolResult, float]:
        t0 = time.monotonic()
        result = await self.tools.call(call, self.ctx)
        return result, time.monotonic() - t0

    def _answer(self, call: ToolCall, result: ToolResult, seconds: float = 0.0, denied: bool = False) -> None:
        self._emit(ToolFinished(call, result, seconds, denied))
        content = (
            f"Error: {result.output}"
            if result.is_error and not result.output.startswith(("Error", "Permission"))
            else result.output
        )
        self._add({"role": "tool", "tool_call_id": call.id, "name": call.name, "content": content})

    def _close_open_calls(self) -> None:
        """Answer calls left without a result (an interrupted turn), so the history stays valid."""
        answered = {m.get("tool_call_id") for m in self.messages if m["role"] == "tool"}
        for m in reversed(self.messages):
            if m["role"] == "assistant":
                for c in m.get("tool_calls") or ():
                    if c["id"] not in answered:
                        call = ToolCall(c["id"], c["function"]["name"], c["function"]["arguments"])
                        self._answer(call, ToolResult("Not run: the run was interrupted.", True))
                break

    # -- context ------------------------------------------------------------------------------

    def replace_history(self, messages: list[Message]) -> None:
        """Swap the whole history (a restored checkpoint, a cleared or resumed conversation).
        Emitted as ``Compressed`` so a session log records the new history the same way."""
        self.messages = list(messages)
        self._last_input_tokens = 0
        self._messages_at_last_usage = 0
        tokens = ctxmod.estimate_tokens(self.messages)
        self._emit(Compressed(list(self.messages), tokens, tokens))

    def context_tokens(self) -> int:
        """The size of the history in tokens: the server's last count plus an estimate of what came since."""
        since = self.messages[self._messages_at_last_usage :] if self._last_input_tokens else self.messages
        return (
            self._last_input_tokens + ctxmod.estimate_tokens(since)
            if self._last_input_tokens
            else ctxmod.estimate_tokens(since)
        )

    async def _maybe_compress(self) -> None:
        if self.context_tokens() >= ctxmod.COMPRESS_AT * self.model.context_window:
            await self.compress()

    async def compress(self) -> bool:
        """Replace older turns by a model-written summary; keep the recent ones verbatim."""
        system, rest = self.messages[:1], self.messages[1:]
        cut = ctxmod.split_for_compression(rest)
        if cut == 0 or len(rest) < 2:
            return False
        before = self.context_tokens()
        head, tail = rest[:cut], rest[cut:]
        try:
            summary = await self._guarded(ctxmod.summarise(self.model, system + head))
        except ModelError as exc:
            self._emit(Notice(f"could not summarise older turns ({exc}); they were dropped", "warning"))
            summary = "(The earlier turns could not be summarised and were dropped.)"
        task = next((m["content"] for m in head if m["role"] == "user"), "")
        todos = render_todos(self.ctx.state.get("todos"))
        self.messages = [*system, ctxmod.summary_message(summary, task, todos), *tail]
        self._last_input_tokens = 0
        after = ctxmod.estimate_tokens(self.messages)
        self._emit(Compressed(list(self.messages), before, after))
        self._emit(Notice(f"context compressed from about {before} to about {after} tokens", "compression"))
        return True


def render_todos(todos: Any) -> str:
    if not todos:
        return ""
    marks = {"completed": "[x]", "in_progress": "[~]"}
    return "\n".join(f"{marks.get(t.get('status'), '[ ]')} {t.get('content', '')}" for t in todos)

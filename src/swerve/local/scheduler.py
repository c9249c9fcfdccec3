"""Slots, a request queue and one decode thread: continuous batching over llama.cpp.

Each slot owns one KV sequence and remembers which tokens it holds. A request goes to the free
slot whose cached tokens share the longest prefix with its prompt; only the rest is prefilled
(agent turns resend the whole history, so a second turn prefills just the new suffix), after
the divergent tail of that slot's cache is dropped. Every step is one ``llama_decode`` over all
busy slots: one token for each slot that is generating, plus prompt chunks for slots still
prefilling, within ``n_batch``. Requests wait in a FIFO queue while every slot is busy.

The decode thread is the only one that touches the context; results cross to the event loop
through ``call_soon_threadsafe``. A cancelled request (its client went away) is dropped at the
next step, and its slot keeps what it had decoded for later reuse.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from swerve.local.llama import DecodeError, LlamaModel
from swerve.local.sampling import Sampler, SamplingParams
from swerve.local.textout import TextAssembler

log = logging.getLogger(__name__)


@dataclass
class Token:
    """One generated token and the text it made final."""

    token: int
    text: str
    logprob: float | None
    top: list[tuple[int, float]]


@dataclass
class Finished:
    """The end of a generation. ``reason``: stop | length | cancelled | error."""

    reason: str
    stop_type: str  # llama.cpp's: eos | word | limit | none
    stopping_word: str
    text: str  # the last text that became final (held back until the end)
    prompt_n: int
    cached_n: int
    generated_n: int
    timings: dict[str, Any]
    slot: int
    error: str | None = None


Event = Token | Finished


@dataclass
class Job:
    """One generation request as the decode thread sees it."""

    prompt: list[int]
    params: SamplingParams
    max_tokens: int
    stop: list[str] = field(default_factory=list)
    logprobs: bool = False
    cache_prompt: bool = True
    ignore_eos: bool = False
    emit: Callable[[Event], None] = lambda event: None
    cancelled: bool = False


@dataclass
class Slot:
    id: int
    tokens: list[int] = field(default_factory=list)  # what the KV sequence holds, by position
    job: Job | None = None
    params: SamplingParams = field(default_factory=SamplingParams)
    last_used: float = 0.0
    pending: list[int] = field(default_factory=list)  # prompt tokens still to prefill
    next_token: int | None = None  # sampled, not yet decoded
    sampler: Sampler | None = None
    text: TextAssembler | None = None
    generated: int = 0
    cached: int = 0
    started: float = 0.0
    first_token: float = 0.0
    host_s: float = 0.0

    @property
    def busy(self) -> bool:
        return self.job is not None


def common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class Scheduler:
    """Runs generations for ``model`` over ``n_slots`` slots in one background thread."""

    def __init__(self, model: LlamaModel) -> None:
        self.model = model
        self.slots = [Slot(i) for i in range(model.n_seq)]
        self._queue: collections.deque[Job] = collections.deque()
        self._cv = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="swerve-llama-decode", daemon=True)
        self.decode_s = 0.0
        self.step_s = 0.0
        self.steps = 0

    def start(self) -> Scheduler:
        self._thread.start()
        return self

    @property
    def queued(self) -> int:
        return len(self._queue)

    def submit(self, job: Job) -> None:
        with self._cv:
            if self._stopping:
                raise RuntimeError("the server is shutting down")
            self._queue.append(job)
            self._cv.notify()

    def cancel(self, job: Job) -> None:
        job.cancelled = True
        with self._cv:
            self._cv.notify()

    def stop(self) -> None:
        with self._cv:
            self._stopping = True
            self._cv.notify()
        if self._thread.is_alive():
            self._thread.join()

    async def generate(self, job: Job) -> AsyncIterator[Event]:
        """Submit ``job`` and yield its events; leaving early cancels it."""
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[Event] = asyncio.Queue()

        def emit(event: Event) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is listening
                loop.call_soon_threadsafe(events.put_nowait, event)

        job.emit = emit
        self.submit(job)
        try:
            while True:
                event = await events.get()
                yield event
                if isinstance(event, Finished):
                    return
        finally:
            self.cancel(job)

    # ----- decode thread -----
    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._stopping and not self._queue and not any(s.busy for s in self.slots):
                    self._cv.wait()
                if self._stopping:
                    break
                self._assign()
            if any(s.busy for s in self.slots):
                try:
                    self._step()
                except Exception as exc:  # a bug must fail its requests, not hang them
                    log.exception("decode step failed")
                    for slot in self.slots:
                        if slot.job is not None:
                            self._drop_cache(slot)
                            self._finish(slot, "error", "none", error=f"{type(exc).__name__}: {exc}")
        for slot in self.slots:
            if slot.job is not None:
                self._finish(slot, "error", "none", error="the server is shutting down")
        while self._queue:
            job = self._queue.popleft()
            job.emit(
                Finished(
                    "error", "none", "", "", len(job.prompt), 0, 0, {}, -1, "the server is shutting down"
                )
            )

    def _assign(self) -> None:
        while self._queue:
            job = self._queue[0]
            if job.cancelled:
                self._queue.popleft()
                job.emit(Finished("cancelled", "none", "", "", len(job.prompt), 0, 0, {}, -1))
                continue
            free = [s for s in self.slots if not s.busy]
            if not free:
                return
            self._queue.popleft()
            if job.cache_prompt:
                slot = max(free, key=lambda s: (common_prefix(s.tokens, job.prompt), -s.last_used))
            else:
                slot = min(free, key=lambda s: s.last_used)
            self._prepare(slot, job)

    def _prepare(self, slot: Slot, job: Job) -> None:
        keep = common_prefix(slot.tokens, job.prompt) if job.cache_prompt else 0
        keep = min(keep, len(job.prompt) - 1)  # at least one token is decoded, for its logits
        try:
            self.model.forget(slot.id, keep)
        except DecodeError:
            keep = 0
        del slot.tokens[keep:]
        params = job.params
        history = job.prompt[-params.repeat_last_n :] if params.repeat_last_n > 0 else list(job.prompt)
        slot.job = job
        slot.params = params
        slot.pending = job.prompt[keep:]
        slot.next_token = None
        slot.sampler = Sampler(params, history if params.penalised else None)
        slot.text = TextAssembler(job.stop)
        slot.generated = 0
        slot.cached = keep
        slot.started = time.perf_counter()
        slot.first_token = 0.0
        slot.host_s = 0.0

    def _step(self) -> None:
        started = time.perf_counter()
        for slot in self.slots:
            if slot.job is not None and slot.job.cancelled:
                self._finish(slot, "cancelled", "none")
        tokens: list[int] = []
        positions: list[int] = []
        seqs: list[int] = []
        outputs: list[bool] = []
        owners: list[tuple[Slot, int]] = []  # (slot, batch index whose logits it samples from)
        budget = self.model.n_batch
        generating: list[Slot] = []
        for slot in self.slots:
            if slot.job is not None and slot.next_token is not None and budget > 0:
                generating.append(slot)
                owners.append((slot, len(tokens)))
                tokens.append(slot.next_token)
                positions.append(len(slot.tokens))
                seqs.append(slot.id)
                outputs.append(True)
                slot.tokens.append(slot.next_token)
                slot.next_token = None
                budget -= 1
        for slot in self.slots:
            if slot.job is None or not slot.pending or budget <= 0:
                continue
            chunk = slot.pending[:budget]
            del slot.pending[: len(chunk)]
            base = len(slot.tokens)
            tokens.extend(chunk)
            positions.extend(range(base, base + len(chunk)))
            seqs.extend([slot.id] * len(chunk))
            outputs.extend([False] * len(chunk))
            slot.tokens.extend(chunk)
            budget -= len(chunk)
            if not slot.pending:
                outputs[-1] = True
                owners.append((slot, len(tokens) - 1))
        if not tokens:
            return
        try:
            decode_s = self.model.decode(tokens, positions, seqs, outputs)
        except DecodeError as exc:
            for slot in self.slots:
                if slot.job is not None and slot.id in seqs:
                    self._drop_cache(slot)
                    self._finish(slot, "error", "none", error=str(exc))
            return
        for slot, index in owners:
            self._sample(slot, index)
        elapsed = time.perf_counter() - started
        for slot in generating:
            slot.host_s += elapsed - decode_s
        self.decode_s += decode_s
        self.step_s += elapsed
        self.steps += 1

    def _drop_cache(self, slot: Slot) -> None:
        with contextlib.suppress(DecodeError):
            self.model.forget(slot.id, 0)
        slot.tokens.clear()

    def _sample(self, slot: Slot, index: int) -> None:
        job = slot.job
        if job is None or slot.sampler is None or slot.text is None:
            return
        now = time.perf_counter()
        if not slot.first_token:
            slot.first_token = now
        want = job.logprobs or job.params.n_probs > 0
        sample = slot.sampler.sample(self.model.logits(index), want_logprob=want)
        slot.generated += 1
        token = sample.token
        eog = self.model.is_eog(token) and not job.ignore_eos
        text = "" if eog else slot.text.feed(self.model.piece(token))
        job.emit(Token(token, text, sample.logprob if want else None, sample.top))
        if eog:
            self._finish(slot, "stop", "eos")
        elif slot.text.stopped_by is not None:
            self._finish(slot, "stop", "word", slot.text.stopped_by)
        elif slot.generated >= job.max_tokens or len(slot.tokens) + 1 >= self.model.n_ctx_seq:
            self._finish(slot, "length", "limit")
        else:
            slot.next_token = token

    def _finish(
        self, slot: Slot, reason: str, stop_type: str, word: str = "", error: str | None = None
    ) -> None:
        job = slot.job
        if job is None:
            return
        end = time.perf_counter()
        tail = slot.text.finish() if slot.text is not None and reason in ("stop", "length") else ""
        first = slot.first_token or end
        prompt_n = len(job.prompt) - slot.cached
        predicted_n = slot.generated
        prompt_ms = (first - slot.started) * 1000.0
        predicted_ms = (end - first) * 1000.0
        timings = {
            "cache_n": slot.cached,
            "prompt_n": prompt_n,
            "prompt_ms": prompt_ms,
            "prompt_per_token_ms": prompt_ms / prompt_n if prompt_n else 0.0,
            "prompt_per_second": prompt_n / prompt_ms * 1000.0 if prompt_ms > 0 else 0.0,
            "predicted_n": predicted_n,
            "predicted_ms": predicted_ms,
            "predicted_per_token_ms": predicted_ms / predicted_n if predicted_n else 0.0,
            "predicted_per_second": predicted_n / predicted_ms * 1000.0 if predicted_ms > 0 else 0.0,
            "host_ms": slot.host_s * 1000.0,
        }
        slot.job = None
        slot.pending = []
        slot.next_token = None
        slot.sampler = None
        slot.text = None
        slot.last_used = time.monotonic()
        job.emit(
            Finished(
                reason,
                stop_type,
                word,
                tail,
                len(job.prompt),
                slot.cached,
                predicted_n,
                timings,
                slot.id,
                error,
            )
        )

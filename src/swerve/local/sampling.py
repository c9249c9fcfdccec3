"""Token sampling over one row of logits, with exact log-probabilities of what was sampled.

Order, as in vLLM and Hugging Face: penalties (llama.cpp's ``repeat_penalty`` over the last
``repeat_last_n`` tokens, OpenAI's presence and frequency penalties), then temperature, then
top-k, top-p and min-p truncation, then a draw from the renormalised rest with the request's own
seeded generator. Temperature 0 is greedy.

Log-probabilities (``logprobs_mode = "penalized_temperature_logprobs"``): the log-softmax of the
penalised logits divided by the temperature (1 when greedy), over the whole vocabulary, before
any truncation. They are what an RL trainer recomputes from the same logits.
"""

from __future__ import annotations

import collections
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

LOGPROBS_MODE = "penalized_temperature_logprobs"
_FULL_SORT_LIMIT = 4096


@dataclass
class SamplingParams:
    """Sampling settings under llama.cpp's names (defaults are llama-server's)."""

    temperature: float = 0.8
    top_k: int = 40
    top_p: float = 0.95
    min_p: float = 0.05
    repeat_penalty: float = 1.0
    repeat_last_n: int = 64
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    seed: int = -1
    n_probs: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def penalised(self) -> bool:
        return self.repeat_penalty != 1.0 or self.presence_penalty != 0.0 or self.frequency_penalty != 0.0


@dataclass
class Sample:
    """One sampled token, its log-probability, and the top alternatives (``n_probs`` of them)."""

    token: int
    logprob: float
    top: list[tuple[int, float]]


def _log_softmax_at(z: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, float]:
    top = float(z.max())
    lse = top + float(np.log(np.exp(z - top, dtype=np.float64).sum()))
    return z[indices].astype(np.float64) - lse, lse


class Sampler:
    """Samples one request's tokens; keeps the penalty window and the seeded generator."""

    def __init__(self, params: SamplingParams, history: list[int] | None = None) -> None:
        self.params = params
        seed = params.seed if params.seed is not None and params.seed >= 0 else None
        self.rng = np.random.default_rng(seed)
        window = params.repeat_last_n
        self._window: collections.deque[int] = collections.deque(
            maxlen=None if window < 0 else max(window, 0)
        )
        self._counts: collections.Counter[int] = collections.Counter()
        for token in history or []:
            self.accept(token)

    def accept(self, token: int) -> None:
        """Add a token (of the prompt or sampled) to the penalty window."""
        if self._window.maxlen == 0:
            return
        if self._window.maxlen is not None and len(self._window) == self._window.maxlen:
            old = self._window.popleft()
            self._counts[old] -= 1
            if not self._counts[old]:
                del self._counts[old]
        self._window.append(token)
        self._counts[token] += 1

    def _penalise(self, x: np.ndarray) -> None:
        p = self.params
        if not self._counts:
            return
        ids = np.fromiter(self._counts.keys(), dtype=np.int64, count=len(self._counts))
        counts = np.fromiter(self._counts.values(), dtype=np.float32, count=len(self._counts))
        values = x[ids]
        if p.repeat_penalty != 1.0:
            values = np.where(values > 0, values / p.repeat_penalty, values * p.repeat_penalty)
        if p.frequency_penalty or p.presence_penalty:
            values = values - counts * p.frequency_penalty - p.presence_penalty
        x[ids] = values

    def sample(self, logits: np.ndarray, want_logprob: bool = True) -> Sample:
        """Draw one token; its log-probability is computed only when wanted (or ``n_probs`` > 0)."""
        p = self.params
        x = np.array(logits, dtype=np.float32, copy=True)
        if p.penalised:
            self._penalise(x)
        greedy = p.temperature <= 0.0
        z = x if greedy else x / np.float32(p.temperature)
        token = int(z.argmax()) if greedy else self._draw(z)
        if not want_logprob and p.n_probs <= 0:
            self.accept(token)
            return Sample(token, 0.0, [])
        wanted = np.array([token], dtype=np.int64)
        top: list[tuple[int, float]] = []
        if p.n_probs > 0:
            k = min(p.n_probs, z.size)
            best = np.argpartition(-z, k - 1)[:k]
            best = best[np.argsort(-z[best], kind="stable")]
            wanted = np.concatenate([wanted, best])
        values, _ = _log_softmax_at(z, wanted)
        if p.n_probs > 0:
            top = [(int(t), float(v)) for t, v in zip(wanted[1:], values[1:], strict=True)]
        self.accept(token)
        return Sample(token, float(values[0]), top)

    def _candidates(self, z: np.ndarray) -> np.ndarray:
        """Indices that survive top-k, sorted by logit (descending), before top-p / min-p."""
        p = self.params
        n = z.size
        if 0 < p.top_k < n:
            idx = np.argpartition(-z, p.top_k - 1)[: p.top_k]
        else:
            idx = np.arange(n)
            if p.min_p > 0.0:
                idx = idx[z >= z.max() + np.float32(np.log(p.min_p))]
            if idx.size > _FULL_SORT_LIMIT and p.top_p < 1.0:
                idx = self._top_p_superset(z, idx)
        return idx[np.argsort(-z[idx], kind="stable")]

    def _top_p_superset(self, z: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """The smallest "top m" (m growing 4x) that holds at least ``top_p`` of the mass."""
        sub = z[idx]
        weights = np.exp(sub - sub.max(), dtype=np.float64)
        total = weights.sum()
        m = 256
        while m < idx.size:
            part = np.argpartition(-sub, m - 1)[:m]
            if weights[part].sum() >= self.params.top_p * total:
                return idx[part]
            m *= 4
        return idx

    def _draw(self, z: np.ndarray) -> int:
        p = self.params
        cand = self._candidates(z)
        logits = z[cand].astype(np.float64)
        probs = np.exp(logits - logits[0])
        probs /= probs.sum()
        keep = probs.size
        if p.top_p < 1.0:
            keep = min(keep, int(np.searchsorted(np.cumsum(probs), p.top_p) + 1))
        if p.min_p > 0.0:
            keep = min(keep, max(1, int((probs >= p.min_p * probs[0]).sum())))
        probs = probs[:keep]
        cumulative = np.cumsum(probs)
        choice = int(np.searchsorted(cumulative, self.rng.random() * cumulative[-1], side="right"))
        return int(cand[min(choice, keep - 1)])

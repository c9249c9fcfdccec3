"""The statistics a report states: rates with Wilson intervals, means with bootstrap intervals,
unbiased pass@k over samples, paired differences between two runs, histogram bins.

Bootstraps use a fixed seed, so the same run gives the same page. Samples of one task are not
independent, so a mean over a run with several samples per task resamples tasks (a cluster
bootstrap), not episodes.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from swerve.gym.stats import pass_at_k

Z95 = 1.959963984540054
RESAMPLES = 2000
SEED = 20240917

__all__ = [
    "bootstrap_mean",
    "histogram",
    "mean",
    "paired_difference",
    "pass_at_k",
    "pass_at_k_curve",
    "wilson",
]


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a rate (95% by default); None for n = 0."""
    if n <= 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _percentiles(estimates: list[float], level: float) -> tuple[float, float]:
    estimates.sort()
    tail = (1 - level) / 2
    low = estimates[int(tail * (len(estimates) - 1))]
    high = estimates[math.ceil((1 - tail) * (len(estimates) - 1))]
    return low, high


def bootstrap_mean(
    clusters: Sequence[Sequence[float]], *, level: float = 0.95, resamples: int = RESAMPLES, seed: int = SEED
) -> tuple[float, float] | None:
    """A percentile-bootstrap interval of the mean of all values, resampling whole clusters (the
    samples of a task); one value per cluster is the plain bootstrap. None with no values."""
    clusters = [c for c in clusters if c]
    if not clusters:
        return None
    if len(clusters) == 1 and len(clusters[0]) == 1:
        return clusters[0][0], clusters[0][0]
    sums = [sum(c) for c in clusters]
    sizes = [len(c) for c in clusters]
    rng = random.Random(seed)
    indices = range(len(clusters))
    estimates = []
    for _ in range(resamples):
        picked = rng.choices(indices, k=len(clusters))
        estimates.append(sum(sums[i] for i in picked) / sum(sizes[i] for i in picked))
    return _percentiles(estimates, level)


def pass_at_k_curve(tasks: Sequence[tuple[int, int]], k_max: int) -> list[tuple[int, float, int]]:
    """(k, mean unbiased pass@k, tasks counted) for k = 1..k_max over tasks given as (n, c): n
    graded samples with c successes; a task counts for k only when n >= k."""
    curve = []
    for k in range(1, k_max + 1):
        values = [v for n, c in tasks if (v := pass_at_k(n, c, k)) is not None]
        if values:
            curve.append((k, sum(values) / len(values), len(values)))
    return curve


def paired_difference(
    pairs: Sequence[tuple[float, float]], *, level: float = 0.95, resamples: int = RESAMPLES, seed: int = SEED
) -> dict[str, float | int] | None:
    """The mean of b - a over paired values (per task) with a paired-bootstrap interval, and how
    often b is above, below or equal to a. None with no pairs."""
    if not pairs:
        return None
    deltas = [b - a for a, b in pairs]
    rng = random.Random(seed)
    estimates = [sum(rng.choices(deltas, k=len(deltas))) / len(deltas) for _ in range(resamples)]
    low, high = _percentiles(estimates, level) if len(deltas) > 1 else (deltas[0], deltas[0])
    return {
        "n": len(deltas),
        "mean": sum(deltas) / len(deltas),
        "low": low,
        "high": high,
        "wins": sum(d > 0 for d in deltas),
        "losses": sum(d < 0 for d in deltas),
        "ties": sum(d == 0 for d in deltas),
    }


def _nice_step(span: float, bins: int) -> float:
    raw = span / max(1, bins)
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def histogram(values: Sequence[float], bins: int = 20) -> tuple[list[float], list[int]]:
    """Bin edges (round numbers, len = counts + 1) and counts; whole numbers get a bin each when
    they span fewer than ``bins`` values."""
    if not values:
        return [], []
    low, high = min(values), max(values)
    if all(float(v).is_integer() for v in values) and high - low < bins:
        edges = [low - 0.5 + i for i in range(int(high - low) + 2)]
    else:
        if high == low:
            high = low + 1
        step = _nice_step(high - low, bins)
        start = math.floor(low / step) * step
        edges = [start]
        while edges[-1] <= high:
            edges.append(round(edges[-1] + step, 10))
    counts = [0] * (len(edges) - 1)
    for v in values:
        i = min(len(counts) - 1, max(0, int((v - edges[0]) // (edges[1] - edges[0]))))
        counts[i] += 1
    return edges, counts

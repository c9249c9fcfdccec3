"""The report's statistics against closed forms and known values."""

from __future__ import annotations

import itertools
import math
import random
from fractions import Fraction

import pytest

from swerve.report.stats import (
    bootstrap_mean,
    histogram,
    paired_difference,
    pass_at_k,
    pass_at_k_curve,
    wilson,
)


def exact_pass_at_k(n: int, c: int, k: int) -> Fraction:
    """1 - C(n-c, k) / C(n, k), in exact arithmetic."""
    return 1 - Fraction(math.comb(n - c, k), math.comb(n, k))


def enumerated_pass_at_k(n: int, c: int, k: int) -> Fraction:
    """The share of all k-subsets of n samples (c of them correct) that hold a correct one."""
    samples = [True] * c + [False] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    return Fraction(sum(any(samples[i] for i in s) for s in subsets), len(subsets))


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_pass_at_k_is_the_unbiased_closed_form(n: int) -> None:
    for c in range(n + 1):
        for k in range(1, n + 1):
            got = pass_at_k(n, c, k)
            assert got == pytest.approx(float(exact_pass_at_k(n, c, k)), abs=1e-12)
            assert got == pytest.approx(float(enumerated_pass_at_k(n, c, k)), abs=1e-12)


def test_pass_at_k_needs_k_samples() -> None:
    assert pass_at_k(2, 1, 3) is None
    assert pass_at_k(4, 0, 0) is None


def test_the_curve_averages_over_tasks_with_enough_samples() -> None:
    tasks = [(4, 1), (4, 4), (2, 0)]
    curve = {k: (v, n) for k, v, n in pass_at_k_curve(tasks, 4)}
    assert curve[1] == (pytest.approx((0.25 + 1 + 0) / 3), 3)
    assert curve[2] == (pytest.approx((float(exact_pass_at_k(4, 1, 2)) + 1 + 0) / 3), 3)
    assert curve[3] == (pytest.approx((float(exact_pass_at_k(4, 1, 3)) + 1) / 2), 2)  # (2, 0) has too few
    assert curve[4] == (pytest.approx(1.0), 2)


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [(0, 10, 0.0, 0.2775), (5, 10, 0.2366, 0.7634), (10, 10, 0.7225, 1.0), (81, 263, 0.2553, 0.3662)],
)
def test_wilson_interval_matches_known_values(successes: int, n: int, low: float, high: float) -> None:
    got = wilson(successes, n)
    assert got is not None
    assert got[0] == pytest.approx(low, abs=5e-4) and got[1] == pytest.approx(high, abs=5e-4)


def test_wilson_of_nothing_is_none() -> None:
    assert wilson(0, 0) is None


def test_bootstrap_interval_holds_the_mean_and_narrows_with_more_data() -> None:
    rng = random.Random(1)
    small = [[float(rng.random() < 0.4)] for _ in range(30)]
    large = [[float(rng.random() < 0.4)] for _ in range(3000)]
    for clusters in (small, large):
        mean = sum(v[0] for v in clusters) / len(clusters)
        low, high = bootstrap_mean(clusters)
        assert low <= mean <= high
    assert (
        bootstrap_mean(large)[1] - bootstrap_mean(large)[0]
        < bootstrap_mean(small)[1] - bootstrap_mean(small)[0]
    )
    assert bootstrap_mean(small) == bootstrap_mean(small), "a fixed seed: the same page for the same run"


def test_cluster_bootstrap_is_wider_when_samples_of_a_task_agree() -> None:
    """Eight tasks with four identical samples each are eight observations, not thirty-two."""
    clustered = [[float(t % 2)] * 4 for t in range(8)]
    flat = [[v] for c in clustered for v in c]
    c_low, c_high = bootstrap_mean(clustered)
    f_low, f_high = bootstrap_mean(flat)
    assert c_high - c_low > f_high - f_low


def test_paired_difference_counts_wins_and_covers_the_mean() -> None:
    pairs = [(0.0, 1.0)] * 6 + [(1.0, 0.0)] * 2 + [(0.5, 0.5)] * 2
    d = paired_difference(pairs)
    assert (d["wins"], d["losses"], d["ties"], d["n"]) == (6, 2, 2, 10)
    assert d["mean"] == pytest.approx(0.4)
    assert d["low"] <= 0.4 <= d["high"]
    assert paired_difference([]) is None


def test_histogram_counts_every_value_once() -> None:
    values = [0.3, 1.2, 7.9, 7.9, 15.0, 2.2, 0.0]
    edges, counts = histogram(values, bins=8)
    assert sum(counts) == len(values) and len(edges) == len(counts) + 1
    assert edges[0] <= min(values) and edges[-1] >= max(values)
    whole, per = histogram([3, 4, 4, 5, 9], bins=20)
    assert per == [1, 2, 1, 0, 0, 0, 1] and whole[0] == 2.5

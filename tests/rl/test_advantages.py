"""Group advantages: GRPO, Dr.GRPO, RLOO, and dynamic sampling of no-signal groups."""

from __future__ import annotations

import pytest

from swerve.rl.advantages import assign_advantages, episode_advantages
from swerve.rl.samples import Built, Sample, SampleError


def sample(group: str, key: str, reward: float) -> Sample:
    return Sample([1], [2], [1], [-0.5], reward, group, False, metadata={"key": key})


def test_estimators():
    assert episode_advantages([1.0, 0.0, 0.0, 1.0], "dr_grpo") == [0.5, -0.5, -0.5, 0.5]
    grpo = episode_advantages([1.0, 0.0, 0.0, 1.0], "grpo")
    assert grpo[0] == pytest.approx(0.5 / (0.5773502691896258 + 1e-6))
    assert episode_advantages([1.0, 0.0, 0.0], "rloo") == [1.0, -0.5, -0.5]
    assert episode_advantages([1.0], "rloo") == [0.0]
    with pytest.raises(SampleError):
        episode_advantages([1.0], "ppo")


def test_rows_of_one_episode_count_once_and_dynamic_sampling_drops_flat_groups():
    built = Built(
        [
            sample("a", "a#0", 1.0),
            sample("a", "a#0", 1.0),  # a second row (a fork) of the same episode
            sample("a", "a#1", 0.0),
            sample("b", "b#0", 1.0),
            sample("b", "b#1", 1.0),
        ]
    )
    assign_advantages(built, "dr_grpo", dynamic_sampling=True)
    assert [s.group_id for s in built.samples] == ["a", "a", "a"]
    assert [s.advantage for s in built.samples] == [0.5, 0.5, -0.5]
    assert built.dropped_groups == 1

"""The retry policy: delays it chooses, Retry-After parsing, and the retry loop."""

from __future__ import annotations

import email.utils

import pytest

from swerve.errors import ModelError
from swerve.models.retry import (
    Retry,
    RetryableError,
    RetryPolicy,
    is_retryable_status,
    parse_retry_after,
    with_retries,
)


def test_full_jitter_ceiling_doubles_up_to_max_delay():
    policy = RetryPolicy(base_delay=0.5, max_delay=5.0)
    assert [policy.delay_for(n, jitter=1.0) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert policy.delay_for(3, jitter=0.0) == 0.0
    assert policy.delay_for(3, jitter=0.5) == 1.0
    assert policy.delay_for(10_000, jitter=1.0) == 5.0  # no overflow on absurd attempt numbers


def test_random_delays_stay_within_the_ceiling():
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    for attempt in range(1, 8):
        ceiling = min(8.0, 2.0 ** (attempt - 1))
        draws = [policy.delay_for(attempt) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in draws)
        assert len(set(draws)) > 1  # jittered, not fixed


def test_retry_after_wins_and_is_capped():
    policy = RetryPolicy(base_delay=0.01, max_retry_after=30.0)
    assert policy.delay_for(1, retry_after=7.0) == 7.0
    assert policy.delay_for(5, retry_after=0.0) == 0.0
    assert policy.delay_for(1, retry_after=3600.0) == 30.0


@pytest.mark.parametrize("kwargs", [{"max_attempts": 0}, {"base_delay": -1.0}, {"max_delay": -2.0}])
def test_policy_rejects_nonsense(kwargs):
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)


def test_policy_from_env():
    env = {"SWERVE_RETRY_BASE_DELAY": "0.25", "SWERVE_RETRY_MAX_ATTEMPTS": "9", "SWERVE_RETRY_MAX_DELAY": "3"}
    policy = RetryPolicy.from_env(env)
    assert (policy.base_delay, policy.max_attempts, policy.max_delay) == (0.25, 9, 3.0)
    assert RetryPolicy.from_env(env, max_attempts=2).max_attempts == 2
    assert RetryPolicy.from_env({}) == RetryPolicy()
    with pytest.raises(ValueError, match="SWERVE_RETRY_BASE_DELAY"):
        RetryPolicy.from_env({"SWERVE_RETRY_BASE_DELAY": "soon"})


def test_parse_retry_after():
    now = 1_700_000_000.0
    assert parse_retry_after("3", now) == 3.0
    assert parse_retry_after(" 1.5 ", now) == 1.5
    assert parse_retry_after("-4", now) == 0.0
    assert parse_retry_after(email.utils.formatdate(now + 20, usegmt=True), now) == 20.0
    assert parse_retry_after(email.utils.formatdate(now - 20, usegmt=True), now) == 0.0
    for junk in (None, "", "soon", "nan", "inf", "Mon, 99 Foo 2024"):
        assert parse_retry_after(junk, now) is None


def test_retryable_statuses():
    assert all(is_retryable_status(s) for s in (408, 409, 429, 500, 502, 503, 529))
    assert not any(is_retryable_status(s) for s in (400, 401, 403, 404, 422))


async def test_with_retries_retries_then_returns():
    seen: list[Retry] = []
    attempts: list[int] = []

    async def attempt(number: int) -> str:
        attempts.append(number)
        if number < 3:
            raise RetryableError(f"flaky {number}", status=503, retry_after=0.0 if number == 2 else None)
        return "ok"

    result = await with_retries(RetryPolicy(5, 0.001), attempt, endpoint="http://x/v1", on_retry=seen.append)
    assert result == "ok" and attempts == [1, 2, 3]
    assert [(r.attempt, r.cause, r.status) for r in seen] == [(1, "flaky 1", 503), (2, "flaky 2", 503)]
    assert seen[1].delay == 0.0 and seen[1].retry_after == 0.0


async def test_with_retries_gives_up_with_the_last_cause():
    async def attempt(number: int) -> str:
        raise RetryableError(f"HTTP 503: busy #{number}", status=503)

    with pytest.raises(ModelError) as info:
        await with_retries(RetryPolicy(3, 0.001), attempt, endpoint="http://host/v1/chat/completions")
    assert (
        str(info.value)
        == "gave up after 3 attempts: HTTP 503: busy #3 (http://host/v1/chat/completions, HTTP 503)"
    )
    assert info.value.status == 503


async def test_with_retries_does_not_retry_final_errors():
    calls: list[int] = []

    async def attempt(number: int) -> str:
        calls.append(number)
        raise ModelError("bad request", endpoint="e", status=400)

    with pytest.raises(ModelError, match="bad request"):
        await with_retries(RetryPolicy(5, 0.001), attempt, endpoint="e")
    assert calls == [1]

"""Retry policy for model requests: exponential backoff with full jitter, Retry-After honoured.

A provider runs one attempt at a time through ``with_retries``. An attempt raises
``RetryableError`` for failures worth another try (HTTP 408/409/425/429/5xx, timeouts, dropped
connections, torn or malformed streams) and ``ModelError`` for failures that will not get better
(other 4xx). When the attempts run out the caller gets one ``ModelError``:
``gave up after N attempts: <last cause>``.
"""

from __future__ import annotations

import asyncio
import email.utils
import os
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from swerve.errors import ModelError

T = TypeVar("T")

RETRYABLE_STATUSES = frozenset({408, 409, 425, 429})


def is_retryable_status(status: int) -> bool:
    """True for statuses worth another try: timeouts, conflicts, rate limits and server errors."""
    return status in RETRYABLE_STATUSES or status >= 500


class RetryableError(Exception):
    """One attempt failed in a way that another attempt may fix."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class Retry:
    """A retry that was scheduled: which attempt failed, why, and how long the policy waited."""

    attempt: int
    delay: float
    cause: str
    status: int | None = None
    retry_after: float | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry.

    ``delay_for`` is a pure function of its arguments, so the delays the policy chooses can be
    checked without waiting for them.
    """

    max_attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 60.0
    max_retry_after: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {self.max_attempts}")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_retry_after < 0:
            raise ValueError("retry delays must not be negative")

    def delay_for(self, attempt: int, retry_after: float | None = None, jitter: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based).

        A server's Retry-After wins (capped at ``max_retry_after``); otherwise full jitter:
        a uniform draw in ``[0, min(max_delay, base_delay * 2**(attempt-1))]``. ``jitter`` in
        ``[0, 1]`` replaces the random draw (tests pass it to get a known value).
        """
        if retry_after is not None and retry_after >= 0:
            return min(float(retry_after), self.max_retry_after)
        ceiling = min(self.max_delay, self.base_delay * 2 ** max(0, min(attempt - 1, 62)))
        draw = random.random() if jitter is None else min(max(jitter, 0.0), 1.0)
        return ceiling * draw

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: float | int | None) -> RetryPolicy:
        """A policy from ``SWERVE_RETRY_MAX_ATTEMPTS``, ``SWERVE_RETRY_BASE_DELAY``,
        ``SWERVE_RETRY_MAX_DELAY`` and ``SWERVE_RETRY_MAX_RETRY_AFTER``; ``overrides`` that are
        not None win over the environment. Unreadable values raise ValueError naming the variable."""
        env = os.environ if env is None else env
        values: dict[str, float | int] = {}
        for name, kind in (
            ("max_attempts", int),
            ("base_delay", float),
            ("max_delay", float),
            ("max_retry_after", float),
        ):
            var = f"SWERVE_RETRY_{name.upper()}"
            raw = env.get(var)
            if raw:
                try:
                    values[name] = kind(raw)
                except ValueError:
                    raise ValueError(f"${var} must be a number, not {raw!r}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a Retry-After header asks for: delay-seconds or an HTTP-date. None when absent
    or unreadable; never negative."""
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds and seconds != float("inf") else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


async def with_retries(
    policy: RetryPolicy,
    attempt: Callable[[int], Awaitable[T]],
    *,
    endpoint: str,
    on_retry: Callable[[Retry], None] | None = None,
) -> T:
    """Run ``attempt(n)`` for n = 1, 2, ... until it returns, raises ModelError, or the policy's
    attempts run out (then ModelError "gave up after N attempts: <last cause>")."""
    number = 0
    while True:
        number += 1
        try:
            return await attempt(number)
        except RetryableError as exc:
            if number >= policy.max_attempts:
                noun = "attempt" if number == 1 else "attempts"
                raise ModelError(
                    f"gave up after {number} {noun}: {exc}", endpoint=endpoint, status=exc.status
                ) from None
            delay = policy.delay_for(number, exc.retry_after)
            if on_retry is not None:
                on_retry(Retry(number, delay, str(exc), exc.status, exc.retry_after))
            await asyncio.sleep(delay)

"""Clean-up runs to its end however often its caller is cancelled."""

from __future__ import annotations

import asyncio

import pytest

from swerve.sandbox.cancel import to_the_end


async def test_cleanup_survives_repeated_cancellation_and_the_cancellation_is_kept():
    steps: list[str] = []
    release = asyncio.Event()

    async def cleanup() -> str:
        steps.append("started")
        await release.wait()
        steps.append("finished")
        return "done"

    caller = asyncio.ensure_future(to_the_end(cleanup()))
    await asyncio.sleep(0)
    for _ in range(3):  # cancelled again and again while cleaning up
        caller.cancel()
        await asyncio.sleep(0)
    assert not caller.done()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert steps == ["started", "finished"]


async def test_without_cancellation_the_result_comes_back():
    async def work() -> int:
        await asyncio.sleep(0)
        return 7

    assert await to_the_end(work()) == 7

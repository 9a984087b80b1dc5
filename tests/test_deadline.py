"""`Deadline`: one timer per model stream, bounding only the waits for the next chunk."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from core.deadline import Deadline


async def chunks(gaps: list[float]) -> AsyncIterator[int]:
    for i, gap in enumerate(gaps):
        await asyncio.sleep(gap)
        yield i


def soon(seconds: float) -> float:
    return asyncio.get_running_loop().time() + seconds


async def test_a_stalled_stream_times_out_and_leaves_the_task_usable() -> None:
    bound, stream = Deadline(soon(0.1)), chunks([0, 0, 5])
    assert [await bound.next(stream), await bound.next(stream)] == [0, 1]
    with pytest.raises(TimeoutError):
        await bound.next(stream)
    current = asyncio.current_task()
    assert current is not None and current.cancelling() == 0
    await asyncio.sleep(0.01)  # not cancelled again


async def test_the_consumer_is_never_cancelled_between_waits() -> None:
    # The deadline passes while the consumer holds a chunk: its own work finishes, and only
    # the next wait fails.
    bound, stream = Deadline(soon(0.05)), chunks([0, 0])
    assert await bound.next(stream) == 0
    await asyncio.sleep(0.1)
    with pytest.raises(TimeoutError):
        await bound.next(stream)


async def test_someone_elses_cancel_stays_a_cancel() -> None:
    bound = Deadline(soon(0.05))

    async def consume() -> int:
        return await bound.next(chunks([5]))

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.06)  # the timer then finds nobody waiting


async def test_a_closed_deadline_fires_on_nobody() -> None:
    bound, stream = Deadline(soon(0.05)), chunks([0])
    assert await bound.next(stream) == 0
    with pytest.raises(StopAsyncIteration):
        await bound.next(stream)
    bound.close()
    await asyncio.sleep(0.08)  # no stray cancel reaches this task
    assert not bound.expired

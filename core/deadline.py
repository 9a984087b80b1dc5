"""`Deadline`: one timer bounding a whole model stream, armed only while it waits for a chunk."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from typing import Any, TypeVar

T = TypeVar("T")


class Deadline:
    """`await deadline.wait(x)` raises TimeoutError once the loop's clock passes `end`.

    A stream is a generator: a timeout spanning its `yield` would cancel the consumer's task
    wherever it happens to be, so only the waits for the model are bounded. `asyncio.timeout`
    around each wait did that with a timer per chunk (and `wait_for` with a task per chunk): a
    tenth of a streamed answer's CPU. Here one timer serves the whole stream; when it fires
    during a wait it cancels that wait, as `asyncio.timeout` would, and a wait begun after it
    fired fails at once.
    """

    def __init__(self, end: float) -> None:
        loop = asyncio.get_running_loop()
        self.expired = self.cancelled = end <= loop.time()
        self.waiting: asyncio.Task[Any] | None = None
        self.timer = loop.call_at(end, self._fire)

    def _fire(self) -> None:
        self.expired = True
        if self.waiting is not None:
            self.cancelled = True
            self.waiting.cancel()

    async def next(self, chunks: AsyncIterator[T]) -> T:
        """The next chunk (StopAsyncIteration at the end), or TimeoutError past the deadline."""
        if self.expired:
            raise TimeoutError("deadline")
        task = self.waiting = asyncio.current_task()
        try:
            return await anext(chunks)
        except asyncio.CancelledError:
            # Ours only if nobody else cancelled too: theirs goes on as a cancellation.
            if self.cancelled and task is not None and task.uncancel() == 0:
                raise TimeoutError("deadline") from None
            raise
        finally:
            self.waiting = None

    def close(self) -> None:
        """Drop the timer (the stream ended)."""
        self.timer.cancel()


async def bounded(stream: AsyncIterable[T], end: float) -> AsyncGenerator[T, None]:
    """`stream`'s items, each waited for only until the loop's clock passes `end` (then
    TimeoutError); the time the consumer spends between items is not bounded. Past `end`
    already (spent on tools, say), the stream is never started."""
    bound = Deadline(end)
    chunks = aiter(stream)
    async with contextlib.aclosing(chunks):  # type: ignore[type-var]
        try:
            while True:
                try:
                    chunk = await bound.next(chunks)
                except StopAsyncIteration:
                    return
                yield chunk
        finally:
            bound.close()

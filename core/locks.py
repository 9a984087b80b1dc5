"""`LocalQueues`: one FIFO per conversation inside a process, in front of the Redis lock."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

Work = Callable[[], Awaitable[None]]


class LocalQueues:
    """In-process FIFO per conversation, so local messages never poll the Redis lock."""

    def __init__(self) -> None:
        self._held: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str, while_waiting: Work | None = None) -> AsyncIterator[None]:
        """Take this conversation's turn; `while_waiting` runs only if a sibling is ahead."""
        lock, users = self._held.get(key, (asyncio.Lock(), 0))
        self._held[key] = (lock, users + 1)
        try:
            if lock.locked() and while_waiting is not None:
                await _queue_then(lock, while_waiting)
            else:
                await lock.acquire()
            try:
                yield
            finally:
                lock.release()
        finally:
            lock, users = self._held[key]
            if users == 1:
                del self._held[key]
            else:
                self._held[key] = (lock, users - 1)


async def _queue_then(lock: asyncio.Lock, work: Work) -> None:
    """Join the lock's FIFO first (arrival order is kept), then do `work` while waiting."""
    acquiring = asyncio.ensure_future(lock.acquire())
    await asyncio.sleep(0)  # let the acquire join the waiters now, in arrival order
    try:
        await work()
    except BaseException:
        if not acquiring.cancel() and not acquiring.exception():
            lock.release()  # it was ours already: hand it on
        raise
    await acquiring

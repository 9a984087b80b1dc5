"""`LocalQueues`: one FIFO per conversation inside a process, in front of the Redis lock."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class LocalQueues:
    """In-process FIFO per conversation, so local messages never poll the Redis lock."""

    def __init__(self) -> None:
        self._held: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._held.get(key, (asyncio.Lock(), 0))
        self._held[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._held[key]
            if users == 1:
                del self._held[key]
            else:
                self._held[key] = (lock, users - 1)

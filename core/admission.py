"""Admission: which turns run now in this process, and waiting for those in flight to end."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

from core.errors import Overloaded
from core.identities import Where
from core.locks import LocalQueues
from core.settings import Rate
from core.store import HistoryStore
from core.turn import Turn, cost
from core.usage import Budget


class Admission:
    """One turn at a time per conversation, and at most `max_turns` at once.

    Past that many the loop lags, and lags become lost locks, timed-out Redis calls and late
    first words for everyone. The rest wait in line, holding no lock (so another process may
    answer their conversation meanwhile); past `max_waiting` of them a turn is refused.
    """

    def __init__(self, store: HistoryStore, max_turns: int, max_waiting: int) -> None:
        self.store, self.room = store, max_turns + max_waiting
        self._queues = LocalQueues()
        self._slots = asyncio.Semaphore(max_turns)
        self._active = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def in_flight(self) -> int:
        """Turns answering or waiting for a place here, from before their admission."""
        return self._active

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """One turn in flight, from before its admission to its end; `drain` waits for it.
        Overloaded, before anything is counted, when the line is full."""
        if self._active >= self.room:
            raise Overloaded
        self._active += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._active -= 1
            if not self._active:
                self._idle.set()

    @contextlib.asynccontextmanager
    async def admit(self, turn: Turn, where: Where, rate: Rate,
                    budget: Budget | None) -> AsyncIterator[bool]:
        """Wait for the conversation's turn, then a slot; yields whether the turn was counted
        against its payer's rate and budget meanwhile (only behind a local sibling: over the
        limit is told at once)."""
        admitted = False

        async def count() -> None:
            nonlocal admitted
            await self.store.admit(where.payer, turn.turn_id, rate, cost(turn), budget)
            admitted = True

        async with self._queues.hold(str(where.session), count), self._slots:
            yield admitted

    async def drain(self, seconds: float) -> bool:
        """Wait for turns in flight to finish; False if some are still running."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._idle.wait()
        return self._idle.is_set()

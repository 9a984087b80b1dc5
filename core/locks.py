"""Turn order: `LocalQueues`, one FIFO per conversation in a process, in front of the Redis
lock; and `kept`, which renews that lock while a reply runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from core.errors import SwitchboardError
from core.keys import SessionKey
from core.store import HistoryStore

Work = Callable[[], Awaitable[None]]
log = logging.getLogger("switchboard.turn")


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


class Lease:
    """A held lock as its keeper sees it; `ending` once the turn writes (or gives it back)."""

    def __init__(self) -> None:
        self.ending = False  # the write frees the lock: a renewal finding it gone is no news


@contextlib.asynccontextmanager
async def kept(store: HistoryStore, session: SessionKey, token: str) -> AsyncIterator[Lease]:
    """Keep a conversation's Redis lock alive while a reply runs; give it back on failure."""
    keepers: list[asyncio.Task[None]] = []
    lease = Lease()
    # Most turns end long before the lock needs renewing: start the keeper only then.
    timer = asyncio.get_running_loop().call_later(
        store.lock_ms / 3000,
        lambda: keepers.append(asyncio.create_task(_renew(store, session, token, lease))))
    try:
        yield lease
    except BaseException:
        # Shielded: a framework that cancels again must not leave the lock held until expiry.
        with contextlib.suppress(SwitchboardError, asyncio.CancelledError):
            await asyncio.shield(store.release(session, token))
        raise
    finally:
        timer.cancel()
        for keeper in keepers:
            keeper.cancel()


async def _renew(store: HistoryStore, session: SessionKey, token: str, lease: Lease) -> None:
    every = store.lock_ms / 3000
    while True:
        try:
            if not await store.keep_lock(session, token):
                if not lease.ending:
                    log.warning("lock lost session=%s", session)
                return
        except SwitchboardError as exc:
            # One failed renewal must not end them all: the lock has two more periods to live.
            log.warning("lock renewal failed session=%s: %s", session, type(exc).__name__)
            await asyncio.sleep(every / 4)
            continue
        await asyncio.sleep(every)

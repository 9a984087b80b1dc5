"""Crash-safe delivery: every update is in a Redis inbox before Telegram counts it delivered."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from typing import Any

from telegram import Update
from telegram.error import NetworkError
from telegram.ext import AIORateLimiter, Application, ExtBot, SimpleUpdateProcessor
from telegram.request import HTTPXRequest

from adapters.inbox import DAY
from adapters.inbox import Inbox as Inbox  # the adapter's own name for it, re-exported
from adapters.inbox import RedisInbox as SharedInbox
from core.errors import StoreUnavailable
from core.keys import UserKey
from core.redis_modes import AnyRedis

log = logging.getLogger("switchboard.telegram")
CONCURRENCY = 256  # what ApplicationBuilder.concurrent_updates(True) uses
# Replay at start only updates this old: younger ones may still be answering in another replica.
REPLAY_AFTER = 60.0
App = Application[Any, Any, Any, Any, Any, Any]


def _theirs(obj: dict[str, Any], user_id: int) -> bool:
    """A message (or query...) the person sent, or the person as a Telegram `User`."""
    sender = obj.get("from")
    return (isinstance(sender, dict) and sender.get("id") == user_id) or (
        obj.get("id") == user_id and "first_name" in obj)


def _strip(value: Any, user_id: int) -> Any:
    """`value` without what is the person's (None if all of it is)."""
    if isinstance(value, dict):
        if _theirs(value, user_id):
            return None
        kept = ((k, _strip(v, user_id)) for k, v in value.items())
        return {k: v for k, v in kept if v is not None}
    if isinstance(value, list):
        return [v for v in (_strip(item, user_id) for item in value) if v is not None]
    return value


def redacted(payload: str, user_id: int) -> str | None:
    """An update without the person in it: None if it is theirs (remove it), else the update
    with their quoted messages and mentions taken out (the same text when none are)."""
    try:
        update = json.loads(payload)
    except ValueError:  # not something we stored; the replay drops it
        return payload
    kept = _strip(update, user_id)
    if kept is None or set(kept) <= {"update_id"}:
        return None
    return payload if kept == update else json.dumps(kept)


class RedisInbox(SharedInbox):
    """Telegram's updates in the shared inbox, under the key names earlier versions used."""

    def __init__(self, redis: AnyRedis, prefix: str, ttl_s: int = DAY) -> None:
        super().__init__(redis, prefix, "telegram", ttl_s)

    async def erase_user(self, user: UserKey) -> int:
        """The core's eraser: remove a Telegram user's pending updates, and take their quoted
        messages out of other people's; returns how many updates changed."""
        if user.platform != "telegram" or len(user.parts) != 1 or not user.parts[0].isdigit():
            return 0
        changed = 0
        for update_id, payload in await self.entries():
            new = redacted(payload, int(user.parts[0]))
            if new != payload:
                changed += await self.redact(update_id, new)
        return changed


class InboxBot(ExtBot[int]):
    """An `ExtBot` whose `getUpdates` keeps every update in the inbox before returning it.

    PTB's Updater confirms an offset on its *next* `getUpdates` call, and only for updates this
    call returned; so an update this method has returned is already durable when it is
    confirmed. Overriding the one public method is smaller than driving `getUpdates` ourselves,
    and `ApplicationBuilder.bot()` is PTB's documented way to use an `ExtBot` subclass.
    """

    __slots__ = ("_inbox",)

    def __init__(self, inbox: Inbox, token: str, base_url: str,
                 limiter: AIORateLimiter, base_file_url: str) -> None:
        # The pool sizes ApplicationBuilder would pick: 256 for replies, 1 for long polling.
        # Files come from `base_file_url` (the Bot API's host), never PTB's default host.
        super().__init__(token, base_url, base_file_url=base_file_url,
                         request=HTTPXRequest(connection_pool_size=256),
                         get_updates_request=HTTPXRequest(connection_pool_size=1),
                         rate_limiter=limiter)
        self._inbox = inbox  # PTB freezes public attributes of a Bot

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        updates = await super().get_updates(*args, **kwargs)
        try:
            for update in updates:
                await self._inbox.put(str(update.update_id), update.to_json())
        except StoreUnavailable as exc:
            # A TelegramError makes the Updater retry with backoff, and none of these offsets
            # gets confirmed: Telegram sends the same updates again.
            raise NetworkError(f"inbox unavailable: {exc}") from exc
        return updates


class InboxProcessor(SimpleUpdateProcessor):
    """Runs updates concurrently like PTB's default, acknowledging each once it is handled."""

    def __init__(self, inbox: Inbox) -> None:
        super().__init__(CONCURRENCY)
        self.inbox = inbox
        self._busy: Counter[int] = Counter()  # update ids in flight, counting redeliveries

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if not isinstance(update, Update):
            return await super().do_process_update(update, coroutine)
        uid, cut_off = update.update_id, True
        self._busy[uid] += 1
        try:
            await coroutine  # PTB catches and reports handler errors itself
            cut_off = False
        except Exception:
            cut_off = False
            raise
        finally:  # cancelled means cut off (the process is dying): leave it for the replay
            if self._release(uid) and not cut_off:
                await self._ack(uid)

    def _release(self, update_id: int) -> bool:
        # A redelivery the gate dropped must not ack while the first copy is still answering.
        self._busy[update_id] -= 1
        if self._busy[update_id] > 0:
            return False
        del self._busy[update_id]
        return True

    async def _ack(self, update_id: int) -> None:
        try:
            await self.inbox.ack(str(update_id))
        except StoreUnavailable as exc:  # replayed at the next start and deduplicated there
            log.warning("telegram update %s not acknowledged: %s", update_id, exc)


def inbox_of(app: App) -> Inbox | None:
    """The inbox an application built by `build_application` acknowledges into, if any."""
    processor = app.update_processor
    return processor.inbox if isinstance(processor, InboxProcessor) else None


@contextlib.asynccontextmanager
async def replaying(app: App, older_than: float) -> AsyncIterator[None]:
    """Replay at once what is `older_than` old; the rest from before this start once it is too.

    The second pass matters after a quick restart, when the lost updates are still young.
    """
    inbox = inbox_of(app)
    if inbox is None:
        yield
        return
    await replay(app, inbox, older_than)
    later = asyncio.create_task(_replay_later(app, inbox, older_than))
    try:
        yield
    finally:
        later.cancel()


async def _replay_later(app: App, inbox: Inbox, older_than: float) -> None:
    await asyncio.sleep(older_than)
    await replay(app, inbox, older_than)  # now exactly what arrived before this start


async def replay(app: App, inbox: Inbox, older_than: float) -> int:
    """Queue the updates an earlier run received but never finished; returns how many."""
    try:
        pending = await inbox.pending(older_than)
    except StoreUnavailable as exc:
        log.warning("telegram replay skipped: %s", exc)
        return 0
    for event_id, payload in pending:
        await _requeue(app, inbox, event_id, payload)
    if pending:
        log.info("replaying %d unfinished telegram updates", len(pending))
    return len(pending)


async def _requeue(app: App, inbox: Inbox, event_id: str, payload: str) -> None:
    try:
        update = Update.de_json(json.loads(payload), app.bot)
    except ValueError:  # not something we stored: drop it rather than fail every start
        log.warning("telegram update %s in the inbox does not parse; dropped", event_id)
        with contextlib.suppress(StoreUnavailable):
            await inbox.ack(event_id)
        return
    await app.update_queue.put(update)

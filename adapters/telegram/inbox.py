"""Crash-safe delivery: every update is in a Redis inbox before Telegram counts it delivered."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from typing import Any, Protocol

from telegram import Update
from telegram.error import NetworkError
from telegram.ext import AIORateLimiter, Application, ExtBot, SimpleUpdateProcessor
from telegram.request import HTTPXRequest

from core.connect import guard
from core.errors import StoreUnavailable
from core.keys import UserKey
from core.redis_modes import AnyRedis

log = logging.getLogger("switchboard.telegram")
CONCURRENCY = 256  # what ApplicationBuilder.concurrent_updates(True) uses
# Replay at start only updates this old: younger ones may still be answering in another replica.
REPLAY_AFTER = 60.0
DAY = 86_400  # Telegram keeps undelivered updates 24 h; an older one cannot come back anyway
App = Application[Any, Any, Any, Any, Any, Any]

# Keep one update unless it is already there; drop updates older than the TTL.
# KEYS: received zset (id -> ms), payload hash. ARGV: update_id, payload, ttl_s.
# Times come from the server so that every replica agrees on an update's age.
PUT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
for _, old in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - ttl * 1000)) do
  redis.call('HDEL', KEYS[2], old)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ttl * 1000)
redis.call('ZADD', KEYS[1], 'NX', now, ARGV[1])
redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[2], ttl)
return 1
"""

# Updates received at least ARGV[1] ms ago, oldest first, as a flat {id, payload, ...} list.
# KEYS: received zset, payload hash. ARGV: older_than_ms, limit.
PENDING = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]),
                       'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  local payload = redis.call('HGET', KEYS[2], id)
  if payload then out[#out + 1] = id; out[#out + 1] = payload end
end
return out
"""

# Remove one update (ARGV[2] == '') or put a redacted copy in its place, only while it is still
# pending: an update acknowledged meanwhile is not brought back. KEYS: received zset, payload
# hash. ARGV: update_id, redacted payload or ''.
REDACT = """
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 0 end
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
end
return 1
"""


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


class Inbox(Protocol):
    """Where the adapter keeps each raw update from its arrival until it has been handled."""

    async def put(self, update_id: str, payload: str) -> None:
        """Keep `payload` until acknowledged; a second put of the same id changes nothing."""

    async def ack(self, update_id: str) -> None:
        """The update was handled, whatever the outcome; it is never replayed."""

    async def pending(self, older_than: float, limit: int = 1000) -> list[tuple[str, str]]:
        """(update_id, payload) unacknowledged and over `older_than` seconds old; oldest first."""


class RedisInbox:
    """The `Inbox` on plain Redis: a ZSET of arrival times and a HASH of payloads."""

    def __init__(self, redis: AnyRedis, prefix: str, ttl_s: int = DAY) -> None:
        self.redis, self.ttl_s = redis, ttl_s
        # The names core/keys.py used to give them, so updates kept by an earlier version are
        # replayed; one hash tag, so both keys share a Redis Cluster slot.
        self.keys = f"{prefix}{{in:telegram}}:q", f"{prefix}{{in:telegram}}:d"
        # register_script runs EVALSHA and reloads the script when the server answers NOSCRIPT.
        self._put = redis.register_script(PUT)
        self._pending = redis.register_script(PENDING)
        self._redact = redis.register_script(REDACT)

    async def put(self, update_id: str, payload: str) -> None:
        await guard(self._put(keys=self.keys, args=(update_id, payload, self.ttl_s)))

    async def ack(self, update_id: str) -> None:
        received, payloads = self.keys
        # ZREM and HDEL are idempotent, so a retried MULTI after a lost reply is harmless.
        pipe = self.redis.pipeline(transaction=True)
        pipe.zrem(received, update_id)
        pipe.hdel(payloads, update_id)
        await guard(pipe.execute())

    async def pending(self, older_than: float, limit: int = 1000) -> list[tuple[str, str]]:
        flat: list[Any] = await guard(self._pending(
            keys=self.keys, args=(int(older_than * 1000), limit)))
        return [(str(flat[i]), str(flat[i + 1])) for i in range(0, len(flat), 2)]

    async def erase_user(self, user: UserKey) -> int:
        """The core's eraser: remove a Telegram user's pending updates, and take their quoted
        messages out of other people's; returns how many updates changed."""
        if user.platform != "telegram" or len(user.parts) != 1 or not user.parts[0].isdigit():
            return 0
        payloads = await guard(self.redis.hgetall(self.keys[1]))
        changed = 0
        for update_id, payload in ((str(k), str(v)) for k, v in payloads.items()):
            new = redacted(payload, int(user.parts[0]))
            if new != payload:
                changed += int(await guard(self._redact(keys=self.keys,
                                                        args=(update_id, new or ""))))
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

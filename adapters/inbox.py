"""Crash-safe delivery for every platform: an event is kept in Redis from arrival until handled."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from pydantic import Field

from core.background import alongside
from core.connect import guard
from core.errors import StoreUnavailable
from core.redis_modes import AnyRedis
from core.settings import EnvSettings

log = logging.getLogger("switchboard.inbox")
# Replay only entries this old: younger ones may still be answering in another replica.
REPLAY_AFTER = 60.0
DAY = 86_400  # platforms stop redelivering within a day; an older entry cannot matter
Handle = Callable[[str, str], Awaitable[None]]  # (event id, payload) -> handled

# Keep one entry unless it is already there; drop entries older than the TTL.
# KEYS: received zset (id -> ms), payload hash. ARGV: id, payload, ttl_s.
# Times come from the server so that every replica agrees on an entry's age.
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

# Entries received (or last claimed) at least ARGV[1] ms ago, oldest first, as a flat
# {id, payload, ...} list. With ARGV[3] = '1' they are claimed: their time becomes now, so no
# other replica's claim sees them for another ARGV[1] ms (this one's replay has that long).
# KEYS: received zset, payload hash. ARGV: older_than_ms, limit, claim.
PENDING = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]),
                       'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  local payload = redis.call('HGET', KEYS[2], id)
  if payload then
    out[#out + 1] = id; out[#out + 1] = payload
    if ARGV[3] == '1' then redis.call('ZADD', KEYS[1], 'XX', now, id) end
  end
end
return out
"""

# Remove one entry (ARGV[2] == '') or put a redacted copy in its place, only while it is still
# pending: an entry acknowledged meanwhile is not brought back. KEYS: received zset, payload
# hash. ARGV: id, redacted payload or ''.
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

# Give a claimed entry back: visible to the next claim of any replica at once.
# KEYS: received zset. ARGV: id, older_than_ms.
RELEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZADD', KEYS[1], 'XX', now - tonumber(ARGV[2]), ARGV[1])
"""


class InboxSettings(EnvSettings):
    """How long an unfinished event waits before a replica replays it."""

    replay_after: float = Field(REPLAY_AFTER, alias="SWITCHBOARD_REPLAY_AFTER", gt=0)


class Inbox(Protocol):
    """Where an adapter keeps each raw event from its arrival until it has been handled."""

    async def put(self, event_id: str, payload: str) -> None:
        """Keep `payload` until acknowledged; a second put of the same id changes nothing."""

    async def ack(self, event_id: str) -> None:
        """The event was handled, whatever the outcome; it is never replayed."""

    async def pending(self, older_than: float, limit: int = 1000) -> list[tuple[str, str]]:
        """(event_id, payload) unacknowledged and over `older_than` seconds old; oldest first."""

    async def claim(self, older_than: float, limit: int = 1000) -> list[tuple[str, str]]:
        """Like `pending`, and hidden from every replica's `claim` for `older_than` more."""

    async def release(self, event_id: str, older_than: float) -> None:
        """Undo a claim: the entry is there for the next `claim(older_than)` of any replica."""


class RedisInbox:
    """The `Inbox` on Redis: a ZSET of arrival times and a HASH of payloads, in one slot."""

    def __init__(self, redis: AnyRedis, prefix: str, platform: str, ttl_s: int = DAY) -> None:
        self.redis, self.ttl_s = redis, ttl_s
        # One hash tag, so both keys share a Redis Cluster slot (Telegram's are the names
        # earlier versions used, so what they kept is still replayed).
        self.keys = f"{prefix}{{in:{platform}}}:q", f"{prefix}{{in:{platform}}}:d"
        # register_script runs EVALSHA and reloads the script when the server answers NOSCRIPT.
        self._put = redis.register_script(PUT)
        self._pending = redis.register_script(PENDING)
        self._redact = redis.register_script(REDACT)
        self._release = redis.register_script(RELEASE)

    async def put(self, event_id: str, payload: str) -> None:
        await guard(self._put(keys=self.keys, args=(event_id, payload, self.ttl_s)))

    async def ack(self, event_id: str) -> None:
        received, payloads = self.keys
        # ZREM and HDEL are idempotent, so a retried MULTI after a lost reply is harmless.
        pipe = self.redis.pipeline(transaction=True)
        pipe.zrem(received, event_id)
        pipe.hdel(payloads, event_id)
        await guard(pipe.execute())

    async def pending(self, older_than: float, limit: int = 1000) -> list[tuple[str, str]]:
        return await self._read(older_than, limit, claim=False)

    async def claim(self, older_than: float, limit: int = 1000) -> list[tuple[str, str]]:
        return await self._read(older_than, limit, claim=True)

    async def entries(self) -> list[tuple[str, str]]:
        """Every entry kept now, (id, payload), for an erasure to look through."""
        payloads = await guard(self.redis.hgetall(self.keys[1]))
        return [(str(k), str(v)) for k, v in payloads.items()]

    async def redact(self, event_id: str, payload: str | None) -> int:
        """Replace a pending entry's payload, or remove it (None); 1 if it was pending."""
        return int(await guard(self._redact(keys=self.keys, args=(event_id, payload or ""))))

    async def release(self, event_id: str, older_than: float) -> None:
        await guard(self._release(keys=self.keys[:1], args=(event_id, int(older_than * 1000))))

    async def _read(self, older_than: float, limit: int, claim: bool) -> list[tuple[str, str]]:
        flat: list[Any] = await guard(self._pending(
            keys=self.keys, args=(int(older_than * 1000), limit, "1" if claim else "0")))
        return [(str(flat[i]), str(flat[i + 1])) for i in range(0, len(flat), 2)]


class Busy:
    """Event ids this process is handling now, counting redeliveries of the same id."""

    def __init__(self) -> None:
        self._count: Counter[str] = Counter()

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._count

    def enter(self, event_id: str) -> None:
        self._count[event_id] += 1

    def leave(self, event_id: str) -> bool:
        """True when no other copy is in flight: only then may the event be acknowledged."""
        self._count[event_id] -= 1
        if self._count[event_id] > 0:
            return False
        del self._count[event_id]
        return True


class Keeper:
    """One platform's inbox as its adapter uses it: put before the ack, ack once handled."""

    def __init__(self, inbox: Inbox, platform: str, replay_after: float = REPLAY_AFTER) -> None:
        self.inbox, self.platform, self.replay_after = inbox, platform, replay_after
        self.busy = Busy()

    async def put(self, event_id: str, payload: str) -> None:
        """Raises `StoreUnavailable`: then the platform must not count the event delivered."""
        await self.inbox.put(event_id, payload)

    def enter(self, event_id: str) -> None:
        """The event is being handled here from now on (`leave` when that ends)."""
        self.busy.enter(event_id)

    async def leave(self, event_id: str, handled: bool) -> None:
        """Ack once its last copy here ended, unless cut off (then it is left for a replay).

        A redelivery that the core drops at once must not ack while the first copy answers.
        """
        if self.busy.leave(event_id) and handled:
            await self.ack(event_id)

    @contextlib.asynccontextmanager
    async def handling(self, event_id: str) -> AsyncIterator[None]:
        """Around a handler: acknowledged when it ends, whatever the outcome, unless cancelled."""
        self.enter(event_id)
        handled = False
        try:
            yield
            handled = True
        except Exception:
            handled = True  # the failure was told to the user; a replay would only repeat it
            raise
        finally:  # cancelled means cut off (the process is stopping): left for the replay
            await self.leave(event_id, handled)

    async def ack(self, event_id: str) -> None:
        try:
            await self.inbox.ack(event_id)
        except StoreUnavailable as exc:  # replayed later, and deduplicated by the turn id then
            log.warning("%s event %s not acknowledged: %s", self.platform, event_id, exc)

    async def hand_back(self, event_id: str) -> None:
        """A claimed entry this replica cannot answer: there for the others' next claim."""
        await self.inbox.release(event_id, self.replay_after)

    async def drop(self, event_id: str, why: str) -> None:
        """An entry that can never be handled (unparsable, deleted): forget it."""
        log.warning("%s event %s dropped from the inbox: %s", self.platform, event_id, why)
        await self.ack(event_id)

    async def replay_once(self, handle: Handle) -> int:
        """Claim what is `replay_after` old and hand each to `handle`; returns how many."""
        try:
            claimed = await self.inbox.claim(self.replay_after)
        except StoreUnavailable as exc:
            log.warning("%s replay skipped: %s", self.platform, exc)
            return 0
        mine = [(i, p) for i, p in claimed if i not in self.busy]  # not still answering here
        if mine:
            log.info("replaying %d unfinished %s events", len(mine), self.platform)
        for event_id, payload in mine:
            await handle(event_id, payload)
        return len(mine)

    @contextlib.asynccontextmanager
    async def replaying(self, handle: Handle) -> AsyncIterator[None]:
        """Replay at once, then every `replay_after`: also what a crashed replica left."""
        async with alongside(self._replay_forever(handle)):
            yield

    async def _replay_forever(self, handle: Handle) -> None:
        while True:
            try:
                await self.replay_once(handle)
            except Exception:  # one bad replay must not end replaying for good
                log.exception("%s replay failed", self.platform)
            await asyncio.sleep(self.replay_after)

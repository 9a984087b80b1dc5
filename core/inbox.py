"""`RedisInbox`: raw platform events kept in Redis from arrival until they are handled."""

from __future__ import annotations

from typing import Any, Protocol

from core.connect import guard
from core.keys import KeySpace
from core.redis_modes import AnyRedis

DAY = 86_400  # Telegram keeps undelivered updates 24 h; an older event cannot come back anyway

# Store one event unless it is already there; drop events older than the TTL.
# KEYS: received zset (id -> ms), payload hash. ARGV: event_id, payload, ttl_s.
# Times come from the server so that every replica agrees on an event's age.
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

# Events received at least ARGV[1] ms ago, oldest first, as a flat {id, payload, ...} list.
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


class Inbox(Protocol):
    """Where an adapter keeps each raw event from its arrival until it has been handled."""

    async def put(self, source: str, event_id: str, payload: str) -> None:
        """Keep `payload` until acknowledged; a second put of the same id changes nothing."""

    async def ack(self, source: str, event_id: str) -> None:
        """The event was handled, whatever the outcome; it is never replayed."""

    async def pending(self, source: str, older_than: float,
                      limit: int = 1000) -> list[tuple[str, str]]:
        """(event_id, payload) unacknowledged and over `older_than` seconds old; oldest first."""


class RedisInbox:
    """The `Inbox` on plain Redis: a ZSET of arrival times and a HASH of payloads per source."""

    def __init__(self, redis: AnyRedis, prefix: str, ttl_s: int = DAY) -> None:
        self.redis, self.prefix, self.ttl_s = redis, prefix, ttl_s
        # register_script runs EVALSHA and reloads the script when the server answers NOSCRIPT.
        self._put = redis.register_script(PUT)
        self._pending = redis.register_script(PENDING)

    def keys(self, source: str) -> tuple[str, str]:
        """(arrival zset, payload hash) of one source."""
        return KeySpace(self.prefix).inbox(source)

    async def put(self, source: str, event_id: str, payload: str) -> None:
        await guard(self._put(keys=self.keys(source), args=(event_id, payload, self.ttl_s)))

    async def ack(self, source: str, event_id: str) -> None:
        received, payloads = self.keys(source)
        # ZREM and HDEL are idempotent, so a retried MULTI after a lost reply is harmless.
        pipe = self.redis.pipeline(transaction=True)
        pipe.zrem(received, event_id)
        pipe.hdel(payloads, event_id)
        await guard(pipe.execute())

    async def pending(self, source: str, older_than: float,
                      limit: int = 1000) -> list[tuple[str, str]]:
        flat: list[Any] = await guard(self._pending(
            keys=self.keys(source), args=(int(older_than * 1000), limit)))
        return [(str(flat[i]), str(flat[i + 1])) for i in range(0, len(flat), 2)]

"""`RedisInbox` on a real Redis: idempotent puts, acks, pending order and age, TTLs, trimming."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from core.errors import StoreUnavailable
from core.inbox import RedisInbox


async def all_keys(redis: Redis, prefix: str) -> list[str]:
    return [k async for k in redis.scan_iter(match=f"{prefix}*")]


async def test_put_is_idempotent_and_keeps_the_first_arrival(redis: Redis, prefix: str) -> None:
    inbox = RedisInbox(redis, prefix)
    await inbox.put("tg", "1", "first")
    received = await redis.zscore(inbox.keys("tg")[0], "1")
    await asyncio.sleep(0.01)
    await inbox.put("tg", "1", "second")
    assert await inbox.pending("tg", 0) == [("1", "first")]
    assert await redis.zscore(inbox.keys("tg")[0], "1") == received


async def test_ack_removes_the_event_and_is_idempotent(redis: Redis, prefix: str) -> None:
    inbox = RedisInbox(redis, prefix)
    await inbox.put("tg", "1", "a")
    await inbox.put("tg", "2", "b")
    await inbox.ack("tg", "1")
    await inbox.ack("tg", "1")
    await inbox.ack("tg", "404")
    assert await inbox.pending("tg", 0) == [("2", "b")]
    await inbox.ack("tg", "2")
    assert await all_keys(redis, prefix) == []  # nothing left behind, not even empty keys


async def test_pending_is_oldest_first_and_filters_by_age(redis: Redis, prefix: str) -> None:
    inbox = RedisInbox(redis, prefix)
    for event_id in ("30", "4", "200"):  # not in id or lexical order
        await inbox.put("tg", event_id, f"p{event_id}")
        await asyncio.sleep(0.01)
    assert await inbox.pending("tg", 5) == []
    assert await inbox.pending("tg", 0) == [("30", "p30"), ("4", "p4"), ("200", "p200")]
    assert await inbox.pending("tg", 0, limit=2) == [("30", "p30"), ("4", "p4")]
    await asyncio.sleep(0.2)
    await inbox.put("tg", "5", "young")
    assert [e for e, _ in await inbox.pending("tg", 0.15)] == ["30", "4", "200"]


async def test_sources_are_separate(redis: Redis, prefix: str) -> None:
    inbox = RedisInbox(redis, prefix)
    await inbox.put("tg", "1", "telegram")
    await inbox.put("other", "1", "other")
    await inbox.ack("other", "1")
    assert await inbox.pending("tg", 0) == [("1", "telegram")]
    assert await inbox.pending("other", 0) == []


async def test_every_key_has_a_ttl_refreshed_on_put(redis: Redis, prefix: str) -> None:
    inbox = RedisInbox(redis, prefix, ttl_s=100)
    await inbox.put("tg", "1", "a")
    await redis.expire(inbox.keys("tg")[0], 10)
    await inbox.put("tg", "2", "b")
    keys = await all_keys(redis, prefix)
    assert sorted(keys) == sorted(inbox.keys("tg"))
    assert all(90 < ttl <= 100 for ttl in [await redis.ttl(k) for k in keys])
    assert all("{in:tg}" in k for k in keys)  # one hash tag: one Cluster slot


async def test_events_older_than_the_ttl_are_trimmed(redis: Redis, prefix: str) -> None:
    inbox = RedisInbox(redis, prefix, ttl_s=1)
    await inbox.put("tg", "old", "a")
    await asyncio.sleep(1.1)
    await inbox.put("tg", "new", "b")
    assert await inbox.pending("tg", 0) == [("new", "b")]
    assert await redis.hkeys(inbox.keys("tg")[1]) == ["new"]


async def test_redis_errors_become_store_unavailable() -> None:
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2, retry=None)
    inbox = RedisInbox(dead, "sbtest:dead:")
    try:
        for call in (inbox.put("tg", "1", "a"), inbox.ack("tg", "1"), inbox.pending("tg", 0)):
            with pytest.raises(StoreUnavailable):
                await call
    finally:
        await dead.aclose()

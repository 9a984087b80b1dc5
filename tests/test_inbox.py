"""Telegram's `RedisInbox` on a real Redis: idempotent puts, acks, pending order and age, TTLs."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from adapters.telegram.inbox import RedisInbox
from core.errors import StoreUnavailable


async def all_keys(redis: Redis, prefix: str) -> list[str]:
    return [k async for k in redis.scan_iter(match=f"{prefix}*")]


async def test_put_is_idempotent_and_keeps_the_first_arrival(redis: Redis, prefix: str) -> None:
    inbox = RedisInbox(redis, prefix)
    await inbox.put("1", "first")
    received = await redis.zscore(inbox.keys[0], "1")
    await asyncio.sleep(0.01)
    await inbox.put("1", "second")
    assert await inbox.pending(0) == [("1", "first")]
    assert await redis.zscore(inbox.keys[0], "1") == received


async def test_ack_removes_the_update_and_is_idempotent(redis: Redis, prefix: str) -> None:
    inbox = RedisInbox(redis, prefix)
    await inbox.put("1", "a")
    await inbox.put("2", "b")
    await inbox.ack("1")
    await inbox.ack("1")
    await inbox.ack("404")
    assert await inbox.pending(0) == [("2", "b")]
    await inbox.ack("2")
    assert await all_keys(redis, prefix) == []  # nothing left behind, not even empty keys


async def test_pending_is_oldest_first_and_filters_by_age(redis: Redis, prefix: str) -> None:
    inbox = RedisInbox(redis, prefix)
    for update_id in ("30", "4", "200"):  # not in id or lexical order
        await inbox.put(update_id, f"p{update_id}")
        await asyncio.sleep(0.01)
    assert await inbox.pending(5) == []
    assert await inbox.pending(0) == [("30", "p30"), ("4", "p4"), ("200", "p200")]
    assert await inbox.pending(0, limit=2) == [("30", "p30"), ("4", "p4")]
    await asyncio.sleep(0.2)
    await inbox.put("5", "young")
    assert [e for e, _ in await inbox.pending(0.15)] == ["30", "4", "200"]


async def test_keys_keep_the_names_updates_were_stored_under_before(
        redis: Redis, prefix: str) -> None:
    # Until the move out of core, core/keys.py named them; updates kept then must replay now.
    received, payloads = f"{prefix}{{in:telegram}}:q", f"{prefix}{{in:telegram}}:d"
    await redis.zadd(received, {"9": 1})
    await redis.hset(payloads, "9", "kept by the old version")
    inbox = RedisInbox(redis, prefix)
    assert inbox.keys == (received, payloads)
    assert await inbox.pending(0) == [("9", "kept by the old version")]


async def test_every_key_has_a_ttl_refreshed_on_put(redis: Redis, prefix: str) -> None:
    inbox = RedisInbox(redis, prefix, ttl_s=100)
    await inbox.put("1", "a")
    await redis.expire(inbox.keys[0], 10)
    await inbox.put("2", "b")
    keys = await all_keys(redis, prefix)
    assert sorted(keys) == sorted(inbox.keys)
    assert all(90 < ttl <= 100 for ttl in [await redis.ttl(k) for k in keys])
    assert all("{in:telegram}" in k for k in keys)  # one hash tag: one Cluster slot


async def test_updates_older_than_the_ttl_are_trimmed(redis: Redis, prefix: str) -> None:
    inbox = RedisInbox(redis, prefix, ttl_s=1)
    await inbox.put("old", "a")
    await asyncio.sleep(1.1)
    await inbox.put("new", "b")
    assert await inbox.pending(0) == [("new", "b")]
    assert await redis.hkeys(inbox.keys[1]) == ["new"]


async def test_redis_errors_become_store_unavailable() -> None:
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2, retry=None)
    inbox = RedisInbox(dead, "sbtest:dead:")
    try:
        for call in (inbox.put("1", "a"), inbox.ack("1"), inbox.pending(0)):
            with pytest.raises(StoreUnavailable):
                await call
    finally:
        await dead.aclose()

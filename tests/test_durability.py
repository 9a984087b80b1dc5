"""A commit that no replica acknowledged fails instead of being answered and then lost."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from core.durability import Durability, replicas_to_wait
from core.errors import StoreUnavailable


async def test_auto_waits_only_where_there_is_a_replica(redis: Redis) -> None:
    assert await replicas_to_wait(redis, "auto") == 0  # the test server has none
    assert await replicas_to_wait(redis, 2) == 2
    assert await replicas_to_wait(redis, 0) == 0


async def test_without_sentinel_an_unacknowledged_commit_fails(redis: Redis) -> None:
    durable = Durability(redis, replicas=1, timeout_ms=50)
    pipe = redis.pipeline(transaction=False)
    pipe.ping()
    asked = durable.queue(pipe)
    results = await pipe.execute()
    assert results[-1] == 0  # WAIT: no replica acknowledged
    with pytest.raises(StoreUnavailable):
        await durable.check(results, asked)


async def test_no_replica_asked_for_means_no_wait(redis: Redis) -> None:
    durable = Durability(redis, replicas=0)
    pipe = redis.pipeline(transaction=False)
    pipe.ping()
    assert durable.queue(pipe) is None
    results = await pipe.execute()
    assert results == [True]
    await durable.check(results, None)

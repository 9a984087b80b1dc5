"""Admission and lock renewal under load, on the real Redis: a bounded number of turns at once,
the rest waiting without a lock, past a bounded line refused; a renewal that fails once does
not let the lock expire."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from redis.asyncio import Redis

from core.connect import client_for
from core.errors import Overloaded, StoreUnavailable
from core.keys import SessionKey, Speaker, UserKey
from core.redis_store import RedisStore
from core.service import ChatService, Turn
from core.settings import CoreSettings
from tests.fakes.common import wait_for
from tests.fakes.models import CountingModel
from tests.store_checks import two_processes_race


def person(name: str) -> Speaker:
    return Speaker(UserKey.of("slack", "T1", name), name, "slack")


class FlakyRenewals(RedisStore):
    """The real store, whose first lock renewal fails as a Redis blip would make it fail."""

    failed = 0

    async def keep_lock(self, session: SessionKey, lock_token: str) -> bool:
        if not self.failed:
            self.failed += 1
            raise StoreUnavailable("connection reset")
        return await super().keep_lock(session, lock_token)


async def locks_held(redis: Redis, prefix: str) -> int:
    return len([k async for k in redis.scan_iter(match=f"{prefix}{{s:*}}:l", count=1000)])


async def test_turns_past_the_bound_wait_in_line_holding_no_lock(
        redis: Redis, prefix: str, make_settings: Callable[..., CoreSettings]) -> None:
    settings = make_settings(SWITCHBOARD_MAX_TURNS="2")
    model = CountingModel(delay=0.3)
    store = RedisStore(redis, prefix, settings.history_ttl, settings.history_max_messages)
    await store.scripts.load(redis)
    service = ChatService(store, model, settings)
    people = [person(f"p{i}") for i in range(6)]
    seen: list[tuple[int, int]] = []  # (model calls running, locks in Redis), sampled

    async def watch() -> None:
        while True:
            seen.append((sum(model.running.values()), await locks_held(redis, prefix)))
            await asyncio.sleep(0.02)

    watching = asyncio.create_task(watch())
    try:
        await asyncio.gather(*(service.reply(Turn(SessionKey.direct(p.user), p, f"hi {i}"))
                               for i, p in enumerate(people)))
    finally:
        watching.cancel()
    assert max(running for running, _ in seen) == 2
    assert max(locks for _, locks in seen) <= 2  # the four waiting held no conversation
    for i, p in enumerate(people):  # each stored once
        stored = await service.history(SessionKey.direct(p.user))
        assert [m.role for m in stored] == ["human", "ai"] and stored[0].text == f"hi {i}"


async def test_past_the_waiting_line_a_turn_is_refused_and_nothing_is_counted(
        redis: Redis, prefix: str, make_settings: Callable[..., CoreSettings]) -> None:
    settings = make_settings(SWITCHBOARD_MAX_TURNS="1", SWITCHBOARD_MAX_WAITING="1",
                             SWITCHBOARD_RATE_LIMIT="1/minute")
    model = CountingModel(delay=0.3)
    store = RedisStore(redis, prefix, settings.history_ttl, settings.history_max_messages)
    await store.scripts.load(redis)
    service = ChatService(store, model, settings)
    first = [asyncio.create_task(service.reply(Turn(SessionKey.direct(p.user), p, "hi")))
             for p in (person("ana"), person("bo"))]
    await wait_for(lambda: model.calls == 1)  # one answering, one waiting in line
    cy = person("cy")
    late = Turn(SessionKey.direct(cy.user), cy, "me too", "cy-1")
    with pytest.raises(Overloaded):
        await service.reply(late)
    assert await service.history(late.session) == []
    await asyncio.gather(*first)
    # Sent again once the line moved: answered, so the refusal counted nothing (1/minute).
    assert await service.reply(late)
    assert [m.role for m in await service.history(late.session)] == ["human", "ai"]


async def test_a_failed_renewal_is_retried_before_the_lock_expires(
        redis_url: str, make_settings: Callable[..., CoreSettings]) -> None:
    # The lock lives 0.3 s, the reply takes 1 s, and the first renewal fails: the next one
    # still comes in time, so the other process waits and the first turn is stored.
    settings = make_settings()
    model = CountingModel(delay=1.0)
    clients = [client_for(redis_url), client_for(redis_url)]
    stores = [FlakyRenewals(client, settings.redis_prefix, settings.history_ttl,
                            settings.history_max_messages, lock_ms=300) for client in clients]
    stores[1].failed = 1  # the waiting process renews normally
    stored = await two_processes_race(stores, clients, model, settings)
    assert stores[0].failed == 1
    assert model.peak == 1
    assert stored == ["first", "second"]

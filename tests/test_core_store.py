"""The core on a real Redis: isolation, order, rate limits, TTLs, caps, idempotency, erasure."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from core.connect import client_for
from core.erasure import INDEX_MARGIN_S
from core.errors import DuplicateTurn, RateLimited
from core.keys import SessionKey, Speaker, UserKey
from core.redis_store import RedisStore
from core.service import ChatService, Turn
from core.settings import CoreSettings
from tests.fakes.models import CountingModel
from tests.fakes.redis_proxy import DroppingProxy
from tests.store_checks import two_processes_race


def person(name: str, platform: str = "slack") -> Speaker:
    return Speaker(UserKey.of(platform, "T1", name), name, platform)


async def make_service(redis: Redis, settings: CoreSettings,
                       model: CountingModel | None = None) -> ChatService:
    store = RedisStore(redis, settings.redis_prefix, settings.history_ttl,
                       settings.history_max_messages)
    await store.scripts.load(redis)
    return ChatService(store, model or CountingModel(), settings)


async def keys_of(redis: Redis, prefix: str) -> list[str]:
    return [k async for k in redis.scan_iter(match=f"{prefix}*", count=1000)]


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(plan=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3)), min_size=5, max_size=40))
async def test_no_message_crosses_conversations(
        redis: Redis, make_settings: Callable[..., CoreSettings], plan: list[tuple[int, int]]
) -> None:
    # Many users and sessions at once: every stored message belongs to its own conversation.
    own_prefix = f"sbtest:{id(plan)}:"
    service = await make_service(redis, make_settings(SWITCHBOARD_REDIS_PREFIX=own_prefix))
    speakers = [person(f"U{i}") for i in range(6)]
    sessions = [[SessionKey.thread("slack", "T1", "C1", f"{u}.{s}") for s in range(4)]
                for u in range(6)]
    sent = [(u, s, f"msg-{n}-from-U{u}-in-{s}") for n, (u, s) in enumerate(plan)]
    try:
        await asyncio.gather(*(service.reply(Turn(sessions[u][s], speakers[u], text))
                               for u, s, text in sent))
        for u in range(6):
            for s in range(4):
                stored = [m.text for m in await service.history(sessions[u][s], 200)]
                expected = [t for uu, ss, t in sent if (uu, ss) == (u, s)]
                assert sorted(stored[::2]) == sorted(expected)
                assert all(f"“{t}”" in reply for t, reply in zip(stored[::2], stored[1::2],
                                                                 strict=True))
    finally:
        keys = await keys_of(redis, own_prefix)
        if keys:
            await redis.delete(*keys)


async def test_messages_of_one_conversation_answer_in_order(service: ChatService) -> None:
    ana = person("ana")
    session = SessionKey.direct(ana.user)
    texts = [f"message {i}" for i in range(8)]
    await asyncio.gather(*(service.reply(Turn(session, ana, t)) for t in texts))
    assert [m.text for m in await service.history(session)][::2] == texts


async def test_two_processes_never_answer_one_conversation_at_once(
        redis_url: str, redis: Redis, make_settings: Callable[..., CoreSettings]) -> None:
    # Two services with their own clients and queues stand for two bot processes.
    settings = make_settings()
    model = CountingModel(delay=0.05)
    clients = [client_for(redis_url), client_for(redis_url)]
    services = [await make_service(c, settings, model) for c in clients]
    ana = person("ana")
    session = SessionKey.direct(ana.user)
    try:
        await asyncio.gather(*(services[i % 2].reply(Turn(session, ana, f"m{i}"))
                               for i in range(6)))
    finally:
        for client in clients:
            await client.aclose()
    assert model.peak == 1
    history = await services[0].history(session)
    assert len(history) == 12
    assert all(f"“{h.text}”" in a.text for h, a in zip(history[::2], history[1::2], strict=True))


async def test_rate_limited_message_never_reaches_model_or_history(
        redis: Redis, make_settings: Callable[..., CoreSettings]) -> None:
    model = CountingModel()
    service = await make_service(redis, make_settings(SWITCHBOARD_RATE_LIMIT="2/minute"), model)
    ana = person("ana")
    session = SessionKey.direct(ana.user)
    await service.reply(Turn(session, ana, "one"))
    await service.reply(Turn(session, ana, "two"))
    with pytest.raises(RateLimited) as caught:
        await service.reply(Turn(session, ana, "three"))
    assert 20 < caught.value.retry_after <= 30
    assert "Try again in" in caught.value.user_message
    assert model.calls == 2
    assert [m.text for m in await service.history(session)][::2] == ["one", "two"]
    # The limit is per user, across all their conversations; other users are unaffected.
    with pytest.raises(RateLimited):
        await service.reply(Turn(SessionKey.thread("slack", "T1", "C1", "9.9"), ana, "four"))
    bob = person("bob")
    await service.reply(Turn(SessionKey.direct(bob.user), bob, "hi"))


async def test_every_key_has_a_ttl(service: ChatService, redis: Redis, prefix: str) -> None:
    ana = person("ana")
    await service.reply(Turn(SessionKey.direct(ana.user), ana, "hello"))
    await service.reply(Turn(SessionKey.thread("slack", "T1", "C1", "1.2"), ana, "hello"))
    keys = await keys_of(redis, prefix)
    # 2 x (history, meta, turn ids) + the thread's authors + rate + counted turn ids + user
    # index and erase epoch (which outlive the conversations by a margin); locks released
    assert len(keys) == 11
    ttls = [await redis.ttl(k) for k in keys]
    assert all(0 < t <= 7 * 86400 + INDEX_MARGIN_S for t in ttls), dict(
        zip(keys, ttls, strict=True))


async def test_history_is_capped(redis: Redis, make_settings: Callable[..., CoreSettings]) -> None:
    service = await make_service(redis, make_settings(SWITCHBOARD_HISTORY_MAX_MESSAGES="10"))
    ana = person("ana")
    session = SessionKey.direct(ana.user)
    for i in range(8):
        await service.reply(Turn(session, ana, f"m{i}"))
    history = await service.history(session, 100)
    assert len(history) == 10
    assert history[0].text == "m3"


async def test_old_turns_fold_into_a_rolling_summary(
        redis: Redis, make_settings: Callable[..., CoreSettings]) -> None:
    service = await make_service(redis, make_settings(SWITCHBOARD_CONTEXT_TOKENS="300"))
    ana = person("ana")
    session = SessionKey.direct(ana.user)
    await service.reply(Turn(session, ana, "my cat is called Pixel"))
    for i in range(6):
        await service.reply(Turn(session, ana, f"filler message number {i} " + "x" * 150))
    loaded = await service.store.open_turn(session, ana.user, "peek", service.settings.rate_limit,
                                           40)
    await service.store.release(session, loaded.lock_token)
    assert "Pixel" in loaded.summary
    assert loaded.summarized >= 2
    reply = await service.reply(Turn(session, ana, "what is my cat called?"))
    assert "summary" in reply


async def test_turn_id_is_stored_once(service: ChatService) -> None:
    ana = person("ana")
    session = SessionKey.direct(ana.user)
    await service.reply(Turn(session, ana, "hello", turn_id="evt-1"))
    with pytest.raises(DuplicateTurn):
        await service.reply(Turn(session, ana, "hello", turn_id="evt-1"))
    assert len(await service.history(session)) == 2


async def test_write_retried_after_lost_reply_is_stored_once(
        redis: Redis, make_settings: Callable[..., CoreSettings]) -> None:
    proxy = DroppingProxy("127.0.0.1", 6379)
    settings = make_settings()
    await proxy.start()
    client = client_for(f"redis://127.0.0.1:{proxy.port}/0")
    try:
        service = await make_service(client, settings)
        proxy.needle = service.store.scripts.sha["COMMIT"].encode()  # type: ignore[attr-defined]
        ana = person("ana")
        session = SessionKey.direct(ana.user)
        await service.reply(Turn(session, ana, "only once please"))
        assert proxy.hits == 2  # the commit was sent, its reply lost, and sent again
        history = await service.history(session)
        assert [m.role for m in history] == ["human", "ai"]
        assert history[0].text == "only once please"
    finally:
        await client.aclose()
        await proxy.stop()


async def test_erase_user_everywhere_keeps_others(service: ChatService, redis: Redis,
                                                  prefix: str) -> None:
    ana, bob = person("ana"), person("bob")
    thread = SessionKey.thread("slack", "T1", "C1", "5.5")
    await service.reply(Turn(SessionKey.direct(ana.user), ana, "ana private"))
    await service.reply(Turn(thread, ana, "ana in thread"))
    await service.reply(Turn(thread, bob, "bob in thread"))
    await service.reply(Turn(SessionKey.direct(bob.user), bob, "bob private"))
    assert await service.forget(ana.user) == 2
    remaining = await keys_of(redis, prefix)
    assert not [k for k in remaining if "ana" in k]
    assert [m.text for m in await service.history(thread)][::2] == ["bob in thread"]
    assert len(await service.history(SessionKey.direct(bob.user))) == 2
    assert await service.history(SessionKey.direct(ana.user)) == []


async def test_reset_forgets_one_conversation(service: ChatService) -> None:
    ana = person("ana")
    session = SessionKey.direct(ana.user)
    await service.reply(Turn(session, ana, "hello"))
    await service.reset(session, ana.user)
    assert await service.history(session) == []
    reply = await service.reply(Turn(session, ana, "again"))
    assert "first message" in reply


async def test_sessions_lists_the_users_conversations(service: ChatService) -> None:
    ana = person("ana")
    await service.reply(Turn(SessionKey.direct(ana.user), ana, "first title"))
    await service.reply(Turn(SessionKey.thread("slack", "T1", "C1", "7.7"), ana, "second"))
    listed = await service.sessions(ana.user)
    assert {s.title for s in listed} == {"first title", "second"}
    assert all(s.messages == 2 for s in listed)


async def test_erase_after_meta_expired_leaves_no_key_without_ttl(
        service: ChatService, redis: Redis, prefix: str) -> None:
    ana, bob = person("ana"), person("bob")
    thread = SessionKey.thread("slack", "T1", "C1", "6.6")
    await service.reply(Turn(thread, ana, "ana here"))
    await service.reply(Turn(thread, bob, "bob here"))
    await redis.delete(f"{prefix}{{s:{thread}}}:m")  # as if only the meta hash had expired
    await service.forget(ana.user)
    assert all([await redis.ttl(k) > 0 for k in await keys_of(redis, prefix)])


async def test_redelivery_after_reset_is_still_answered_once(service: ChatService) -> None:
    ana = person("ana")
    session = SessionKey.direct(ana.user)
    await service.reply(Turn(session, ana, "hello", turn_id="evt-9"))
    await service.reset(session, ana.user)
    with pytest.raises(DuplicateTurn):
        await service.reply(Turn(session, ana, "hello", turn_id="evt-9"))


def test_prompt_fast_path_equals_trim_messages() -> None:
    # When everything fits, the prompt is exactly what trim_messages would have returned.
    from langchain_core.messages.utils import count_tokens_approximately, trim_messages

    from core import context
    from core.messages import StoredMessage
    from core.store import Loaded

    ana = person("ana")
    for n, budget in ((0, 3000), (6, 3000), (6, 300), (30, 3000), (30, 900)):
        stored = [StoredMessage("human" if i % 2 == 0 else "ai", f"m{i} " + "w" * (i * 7), i,
                                "ana" if i % 2 == 0 else "") for i in range(n)]
        loaded = Loaded(stored, n, "", 0, "t")
        current = StoredMessage("human", "now", n, "ana")
        built = context.build("sys", ana, loaded, current, budget).messages
        reference = trim_messages(
            [built[0], *(m.to_langchain() for m in stored), current.to_langchain()],
            max_tokens=budget, token_counter=count_tokens_approximately, strategy="last",
            start_on="human", include_system=True)
        assert built == reference, (n, budget)


async def test_lock_is_renewed_while_a_long_reply_runs(
        redis_url: str, redis: Redis, make_settings: Callable[..., CoreSettings]) -> None:
    # The lock lives 0.3 s but a reply takes 1 s: renewal keeps the other process waiting.
    settings = make_settings()
    model = CountingModel(delay=1.0)
    clients = [client_for(redis_url), client_for(redis_url)]
    stores = [RedisStore(client, settings.redis_prefix, settings.history_ttl,
                         settings.history_max_messages, lock_ms=300) for client in clients]
    stored = await two_processes_race(stores, clients, model, settings)
    assert model.peak == 1
    assert stored == ["first", "second"]


async def test_drain_waits_for_turns_in_flight(
        redis: Redis, make_settings: Callable[..., CoreSettings]) -> None:
    service = await make_service(redis, make_settings(), CountingModel(delay=0.3))
    ana = person("ana")
    assert await service.drain(0.01)
    running = asyncio.create_task(service.reply(Turn(SessionKey.direct(ana.user), ana, "hi")))
    await asyncio.sleep(0.05)
    assert not await service.drain(0.05)
    assert await service.drain(2)
    assert running.done()


async def test_different_conversations_run_concurrently(
        redis: Redis, make_settings: Callable[..., CoreSettings]) -> None:
    model = CountingModel(delay=0.4)
    service = await make_service(redis, make_settings(), model)
    people = [person(f"p{i}") for i in range(6)]
    started = asyncio.get_running_loop().time()
    await asyncio.gather(*(service.reply(Turn(SessionKey.direct(p.user), p, "hi"))
                           for p in people))
    assert asyncio.get_running_loop().time() - started < 1.2  # not 6 x 0.4 s one after another


async def test_cancelled_requests_never_leak_another_conversation(
        redis_url: str, redis: Redis, make_settings: Callable[..., CoreSettings]) -> None:
    # CVE-2023-28858/28859 (the ChatGPT incident of March 2023): a command cancelled mid-flight
    # left its reply on a pooled connection, and the next caller read someone else's data.
    settings = make_settings()
    client = client_for(redis_url, max_connections=3)
    service = await make_service(client, settings)
    people = [person(f"u{i}") for i in range(12)]
    try:
        for p in people:
            await service.reply(Turn(SessionKey.direct(p.user), p, f"secret of {p.display_name}"))
        cancelled = 0
        for round_ in range(6):
            reads = [asyncio.wait_for(service.history(SessionKey.direct(p.user)),
                                      timeout=0.0002 * (i % 4)) for i, p in enumerate(people)]
            results = await asyncio.gather(*reads, return_exceptions=True)
            cancelled += sum(isinstance(r, TimeoutError) for r in results)
            for p in people:
                history = await service.history(SessionKey.direct(p.user))
                assert history[0].text == f"secret of {p.display_name}", round_
        assert cancelled > 18  # 18 had no time at all; the rest were cut off midway
    finally:
        await client.aclose()


async def test_info_lists_one_conversation(service: ChatService) -> None:
    ana = person("ana")
    session = SessionKey.direct(ana.user)
    assert await service.info(session) is None
    await service.reply(Turn(session, ana, "hello there"))
    info = await service.info(session)
    assert info is not None and info.messages == 2 and info.title == "hello there"

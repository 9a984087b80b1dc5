"""The store behaviour every Redis topology must keep; test_cluster and test_sentinel run it."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from redis import Redis as SyncRedis

from bots.wiring import open_core
from core.durability import replicas_to_wait
from core.erasure import INDEX_MARGIN_S
from core.errors import DuplicateTurn, ErasedMeanwhile, RateLimited, StoreUnavailable
from core.keys import SessionKey, Speaker, UserKey
from core.offline import OfflineChatModel
from core.redis_modes import AnyRedis, Mode, build_client, following
from core.redis_store import RedisStore
from core.service import ChatService, Turn
from core.settings import CoreSettings
from tests.fakes.models import CountingModel, GatedModel


def person(name: str) -> Speaker:
    return Speaker(UserKey.of("slack", "T1", name), name, "slack")


class Env:
    """One test's view of a topology: its own key prefix, services and clients (closed after)."""

    def __init__(self, url: str, mode: Mode, data_ports: Callable[[], Iterable[int]]) -> None:
        self.url, self.mode, self.data_ports = url, mode, data_ports
        self.prefix = f"sbtest:{uuid.uuid4().hex[:10]}:"
        self.clients: list[AnyRedis] = []
        self.stack = contextlib.AsyncExitStack()

    def settings(self, **overrides: Any) -> CoreSettings:
        values = {"REDIS_URL": self.url, "SWITCHBOARD_REDIS_PREFIX": self.prefix,
                  "SWITCHBOARD_RATE_LIMIT": "1000/second", **overrides}
        return CoreSettings(_env_file=None, **values)

    async def client(self) -> AnyRedis:
        """A client as `open_redis` makes it (a Sentinel one follows the primary)."""
        client = build_client(self.url, self.mode)
        self.clients.append(client)
        self.stack.push_async_callback(client.aclose)
        await self.stack.enter_async_context(following(client))
        return client

    async def service(self, model: OfflineChatModel | None = None,
                      **overrides: Any) -> ChatService:
        settings, client = self.settings(**overrides), await self.client()
        replicas = await replicas_to_wait(client, settings.redis_wait_replicas)
        store = RedisStore(client, self.prefix, settings.history_ttl,
                           settings.history_max_messages, replicas=replicas)
        await store.scripts.load(client)
        return ChatService(store, model or CountingModel(), settings)

    def stored(self) -> dict[str, int]:
        """Every key under this prefix on every data node, with its TTL."""
        found: dict[str, int] = {}
        for port in self.data_ports():
            with SyncRedis(port=port, decode_responses=True, socket_timeout=5) as node:
                for key in node.scan_iter(match=f"{self.prefix}*", count=1000):
                    found[key] = int(node.ttl(key))
        return found

    async def aclose(self) -> None:
        async with asyncio.timeout(10):  # a hung close fails the test instead of the run
            await self.stack.aclose()


async def check_switchboard_chat_remembers(env: Env) -> None:
    # What `switchboard chat` does: open_core from REDIS_URL alone, then two turns.
    ana = person("ana")
    session = SessionKey.direct(ana.user)
    for text in ("my name is Ana", "who am I?"):
        async with open_core(env.settings()) as service:
            reply = await service.reply(Turn(session, ana, text))
    assert "I remember 1 earlier message" in reply and "my name is Ana" in reply


async def check_conversations_isolated(env: Env) -> None:
    service = await env.service()
    people = [person(f"u{i}") for i in range(5)]
    sessions = {p.display_name: [SessionKey.direct(p.user),
                                 SessionKey.thread("slack", "T1", "C1", f"{p.display_name}.1")]
                for p in people}
    sent = [(p, s, f"{p.display_name}-{i}-{n}") for p in people
            for i, s in enumerate(sessions[p.display_name]) for n in range(3)]
    await asyncio.gather(*(service.reply(Turn(s, p, text)) for p, s, text in sent))
    for p in people:
        for s in sessions[p.display_name]:
            history = await service.history(s, 100)
            assert [m.text for m in history[::2]] == [t for pp, ss, t in sent if ss == s]
            assert all(f"“{h.text}”" in a.text for h, a in zip(history[::2], history[1::2],
                                                                strict=True))
        assert len(await service.sessions(p.user)) == 2  # the index fans out over slots


async def check_rate_limit_exact(env: Env) -> None:
    model = CountingModel(delay=0.02)
    service = await env.service(model, SWITCHBOARD_RATE_LIMIT="5/minute")
    ana = person("ana")
    session = SessionKey.direct(ana.user)
    results = await asyncio.gather(*(service.reply(Turn(session, ana, f"m{i}"))
                                     for i in range(40)), return_exceptions=True)
    answered = [r for r in results if isinstance(r, str)]
    limited = [r for r in results if isinstance(r, RateLimited)]
    assert (len(answered), len(limited), model.calls) == (5, 35, 5)
    assert len(await service.history(session, 100)) == 10


async def check_turn_answered_once(env: Env) -> None:
    service = await env.service()
    ana = person("ana")
    session = SessionKey.direct(ana.user)
    await service.reply(Turn(session, ana, "hello", turn_id="evt-1"))
    with pytest.raises(DuplicateTurn):
        await service.reply(Turn(session, ana, "hello", turn_id="evt-1"))
    assert len(await service.history(session)) == 2


async def check_lock_orders_two_services(env: Env) -> None:
    # Two services with their own clients and queues stand for two bot processes.
    model = CountingModel(delay=0.05)
    services = [await env.service(model), await env.service(model)]
    ana = person("ana")
    session = SessionKey.direct(ana.user)
    await asyncio.gather(*(services[i % 2].reply(Turn(session, ana, f"m{i}")) for i in range(6)))
    assert model.peak == 1
    history = await services[0].history(session)
    assert len(history) == 12
    assert all(f"“{h.text}”" in a.text for h, a in zip(history[::2], history[1::2], strict=True))


async def check_erase_leaves_nothing(env: Env) -> None:
    service = await env.service()
    ana, bob = person("ana"), person("bob")
    threads = [SessionKey.thread("slack", "T1", "C1", f"{n}.5") for n in range(4)]
    for i in range(6):  # private conversations spread over slots, and shared threads
        await service.reply(Turn(SessionKey.api(ana.user, f"s{i}"), ana, f"ana private {i}"))
    for thread in threads:
        await service.reply(Turn(thread, ana, "ana in thread"))
        await service.reply(Turn(thread, bob, "bob in thread"))
    await service.reply(Turn(SessionKey.direct(bob.user), bob, "bob private"))
    assert await service.forget(ana.user) == 10
    assert not [k for k in env.stored() if "ana" in k]
    for thread in threads:
        assert [m.text for m in await service.history(thread)][::2] == ["bob in thread"]
    assert len(await service.history(SessionKey.direct(bob.user))) == 2


async def check_erase_refuses_a_turn_in_flight(env: Env) -> None:
    # The turn opened before the erase and commits after it: refused, and nothing of Ana left.
    model = GatedModel()
    service, eraser = await env.service(model), await env.service()
    ana, bob = person("ana"), person("bob")
    thread = SessionKey.thread("slack", "T1", "C1", "8.8")
    await eraser.reply(Turn(thread, bob, "bob first"))
    for session in (SessionKey.direct(ana.user), thread):
        turn = asyncio.create_task(service.reply(Turn(session, ana, "ana racing")))
        await model.started.wait()
        await eraser.forget(ana.user)
        model.release.set()
        with pytest.raises(ErasedMeanwhile):
            await turn
        model.started.clear()
        model.release.clear()
    assert not [k for k in env.stored() if "ana" in k]
    assert [m.text for m in await eraser.history(thread)][::2] == ["bob first"]


async def check_every_key_has_a_ttl(env: Env) -> None:
    service = await env.service()
    ana = person("ana")
    await service.reply(Turn(SessionKey.direct(ana.user), ana, "hello"))
    await service.reply(Turn(SessionKey.thread("slack", "T1", "C1", "1.2"), ana, "hello"))
    stored = env.stored()
    # 2 x (history, meta, turn ids) + the thread's authors + rate + counted turn ids + user
    # index and erase epoch (which outlive the conversations by a margin); locks released
    assert len(stored) == 11, stored
    assert all(0 < ttl <= 7 * 86400 + INDEX_MARGIN_S for ttl in stored.values()), stored


CHECKS = [check_switchboard_chat_remembers, check_conversations_isolated,
          check_rate_limit_exact, check_turn_answered_once, check_lock_orders_two_services,
          check_erase_leaves_nothing, check_erase_refuses_a_turn_in_flight,
          check_every_key_has_a_ttl]


async def turns_until_answered(service: ChatService, session: SessionKey, who: Speaker,
                               seconds: float) -> dict[str, object]:
    """Send turns one after another until one is answered (a failover is under way)."""
    outcomes: dict[str, object] = {}
    async with asyncio.timeout(seconds):
        while not outcomes or not isinstance(list(outcomes.values())[-1], str):
            text = f"during {len(outcomes)}"
            try:
                outcomes[text] = await service.reply(Turn(session, who, text, text))
            except StoreUnavailable as exc:
                outcomes[text] = exc
    return outcomes


async def two_processes_race(stores: list[RedisStore], clients: list[AnyRedis], model: Any,
                             settings: CoreSettings) -> list[str]:
    """Two services (as two processes, each on its own client, closed after): Ana's "first"
    to one and, while it is being answered, "second" to the other. The questions stored,
    in order."""
    services = []
    for store, client in zip(stores, clients, strict=True):
        await store.scripts.load(client)
        services.append(ChatService(store, model, settings))
    ana = person("ana")
    session = SessionKey.direct(ana.user)
    try:
        first = asyncio.create_task(services[0].reply(Turn(session, ana, "first")))
        await asyncio.sleep(0.1)
        await services[1].reply(Turn(session, ana, "second"))
        await first
        return [m.text for m in await services[0].history(session)][::2]
    finally:
        for client in clients:
            await client.aclose()

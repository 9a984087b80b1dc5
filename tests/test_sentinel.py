"""The core through Redis Sentinel: store behaviour, URL forms, and turns across a failover."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from redis import Redis as SyncRedis

from core.connect import check_reachable
from core.errors import ConfigError, DuplicateTurn, StoreUnavailable
from core.keys import SessionKey
from core.messages import StoredMessage
from core.redis_store import LOCK_MS
from core.service import ChatService, Turn
from core.settings import CoreSettings, load
from tests.fakes.models import CountingModel
from tests.servers import SERVICE, SentinelSetup, redis_sentinel, wait_for
from tests.store_checks import CHECKS, Env, person, turns_until_answered

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(scope="module")
def sentinel() -> Iterator[SentinelSetup]:
    """A primary, its replica and three sentinels (quorum 2, down after 1 s)."""
    with redis_sentinel() as running:
        yield running


@pytest.fixture
async def env(sentinel: SentinelSetup) -> AsyncIterator[Env]:
    made = Env(sentinel.url, "sentinel", lambda: [sentinel.primary_port()])
    yield made
    await made.aclose()


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
async def test_store_through_sentinel(env: Env, check: Callable[[Env], Any]) -> None:
    await check(env)


@pytest.mark.parametrize(("url", "expected"), [
    ("redis+sentinel://127.0.0.1:26379", "expected redis+sentinel://host:port"),
    ("redis+sentinel://127.0.0.1:26379/name/x", "expected redis+sentinel://host:port"),
    ("redis+sentinel://:hunter2@127.0.0.1:x/name", "sentinel address '127.0.0.1:x'"),
    ("sentinel://127.0.0.1:26379/name", "must start with redis://"),
])
def test_bad_sentinel_urls_are_one_line_config_errors(url: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(CoreSettings, _env_file=None, REDIS_URL=url)
    assert str(caught.value).startswith(f"REDIS_URL: {expected}")
    assert "hunter2" not in str(caught.value) and "\n" not in str(caught.value)


async def test_probe_finds_the_primary_and_hides_the_password(sentinel: SentinelSetup) -> None:
    assert await check_reachable(sentinel.url) == "sentinel"
    nodes = sentinel.url.split("//", 1)[1]
    with pytest.raises(ConfigError) as caught:  # no such user on the data nodes: WRONGPASS
        await check_reachable(f"redis+sentinel://ghost:hunter2@{nodes}")
    assert str(caught.value).startswith(f"REDIS_URL: no primary for '{SERVICE}' through ")
    assert "hunter2" not in str(caught.value) and ":***@" in str(caught.value)
    with pytest.raises(ConfigError):
        await check_reachable(f"redis+sentinel://127.0.0.1:{sentinel.data_ports[0]}/nope")
    with pytest.raises(ConfigError) as forced:
        await check_reachable(sentinel.url, "cluster")
    assert str(forced.value).startswith("SWITCHBOARD_REDIS_MODE: ")


async def test_turns_continue_across_a_failover(env: Env, sentinel: SentinelSetup) -> None:
    service = await env.service(CountingModel(delay=0.01))
    ana = person("ana")
    session = SessionKey.direct(ana.user)
    before = [await service.reply(Turn(session, ana, f"before {i}", f"b{i}")) for i in range(5)]
    old = sentinel.primary_port()
    with SyncRedis(port=old, socket_timeout=5) as primary:
        assert primary.wait(1, 2000) == 1  # the replica has every turn so far
    during = await _turns_while(service, session, sentinel)
    new = sentinel.primary_port()
    pool = env.clients[0].connection_pool
    async with asyncio.timeout(5):  # the service notices on its own, within FOLLOW_SECONDS
        while pool.master_address != ("127.0.0.1", new):
            await asyncio.sleep(0.05)
    # Commits wait for a replica: the old primary, once Sentinel has made it one.
    await asyncio.to_thread(wait_for, lambda: _replica_of(old, new), 40, "the old primary back")
    started = time.monotonic()
    after = [await service.reply(Turn(session, ana, f"after {i}", f"a{i}")) for i in range(5)]
    # A lock whose release the old primary took (and lost) does not stall the conversation.
    assert time.monotonic() - started < LOCK_MS / 1000 / 3
    assert "I remember 44" not in after[0] and "earlier message" in after[0]
    assert all(isinstance(o, str | StoreUnavailable) for o in during.values()), during
    for turn in [t for t, o in during.items() if isinstance(o, StoreUnavailable)]:
        # The same event again: answered now, or found already stored.
        with pytest.raises(DuplicateTurn) if await _stored(service, session, turn) else _ok():
            await service.reply(Turn(session, ana, turn, turn))
    # Read on the new primary itself: what it holds is what stays. A turn the old primary took
    # between the promotion and the service following reached no replica: its WAIT said so,
    # and it failed instead of being answered and then lost when Sentinel demoted that primary.
    texts = _texts_on(new, service, session)
    assert max(Counter(texts).values()) == 1, texts  # nothing stored twice
    answered = [t for t, o in during.items() if isinstance(o, str)]
    assert set(answered) <= set(texts), (answered, texts)  # nothing answered is lost
    assert texts[:5] == [f"before {i}" for i in range(5)] and len(before) == 5
    # Then the "after" turns, in order, and the failed turns sent again (which come last).
    assert [t for t in texts if t.startswith("after")] == [f"after {i}" for i in range(5)]
    assert set(during) <= set(texts), texts  # every turn, answered then or sent again


def _replica_of(port: int, primary: int) -> bool:
    with SyncRedis(port=port, decode_responses=True, socket_timeout=5) as node:
        info = node.info("replication")
        return bool(info["role"] == "slave" and int(info["master_port"]) == primary
                    and info["master_link_status"] == "up")


def _texts_on(port: int, service: ChatService, session: SessionKey) -> list[str]:
    """The human messages stored on the server at `port`, read without the service's client."""
    key = service.store.keys.session(str(session)).history  # type: ignore[attr-defined]
    with SyncRedis(port=port, decode_responses=True, socket_timeout=5) as node:
        return [StoredMessage.decode(raw).text for raw in node.lrange(key, 0, -1)][::2]


async def _turns_while(service: ChatService, session: SessionKey,
                       sentinel: SentinelSetup) -> dict[str, object]:
    """Send turns one after another while a sentinel fails the primary over."""
    ana, outcomes = person("ana"), dict[str, object]()
    failover = asyncio.create_task(asyncio.to_thread(sentinel.failover))
    n = 0
    while not failover.done() or n < 3:
        text = f"during {n}"
        try:
            outcomes[text] = await service.reply(Turn(session, ana, text, text))
        except StoreUnavailable as exc:
            outcomes[text] = exc
        n += 1
    await failover
    return outcomes


async def _stored(service: ChatService, session: SessionKey, text: str) -> bool:
    return text in [m.text for m in await service.history(session, 200)]


class _ok:  # reads as the other branch of `pytest.raises`
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


async def test_turns_resume_after_the_primary_is_killed(env: Env, sentinel: SentinelSetup
                                                        ) -> None:
    # Last in this module: the killed server stays down, leaving the promoted replica alone.
    service = await env.service(CountingModel())
    ana = person("bob")
    session = SessionKey.direct(ana.user)
    for i in range(3):
        await service.reply(Turn(session, ana, f"before {i}", f"kb{i}"))
    old = sentinel.primary_port()
    other = next(p for p in sentinel.data_ports if p != old)
    # After the failover test, Sentinel demotes the old primary about 10 s later.
    await asyncio.to_thread(wait_for, lambda: _replica_of(other, old), 40, "a synced replica")
    with SyncRedis(port=old, socket_timeout=5) as primary:
        assert primary.wait(1, 2000) == 1
    sentinel.servers.processes[old].kill()  # SIGKILL by pid
    # down after 1 s, then a vote and the promotion
    outcomes = await turns_until_answered(service, session, ana, 40)
    # The client may learn the promotion from another sentinel before the first one names it.
    await asyncio.to_thread(wait_for, lambda: sentinel.primary_port() != old, 10,
                            "the first sentinel naming the new primary")
    new = sentinel.primary_port()
    assert new != old and len(outcomes) > 1  # some turns failed while no primary was named
    for i in range(3):
        await service.reply(Turn(session, ana, f"after {i}", f"ka{i}"))
    texts = _texts_on(new, service, session)
    assert max(Counter(texts).values()) == 1, texts
    answered = [t for t, o in outcomes.items() if isinstance(o, str)]
    assert texts[:3] == [f"before {i}" for i in range(3)]
    assert texts[-3:] == [f"after {i}" for i in range(3)]
    # Every answered turn stays. While the lone new primary had no replica to confirm a commit
    # (its first `grace` seconds) turns failed visibly, though they may be stored: told, not lost.
    middle, sent = texts[3:-3], list(outcomes)
    assert set(answered) <= set(middle) and set(middle) <= set(sent), (middle, sent)
    assert middle == sorted(middle, key=sent.index)

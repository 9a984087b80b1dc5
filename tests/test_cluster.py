"""The core on a real 3-primary Redis Cluster: detection, store behaviour, round trips per node."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from redis import Redis as SyncRedis
from redis.asyncio.cluster import RedisCluster

from adapters.telegram.inbox import RedisInbox
from bots.wiring import open_core
from core.connect import check_reachable, open_redis
from core.errors import BudgetExceeded, ConfigError
from core.keys import SessionKey
from core.redis_modes import build_client
from core.redis_store import RedisStore
from core.service import ChatService, Turn
from tests.fakes.models import CountingModel, MeteredModel
from tests.fakes.redis_proxy import FlightProxy
from tests.servers import Cluster, redis_cluster
from tests.store_checks import CHECKS, Env, person, turns_until_answered

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """Three primaries, no replicas: the smallest real cluster (about 2 s to start)."""
    with redis_cluster(3) as running:
        yield running


@pytest.fixture
async def env(cluster: Cluster) -> AsyncIterator[Env]:
    made = Env(cluster.url, "cluster", lambda: cluster.ports)
    yield made
    await made.aclose()


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
async def test_store_on_cluster(env: Env, check: Callable[[Env], Any]) -> None:
    await check(env)


async def test_any_node_is_detected_as_a_cluster(cluster: Cluster) -> None:
    for port in cluster.ports:
        assert await check_reachable(f"redis://127.0.0.1:{port}") == "cluster"
    assert await check_reachable(cluster.url, "standalone") == "standalone"
    assert isinstance(build_client(cluster.url, "cluster"), RedisCluster)


async def test_forcing_cluster_on_a_single_server_names_the_variable(redis_url: str) -> None:
    assert await check_reachable(redis_url) == "standalone"
    with pytest.raises(ConfigError) as caught:
        await check_reachable(redis_url, "cluster")
    assert str(caught.value).startswith("SWITCHBOARD_REDIS_MODE: cluster, but ")


async def test_keys_of_a_turn_spread_over_every_node(env: Env) -> None:
    service = await env.service()
    people = [person(f"p{i}") for i in range(12)]
    for p in people:
        await service.reply(Turn(SessionKey.direct(p.user), p, "hi"))
    per_node = {port: 0 for port in env.data_ports()}
    client = env.clients[0]
    assert isinstance(client, RedisCluster)
    for key in env.stored():
        per_node[client.get_node_from_key(key).port] += 1
    assert all(count > 0 for count in per_node.values()), per_node


async def test_scripts_reload_on_a_node_that_forgot_them(env: Env, cluster: Cluster) -> None:
    service = await env.service()
    ana = person("ana")
    await service.reply(Turn(SessionKey.direct(ana.user), ana, "before"))
    client = env.clients[0]
    assert isinstance(client, RedisCluster)
    # One node forgets every script, as a replica promoted by a failover has none loaded.
    node = client.get_node_from_key(service.store.keys.session(  # type: ignore[attr-defined]
        str(SessionKey.direct(ana.user))).history)
    await client.execute_command("SCRIPT", "FLUSH", target_nodes=node)
    await service.reply(Turn(SessionKey.direct(ana.user), ana, "after"))
    assert [m.text for m in await service.history(SessionKey.direct(ana.user))][::2] == [
        "before", "after"]


async def test_round_trips_per_node(cluster: Cluster) -> None:
    # A proxy in front of every node counts request flights; the client reaches each node
    # through its proxy (address_remap), as it would through any network.
    proxies = {port: FlightProxy("127.0.0.1", port) for port in cluster.ports}
    for proxy in proxies.values():
        await proxy.start()
    env = Env(f"redis://127.0.0.1:{proxies[cluster.ports[0]].port}", "cluster",
              lambda: cluster.ports)
    client = RedisCluster.from_url(env.url, decode_responses=True, address_remap=lambda a: (
        a[0], proxies[a[1]].port) if a[1] in proxies else a)
    try:
        flights = await _flights_per_turn(env, client, proxies)
    finally:
        await client.aclose()
        for proxy in proxies.values():
            await proxy.stop()
    # Start: RATE on the user's node and OPEN on the session's, sent to both at once; finish:
    # COMMIT on the session's node and HSET+EXPIRE of the user index on the user's node.
    assert flights == {"same node": 2.0, "two nodes": 4.0}, flights


async def _flights_per_turn(env: Env, client: RedisCluster,
                            proxies: dict[int, FlightProxy]) -> dict[str, float]:
    settings = env.settings()
    store = RedisStore(client, env.prefix, settings.history_ttl, 200)
    await store.scripts.load(client)
    service = ChatService(store, CountingModel(), settings)
    out: dict[str, list[int]] = {"same node": [], "two nodes": []}
    for i in range(40):
        speaker = person(f"rt{i}")
        session = SessionKey.direct(speaker.user)
        await service.reply(Turn(session, speaker, "warm up"))  # connections to both nodes
        user_node = client.get_node_from_key(store.keys.user(str(speaker.user)).rate)
        session_node = client.get_node_from_key(store.keys.session(str(session)).history)
        before = sum(p.flights for p in proxies.values())
        await service.reply(Turn(session, speaker, "counted"))
        kind = "same node" if user_node.port == session_node.port else "two nodes"
        out[kind].append(sum(p.flights for p in proxies.values()) - before)
    return {kind: sum(v) / len(v) for kind, v in out.items() if v}


async def test_token_counts_and_platform_totals_on_the_cluster(env: Env) -> None:
    # The totals have a slot of their own: the commit's pipeline reaches that node as well.
    settings = env.settings(SWITCHBOARD_TOKEN_BUDGET="20/day")
    client = await env.client()
    store = RedisStore(client, env.prefix, settings.history_ttl, 200)
    await store.scripts.load(client)
    service = ChatService(store, MeteredModel(), settings)  # 11 tokens a call
    people = [person(f"t{i}") for i in range(6)]
    for p in people:
        await service.reply(Turn(SessionKey.direct(p.user), p, "hi"))
        await service.reply(Turn(SessionKey.api(p.user, "s"), p, "hi"))
        with pytest.raises(BudgetExceeded):
            await service.reply(Turn(SessionKey.api(p.user, "s"), p, "over"))
    totals = await service.totals()
    assert {(t.platform, t.tokens) for t in totals.day.platforms} == {
        (people[0].user.platform, 66), ("api", 66)}
    assert all(ttl > 0 for ttl in env.stored().values())


async def test_inbox_works_on_the_cluster(env: Env) -> None:
    # The Telegram inbox: a script and a MULTI on its one `{in:telegram}` slot.
    settings = env.settings()
    async with open_redis(settings) as redis:
        inbox = RedisInbox(redis, settings.redis_prefix)
        await inbox.put("u1", '{"update_id": 1}')
        await inbox.put("u1", '{"update_id": 1}')  # a second put changes nothing
        assert await inbox.pending(0) == [("u1", '{"update_id": 1}')]
        await inbox.ack("u1")
        assert await inbox.pending(0) == []
        await inbox.put("u2", "{}")
    assert all(ttl > 0 for ttl in env.stored().values())


async def test_langchain_redis_backend_is_refused_with_one_line(env: Env) -> None:
    with pytest.raises(ConfigError) as caught:
        async with open_core(env.settings(SWITCHBOARD_HISTORY_BACKEND="langchain-redis")):
            pass
    assert str(caught.value).startswith("SWITCHBOARD_HISTORY_BACKEND: langchain-redis works")


@pytest.fixture(scope="module")
def replicated() -> Iterator[Cluster]:
    """Three primaries with a replica each, for the failover test only."""
    with redis_cluster(3, replicas=1) as running:
        yield running


async def test_turns_resume_after_a_primary_is_killed(replicated: Cluster) -> None:
    env = Env(replicated.url, "cluster", lambda: replicated.ports)
    try:
        await _killed_primary(env, replicated)
    finally:
        await env.aclose()


async def _killed_primary(env: Env, cluster: Cluster) -> None:
    service = await env.service(CountingModel())
    ana = person("ana")
    session = SessionKey.direct(ana.user)
    for i in range(3):
        await service.reply(Turn(session, ana, f"before {i}", f"b{i}"))
    client = env.clients[0]
    assert isinstance(client, RedisCluster)
    victim = client.get_node_from_key(service.store.keys.session(  # type: ignore[attr-defined]
        str(session)).history).port
    with SyncRedis(port=victim, socket_timeout=5) as primary:
        assert primary.wait(1, 2000) == 1
    cluster.servers.processes[victim].kill()  # SIGKILL by pid: its replica takes over
    outcomes = await turns_until_answered(service, session, ana, 60)
    for i in range(3):  # the promoted replica had no scripts: NOSCRIPT, reload, rerun
        await service.reply(Turn(session, ana, f"after {i}", f"a{i}"))
    texts = [m.text for m in await service.history(session, 200)][::2]
    answered = [t for t, o in outcomes.items() if isinstance(o, str)]
    assert texts == [f"before {i}" for i in range(3)] + answered + [f"after {i}" for i in range(3)]


async def test_a_database_number_on_a_cluster_is_a_config_error(cluster: Cluster) -> None:
    with pytest.raises(ConfigError) as caught:
        async with open_redis(Env(f"{cluster.url}/2", "cluster", lambda: ()).settings()):
            pass
    assert str(caught.value).startswith("REDIS_URL: ") and "cluster mode" in str(caught.value)
    assert "\n" not in str(caught.value)

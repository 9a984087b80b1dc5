"""Erase leaves nothing of a person anywhere, races with turns in flight, and export: real Redis."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from adapters.telegram.inbox import RedisInbox, redacted
from core import export
from core.attachments import Upload
from core.errors import ErasedMeanwhile, ErasePending, RateLimited
from core.keys import SessionKey, Speaker, UserKey
from core.redis_store import RedisStore
from core.service import ChatService, Turn
from core.settings import CoreSettings
from tests import media
from tests.fakes.http_api import served
from tests.fakes.models import GatedModel, MeteredModel

ANA = Speaker(UserKey.of("telegram", 700123), "Anastasia", "Telegram")
BOB = Speaker(UserKey.of("telegram", 800456), "Bob", "Telegram")
THREAD = SessionKey.thread("telegram", -1009, 55)
ANA_DM = SessionKey.direct(ANA.user)


async def make(redis: Redis, settings: CoreSettings, model: MeteredModel | None = None
               ) -> ChatService:
    store = RedisStore(redis, settings.redis_prefix, settings.history_ttl,
                       settings.history_max_messages)
    await store.scripts.load(redis)
    return ChatService(store, model or MeteredModel(), settings)


async def everything(redis: Redis, prefix: str) -> dict[str, str]:
    """Every key under the test prefix with its whole value, as text."""
    found: dict[str, str] = {}
    readers: dict[str, Callable[[str], Any]] = {
        "string": redis.get, "list": lambda k: redis.lrange(k, 0, -1), "hash": redis.hgetall,
        "set": redis.smembers, "zset": lambda k: redis.zrange(k, 0, -1, withscores=True)}
    async for key in redis.scan_iter(match=f"{prefix}*", count=1000):
        found[key] = repr(await readers[str(await redis.type(key))](key))
    return found


def traces(found: dict[str, str], *needles: str) -> list[str]:
    return [f"{k} = {v[:200]}" for k, v in found.items()
            if any(n in k or n in v for n in needles)]


def update(update_id: int, sender: Speaker, text: str, **extra: Any) -> str:
    uid = int(sender.user.parts[0])
    message = {"message_id": update_id, "date": 1, "text": text,
               "chat": {"id": -1009, "type": "supergroup", "title": "g"},
               "from": {"id": uid, "is_bot": False, "first_name": sender.display_name}, **extra}
    return json.dumps({"update_id": update_id, "message": message})


async def test_forget_leaves_no_trace_in_the_whole_keyspace(
        redis: Redis, prefix: str, make_settings: Callable[..., CoreSettings]) -> None:
    service = await make(redis, make_settings())
    inbox = RedisInbox(redis, prefix)
    service.add_eraser(inbox.erase_user)
    await service.reply(Turn(ANA_DM, ANA, "ana-private-words"))
    await service.reply(Turn(ANA_DM, ANA, "ana-picture", uploads=(Upload("a.png", media.png()),)))
    await service.reply(Turn(THREAD, ANA, "ana-thread-words"))
    await service.reply(Turn(THREAD, BOB, "bob-thread-words"))
    await service.reply(Turn(SessionKey.direct(BOB.user), BOB, "bob-private-words"))
    ana_said = update(1, ANA, "ana-pending-words")
    quoting = update(2, BOB, "bob-pending-words",
                     reply_to_message=json.loads(update(3, ANA, "ana-quoted-words"))["message"])
    await inbox.put("1", ana_said)
    await inbox.put("2", quoting)
    before = await everything(redis, prefix)
    assert traces(before, "700123", "ana-") and (await service.usage(ANA.user)).day.tokens

    assert await service.forget(ANA.user) == 2
    after = await everything(redis, prefix)
    assert traces(after, "700123", "ana-", "Anastasia") == []
    assert [m.text for m in await service.history(THREAD)][::2] == ["bob-thread-words"]
    assert len(await service.history(SessionKey.direct(BOB.user))) == 2
    assert (await service.usage(BOB.user)).day.tokens > 0
    pending = dict(await inbox.pending(0))
    assert list(pending) == ["2"] and "bob-pending-words" in pending["2"]


async def test_erase_between_open_and_commit_refuses_the_turn(
        redis: Redis, prefix: str, make_settings: Callable[..., CoreSettings]) -> None:
    model = GatedModel()
    service = await make(redis, make_settings(), model)
    eraser = await make(redis, make_settings())
    model.release.set()
    await service.reply(Turn(THREAD, BOB, "bob-before"))
    model.release.clear()
    model.started.clear()
    for session in (ANA_DM, THREAD):
        turn = asyncio.create_task(service.reply(Turn(session, ANA, f"ana-racing-{session}")))
        await model.started.wait()  # open done, the model is answering
        await eraser.forget(ANA.user)  # another process erases meanwhile
        model.release.set()
        with pytest.raises(ErasedMeanwhile) as caught:
            await turn
        assert "erased while I was answering" in caught.value.user_message
        model.release.clear()
        model.started.clear()
    assert traces(await everything(redis, prefix), "700123", "ana-", "Anastasia") == []
    assert [m.text for m in await service.history(THREAD)][::2] == ["bob-before"]
    # Ana starts afresh afterwards.
    model.release.set()
    await service.reply(Turn(ANA_DM, ANA, "ana-again"))
    assert [m.text for m in await service.history(ANA_DM)][::2] == ["ana-again"]


async def test_a_lock_taken_after_the_erase_is_undone_by_the_epoch(
        redis: Redis, prefix: str, make_settings: Callable[..., CoreSettings]) -> None:
    # On a Cluster the open's two halves may land on either side of an erase: the session's
    # lock after it. Then COMMIT may write, and REGISTER, seeing the epoch changed, undoes it.
    model = GatedModel()
    service = await make(redis, make_settings(), model)
    store = service.store
    assert isinstance(store, RedisStore)
    turn = asyncio.create_task(service.reply(Turn(ANA_DM, ANA, "ana-late")))
    await model.started.wait()
    token = str(await redis.get(store.keys.session(str(ANA_DM)).lock))
    await service.forget(ANA.user)
    await redis.set(store.keys.session(str(ANA_DM)).lock, token, px=30_000)
    model.release.set()
    with pytest.raises(ErasedMeanwhile):
        await turn
    assert traces(await everything(redis, prefix), "700123", "ana-") == []


async def test_no_turn_while_an_erase_runs(
        redis: Redis, prefix: str, make_settings: Callable[..., CoreSettings]) -> None:
    service = await make(redis, make_settings())
    store = service.store
    assert isinstance(store, RedisStore)
    await redis.set(store.keys.user(str(ANA.user)).epoch, "erasing", ex=60)  # cut short
    with pytest.raises(ErasePending):
        await service.reply(Turn(ANA_DM, ANA, "ana-during"))
    assert await service.history(ANA_DM) == []
    assert not await redis.exists(store.keys.session(str(ANA_DM)).lock)
    await service.forget(ANA.user)  # the retried erase clears the mark
    await service.reply(Turn(ANA_DM, ANA, "ana-after"))


async def test_a_shared_thread_keeps_its_authors_index_alive(
        redis: Redis, make_settings: Callable[..., CoreSettings]) -> None:
    service = await make(redis, make_settings())
    store = service.store
    assert isinstance(store, RedisStore)
    index = store.keys.user(str(ANA.user)).index
    history = store.keys.session(str(THREAD)).history
    await service.reply(Turn(THREAD, ANA, "ana-early"))
    await redis.expire(index, 5)  # as if Ana had been silent for almost the whole TTL
    await service.reply(Turn(THREAD, BOB, "bob-later"))  # Bob keeps the thread alive
    assert await redis.ttl(index) >= await redis.ttl(history) > 5
    # Choosing a preset or regenerating never extends a conversation past its authors' index.
    await redis.expire(history, 100)
    await redis.expire(store.keys.session(str(THREAD)).meta, 100)
    await service.choose(THREAD, model="default")
    assert await redis.ttl(store.keys.session(str(THREAD)).meta) <= 100
    assert [m.text for m in await service.history(THREAD)][::2] == ["ana-early", "bob-later"]
    assert await service.forget(ANA.user) == 1
    assert [m.text for m in await service.history(THREAD)][::2] == ["bob-later"]


REDACTIONS = [  # (payload, expected): None = removed, "same" = untouched
    (update(1, ANA, "mine"), None),
    (update(2, BOB, "his"), "same"),
    (update(3, BOB, "reply", reply_to_message=json.loads(update(4, ANA, "q"))["message"]),
     json.loads(update(3, BOB, "reply"))),
    (json.dumps({"update_id": 5, "callback_query": {"id": "x", "data": "d", "chat_instance": "c",
                                                    "from": {"id": 700123, "is_bot": False,
                                                             "first_name": "A"}}}), None),
    ("not json", "same"),
]


@pytest.mark.parametrize(("payload", "expected"), REDACTIONS)
def test_inbox_redaction(payload: str, expected: Any) -> None:
    got = redacted(payload, 700123)
    if expected is None or expected == "same":
        assert got == (payload if expected else None)
    else:
        assert got is not None and json.loads(got) == expected


async def test_export_holds_every_message_the_person_wrote(
        redis: Redis, make_settings: Callable[..., CoreSettings]) -> None:
    service = await make(redis, make_settings())
    written = []
    for i in range(3):
        written.append(f"ana-dm-{i} “quoted” ünïcode")
        await service.reply(Turn(ANA_DM, ANA, written[-1]))
    await service.reply(Turn(THREAD, BOB, "bob-first"))
    written.append("ana-in-thread")
    await service.reply(Turn(THREAD, ANA, written[-1]))
    written.append("ana-picture")
    await service.reply(Turn(ANA_DM, ANA, written[-1], uploads=(Upload("a.png", media.png()),)))
    parts = [part async for part in service.export(ANA.user)]
    document = json.loads(b"".join(parts))
    assert (document["format"], document["version"]) == ("switchboard-export", 1)
    assert document["user"] == str(ANA.user)
    said = [m["text"] for c in document["conversations"] for m in c["messages"]
            if m["role"] == "human"]
    assert sorted(said) == sorted(written)
    thread = next(c for c in document["conversations"] if c["id"] == str(THREAD))
    assert thread["title"] == "" and "bob-first" not in json.dumps(thread)
    assert [m["role"] for m in thread["messages"]] == ["human", "ai"]
    dm = next(c for c in document["conversations"] if c["id"] == str(ANA_DM))
    assert dm["title"] == written[0] and len(dm["messages"]) == 8
    image = dm["messages"][6]["images"][0]
    assert image["mime"] == "image/jpeg" and base64.b64decode(image["base64"])  # re-encoded
    file = await service.export_file(ANA.user)
    assert file.name.startswith("switchboard-export-") and json.loads(file.data) == {
        **document, "exported_at": json.loads(file.data)["exported_at"]}


async def test_a_large_history_streams_in_bounded_chunks(
        redis: Redis, make_settings: Callable[..., CoreSettings]) -> None:
    service = await make(redis, make_settings(SWITCHBOARD_MAX_INPUT_CHARS="8000"))
    long_text = "x" * 3000
    for n in range(6):
        session = SessionKey.api(ANA.user, f"s{n}")
        for i in range(12):
            await service.reply(Turn(session, ANA, f"{n}-{i} {long_text}"))
    parts = [part async for part in service.export(ANA.user)]
    document = json.loads(b"".join(parts))
    assert sum(len(c["messages"]) for c in document["conversations"]) == 6 * 12 * 2
    assert sum(map(len, parts)) > 3 * export.CHUNK and len(parts) >= 3
    assert max(len(p) for p in parts) < export.CHUNK + 10_000  # one message more at most


async def test_http_export_is_a_json_attachment(service: ChatService) -> None:
    async with served(service) as api:
        await api.post("/v1/chat", json={"message": "ana-over-http"})
        async with api.stream("GET", "/v1/me/export") as response:
            body = b"".join([chunk async for chunk in response.aiter_bytes()])
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.headers["content-disposition"].startswith(
            'attachment; filename="switchboard-export-')
        document = json.loads(body)
        assert document["conversations"][0]["messages"][0]["text"] == "ana-over-http"
        stranger = {"Authorization": "Bearer not-a-token"}
        assert (await api.get("/v1/me/export", headers=stranger)).status_code == 401


async def test_http_export_answers_503_when_the_store_is_down(
        make_settings: Callable[..., CoreSettings]) -> None:
    down = Redis.from_url("redis://127.0.0.1:1/0", decode_responses=True,
                          retry=Retry(NoBackoff(), 0))
    store = RedisStore(down, "sbtest:down:", 60, 10)
    service = ChatService(store, MeteredModel(), make_settings())
    try:
        async with served(service) as api:
            response = await api.get("/v1/me/export")
        assert response.status_code == 503, response.text
    finally:
        await down.aclose()


async def test_forget_counts_only_conversations_that_held_something(
        redis: Redis, make_settings: Callable[..., CoreSettings]) -> None:
    service = await make(redis, make_settings(SWITCHBOARD_RATE_LIMIT="1/minute"))
    await service.reply(Turn(ANA_DM, ANA, "ana-once"))
    with pytest.raises(RateLimited):  # opened (and listed in her index) but never stored
        await service.reply(Turn(THREAD, ANA, "ana-refused"))
    await service.reply(Turn(THREAD, BOB, "bob-here"))
    assert await service.forget(ANA.user) == 1
    assert [m.text for m in await service.history(THREAD)][::2] == ["bob-here"]

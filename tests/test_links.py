"""One person across platforms: link codes, shared limits, budget and DMs, unlink and forget."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from redis.asyncio import Redis

from core.errors import (
    BudgetExceeded,
    CodeExpired,
    LinkLocked,
    NotLinked,
    OwnCode,
    RateLimited,
    TooManyCodes,
    WrongCode,
)
from core.identities import where
from core.keys import LinkCheck, Scope, SessionKey, Speaker, UserKey, person_dm, person_key
from core.link_codes import ALPHABET, CODE_LENGTH, new_code, normalize
from core.links import Links, movers
from core.offline import OfflineChatModel
from core.redis_store import RedisStore
from core.service import ChatService, Turn
from core.settings import CoreSettings
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.redis_proxy import FlightProxy

TG = Speaker(UserKey.of("telegram", 42), "Ana", "Telegram")
SL = Speaker(UserKey.of("slack", "T1", "U7"), "Ana", "Slack")
EVE = Speaker(UserKey.of("discord", 666), "Eve", "Discord")
Make = Callable[..., Awaitable[ChatService]]


def _at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@pytest.fixture
def make(redis: Redis, make_settings: Callable[..., CoreSettings]) -> Make:
    async def build(client: Redis | None = None, **overrides: Any) -> ChatService:
        settings = make_settings(**overrides)
        store = RedisStore(client or redis, settings.redis_prefix, settings.history_ttl,
                           settings.history_max_messages, clock=lambda: now[0])
        await store.scripts.load(client or redis)
        return ChatService(store, OfflineChatModel(), settings)
    now = [_at("2099-06-01T12:00:00")]
    build.now = now  # type: ignore[attr-defined]
    return build


async def _linked(service: ChatService) -> None:
    code = await service.link_code(TG.user)
    person = await service.link(SL.user, code.code)
    assert set(person.identities) == {TG.user, SL.user}


def test_codes_are_eight_unambiguous_characters_and_typing_is_forgiven() -> None:
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200 and all(len(c) == CODE_LENGTH and set(c) <= set(ALPHABET)
                                     for c in codes)
    for typed, clean in (("abcd-efgh", "ABCDEFGH"), (" ABCD EFGH ", "ABCDEFGH"),
                         ("ABCDEFG", None), ("ABCDEFG0", None), ("ABCDEFGHJ", None), ("", None)):
        assert normalize(typed) == clean


@pytest.mark.parametrize(("here", "there", "moved"), [
    ("", "", [("", "maker"), ("", "redeemer")]),  # two loners: both join a new person
    ("p1", "", [("", "redeemer")]),  # the redeemer joins the maker's person
    ("", "p2", [("", "maker")]),  # the maker joins the redeemer's person
    ("p1", "p2", [("p2", "redeemer")]),  # two persons: the redeemer's moves over whole
])
def test_who_moves_when_linking(here: str, there: str, moved: list[tuple[str, str]]) -> None:
    names = {TG.user: "maker", SL.user: "redeemer"}
    assert [(p, names[u]) for p, u in movers(here, there, TG.user, SL.user)] == moved


@pytest.mark.parametrize(("session", "person", "shared", "stored", "payer"), [
    (SessionKey.direct(TG.user), "", True, SessionKey.direct(TG.user), TG.user),
    (SessionKey.direct(TG.user), "p1", False, SessionKey.direct(TG.user), person_key("p1")),
    (SessionKey.direct(TG.user), "p1", True, person_dm("p1"), person_key("p1")),
    (SessionKey.thread("telegram", -5, 9), "p1", True, SessionKey.thread("telegram", -5, 9),
     person_key("p1")),  # groups and threads stay where they are
    (SessionKey.channel_member("telegram", -5, user=TG.user), "p1", True,
     SessionKey.channel_member("telegram", -5, user=TG.user), person_key("p1")),
    (SessionKey.direct(SL.user), "p1", True, SessionKey.direct(SL.user), person_key("p1")),
])
def test_where_a_turn_is_kept(session: SessionKey, person: str, shared: bool,
                              stored: SessionKey, payer: UserKey) -> None:
    assert where(session, TG.user, person, shared=shared) == \
        where(session, TG.user, person, shared=shared)
    got = where(session, TG.user, person, shared=shared)
    assert (got.session, got.payer, got.check) == (stored, payer, LinkCheck(TG.user, person))
    assert got.session.scope in {Scope.DIRECT, Scope.THREAD, Scope.CHANNEL_MEMBER}


async def test_a_telegram_code_redeemed_on_slack_joins_them(make: Make) -> None:
    service = await make()
    assert (await service.whoami(TG.user)).identities == (TG.user,)
    code = await service.link_code(TG.user)
    assert code.expires_at == datetime(2099, 6, 1, 12, 10, tzinfo=UTC)
    await _linked(service)
    assert set((await service.whoami(SL.user)).identities) == {TG.user, SL.user}
    assert (await service.whoami(EVE.user)).identities == (EVE.user,)
    with pytest.raises(WrongCode):  # single use: the same code again is just wrong
        await service.link(EVE.user, code.code)
    assert (await service.whoami(EVE.user)).identities == (EVE.user,)


async def test_own_expired_and_replaced_codes_fail(make: Make) -> None:
    service = await make()
    now = make.now  # type: ignore[attr-defined]
    code = await service.link_code(TG.user)
    with pytest.raises(OwnCode):
        await service.link(TG.user, code.code)
    now[0] += 601  # ten minutes and a second later
    with pytest.raises(CodeExpired) as expired:
        await service.link(SL.user, code.code.lower())
    assert "expired" in expired.value.user_message
    first, second = await service.link_code(TG.user), await service.link_code(TG.user)
    with pytest.raises(WrongCode):  # a newer code replaces the older one
        await service.link(SL.user, first.code)
    await service.link(SL.user, second.code)


async def test_five_wrong_codes_lock_linking_for_an_hour(make: Make) -> None:
    service = await make()
    now = make.now  # type: ignore[attr-defined]
    good = await service.link_code(TG.user)
    with pytest.raises(WrongCode):
        await service.link(EVE.user, "not a code")  # malformed: not a guess, not counted
    for left in (4, 3, 2, 1):
        with pytest.raises(WrongCode) as wrong:
            await service.link(EVE.user, "ABCDEFGH" if good.code != "ABCDEFGH" else "HGFEDCBA")
        assert wrong.value.tries_left == left and "ABCDEFGH" not in str(wrong.value)
    with pytest.raises(LinkLocked) as locked:
        await service.link(EVE.user, "ZZZZZZZZ")
    assert locked.value.until == datetime(2099, 6, 1, 13, 0, tzinfo=UTC)
    assert isinstance(locked.value, RateLimited) and locked.value.retry_after == 3600
    assert "13:00 UTC" in locked.value.user_message
    now[0] += 3599
    with pytest.raises(LinkLocked):  # even the right code, while locked
        await service.link(EVE.user, (await service.link_code(TG.user)).code)
    now[0] += 2
    await service.link(EVE.user, (await service.link_code(TG.user)).code)


async def test_making_codes_is_rate_limited(make: Make) -> None:
    service = await make()
    for _ in range(5):
        await service.link_code(TG.user)
    with pytest.raises(TooManyCodes) as many:
        await service.link_code(TG.user)
    assert many.value.retry_after > 0 and "min" in many.value.user_message
    await service.link_code(SL.user)  # per person


async def test_linked_identities_share_one_rate_limit(make: Make) -> None:
    service = await make(SWITCHBOARD_RATE_LIMIT="2/hour")
    await _linked(service)
    await service.reply(Turn(SessionKey.direct(TG.user), TG, "one"))
    await service.reply(Turn(SessionKey.direct(SL.user), SL, "two"))
    with pytest.raises(RateLimited):
        await service.reply(Turn(SessionKey.direct(SL.user), SL, "three"))
    await service.reply(Turn(SessionKey.direct(EVE.user), EVE, "someone else"))


async def test_linked_identities_share_one_budget_and_usage(
        make_llm_service: Make, openai_fake: FakeOpenAI) -> None:
    service = await make_llm_service(SWITCHBOARD_TOKEN_BUDGET="40/day")
    cast(RedisStore, service.store).clock = lambda: _at("2099-06-01T12:00:00")
    openai_fake.answer = lambda body: "ok"  # 10 in + 1 out each
    await service.reply(Turn(SessionKey.direct(TG.user), TG, "before linking"))
    await _linked(service)  # Telegram's 11 tokens come along: linking is no fresh budget
    assert (await service.usage(SL.user)).day.tokens == 11
    for speaker in (SL, TG):
        await service.reply(Turn(SessionKey.direct(speaker.user), speaker, "hello"))
    assert (await service.usage(TG.user)).day.tokens == \
        (await service.usage(SL.user)).day.tokens == 33
    await service.reply(Turn(SessionKey.direct(SL.user), SL, "reaches it"))
    for speaker in (TG, SL):
        with pytest.raises(BudgetExceeded):
            await service.reply(Turn(SessionKey.direct(speaker.user), speaker, "over"))
    await service.unlink(SL.user)  # Slack keeps what the person spent: no fresh budget either
    with pytest.raises(BudgetExceeded):
        await service.reply(Turn(SessionKey.direct(SL.user), SL, "alone now"))


async def test_shared_dms_are_one_conversation_groups_stay(make: Make) -> None:
    service = await make(SWITCHBOARD_LINKED_DMS="shared")
    await _linked(service)
    tg_dm, sl_dm = SessionKey.direct(TG.user), SessionKey.direct(SL.user)
    await service.reply(Turn(tg_dm, TG, "my cat is called Pixel"))
    reply = await service.reply(Turn(sl_dm, SL, "what is my cat called?"))
    assert "Pixel" in reply  # the offline model quotes what it remembers
    texts = [m.text for m in await service.history(sl_dm)]
    assert texts[0] == "my cat is called Pixel" and texts == \
        [m.text for m in await service.history(tg_dm)]
    group = SessionKey.thread("slack", "T1", "C1", "171.1")
    await service.reply(Turn(group, SL, "in the channel"))
    assert "in the channel" not in [m.text for m in await service.history(tg_dm)]
    await service.unlink(SL.user)  # apart again: Slack's DM is its own
    assert await service.history(sl_dm) == []
    assert next(m.text for m in await service.history(tg_dm)) == "my cat is called Pixel"


async def test_separate_dms_by_default(make: Make) -> None:
    service = await make()
    await _linked(service)
    await service.reply(Turn(SessionKey.direct(TG.user), TG, "telegram only"))
    assert await service.history(SessionKey.direct(SL.user)) == []


async def test_forget_on_one_erases_both_and_the_links(make: Make, redis: Redis,
                                                       prefix: str) -> None:
    service = await make(SWITCHBOARD_LINKED_DMS="shared")
    await service.reply(Turn(SessionKey.direct(SL.user), SL, "slack before linking"))
    await _linked(service)
    await service.reply(Turn(SessionKey.direct(TG.user), TG, "shared words"))
    group = SessionKey.thread("slack", "T1", "C1", "171.1")
    await service.reply(Turn(group, TG, "telegram in a group"))  # (a thread, for the test)
    await service.reply(Turn(group, EVE, "eve stays"))
    await service.reply(Turn(SessionKey.direct(EVE.user), EVE, "eve's own"))
    assert await service.forget(TG.user) >= 3
    for speaker in (TG, SL):
        assert await service.history(SessionKey.direct(speaker.user)) == []
        assert (await service.whoami(speaker.user)).identities == (speaker.user,)
        assert (await service.usage(speaker.user)).day.tokens == 0
    assert next(m.text for m in await service.history(group)) == "eve stays"
    left = {str(k) async for k in redis.scan_iter(f"{prefix}*")}
    assert not [k for k in left if "linked" in k or "telegram" in k or "slack:T1:U7" in k]
    assert len(await service.history(SessionKey.direct(EVE.user))) == 2


async def test_unlink_splits_and_unlinked_cannot_unlink(make: Make) -> None:
    service = await make()
    with pytest.raises(NotLinked):
        await service.unlink(TG.user)
    await _linked(service)
    await service.unlink(TG.user)
    assert (await service.whoami(SL.user)).identities == (SL.user,)
    assert (await service.whoami(TG.user)).identities == (TG.user,)
    with pytest.raises(NotLinked):  # the last one left keeps the person's conversation
        await service.unlink(SL.user)


async def test_two_processes_agree(make: Make, redis_url: str) -> None:
    other = Redis.from_url(redis_url, decode_responses=True)  # the second process's connection
    try:
        first = await make(SWITCHBOARD_LINKED_DMS="shared")
        second = await make(other, SWITCHBOARD_LINKED_DMS="shared")
        # The second process saw both identities unlinked and keeps that guess...
        await second.reply(Turn(SessionKey.direct(SL.user), SL, "slack alone"))
        await second.reply(Turn(SessionKey.direct(TG.user), TG, "telegram alone"))
        await _linked(first)
        # ...which its next turn's open trip corrects: the turn lands in the shared DM.
        await second.reply(Turn(SessionKey.direct(SL.user), SL, "now linked"))
        assert next(m.text for m in await first.history(SessionKey.direct(TG.user))) == \
            "now linked"
        assert set((await second.whoami(TG.user)).identities) == {TG.user, SL.user}
        await second.unlink(SL.user)
        await first.reply(Turn(SessionKey.direct(SL.user), SL, "apart"))
        assert [m.text for m in await second.history(SessionKey.direct(SL.user))][-2] == \
            "apart"
        assert "apart" not in [m.text for m in
                               await second.history(SessionKey.direct(TG.user))]
    finally:
        await other.aclose()


async def test_non_turn_reads_trust_the_cache_a_minute_at_most(make: Make, redis_url: str
                                                               ) -> None:
    other = Redis.from_url(redis_url, decode_responses=True)
    try:
        first = await make(SWITCHBOARD_LINKED_DMS="shared")
        second = await make(other, SWITCHBOARD_LINKED_DMS="shared")
        ticks = [0.0]
        second.links = Links(cast(RedisStore, second.store), timer=lambda: ticks[0])
        assert (await second.whoami(SL.user)).identities == (SL.user,)  # cached: alone
        await _linked(first)
        await first.reply(Turn(SessionKey.direct(TG.user), TG, "shared"))
        assert await second.history(SessionKey.direct(SL.user)) == []  # stale, within 60 s
        ticks[0] = 61.0
        assert len(await second.history(SessionKey.direct(SL.user))) == 2
    finally:
        await other.aclose()


async def test_forget_withdraws_a_pending_code(make: Make) -> None:
    service = await make()
    code = await service.link_code(TG.user)
    await service.forget(TG.user)
    with pytest.raises(WrongCode):  # its maker is gone, and the code with them
        await service.link(SL.user, code.code)
    assert (await service.whoami(SL.user)).identities == (SL.user,)


async def test_a_linked_turn_is_still_two_round_trips(make: Make, redis_url: str) -> None:
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    proxy = FlightProxy("127.0.0.1", port)
    await proxy.start()
    client = Redis.from_url(f"redis://127.0.0.1:{proxy.port}/0", decode_responses=True)
    try:
        service = await make(client, SWITCHBOARD_LINKED_DMS="shared")
        other = await make(SWITCHBOARD_LINKED_DMS="shared")  # links in another process
        await service.reply(Turn(SessionKey.direct(SL.user), SL, "warm up, unlinked"))
        await _linked(other)
        proxy.flights = 0  # the first turn after the link learns it, once: it gives back the
        await service.reply(Turn(SessionKey.direct(SL.user), SL, "learns the link"))
        assert proxy.flights == 4  # lock of Slack's own DM and opens the shared one

        proxy.flights = 0
        for i in range(5):
            await service.reply(Turn(SessionKey.direct(SL.user), SL, f"counted {i}"))
        assert proxy.flights == 10
        assert len(await other.history(SessionKey.direct(TG.user))) == 12
    finally:
        await client.aclose()
        await proxy.stop()

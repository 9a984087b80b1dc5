"""Token usage per person and the budgets on it: counted in Redis, checked before a model call."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from redis.asyncio import Redis

from adapters import commands
from core.context import SUMMARY_INSTRUCTIONS
from core.errors import BudgetExceeded, ConfigError
from core.keys import SessionKey, Speaker, UserKey
from core.redis_store import RedisStore
from core.service import ChatService, Turn
from core.settings import CoreSettings, load
from core.usage import Budget
from tests.fakes.http_api import served
from tests.fakes.openai_server import FakeOpenAI, approx_prompt_tokens
from tests.fakes.redis_proxy import FlightProxy

ANA = Speaker(UserKey.of("api", "ana"), "ana", "the HTTP API")
BEN = Speaker(UserKey.of("slack", "T1", "ben"), "ben", "slack")
Make = Callable[..., Awaitable[ChatService]]


def _at(text: str) -> float:
    # Injected times are in the future: a period's counter expires an hour after the period
    # ends by Redis's own clock, so a counter for a day already past would vanish at once.
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def _clock(service: ChatService, when: list[float]) -> None:
    cast(RedisStore, service.store).clock = lambda: when[0]


def _summaries(fake: FakeOpenAI) -> int:
    return sum(1 for body in fake.requests
               if SUMMARY_INSTRUCTIONS[:40] in str(body["messages"][0].get("content")))


def test_the_budget_setting_parses_and_refuses_nonsense() -> None:
    assert Budget.parse("200000/day") == Budget(200_000, None)
    assert Budget.parse("3m/month, 200k/days") == Budget(200_000, 3_000_000)
    assert load(CoreSettings).token_budget is None
    assert load(CoreSettings, SWITCHBOARD_TOKEN_BUDGET="").token_budget is None
    for bad in ("5/week", "day", "0/day", "1/day,2/day", "-3/month"):
        with pytest.raises(ConfigError, match="SWITCHBOARD_TOKEN_BUDGET"):
            load(CoreSettings, SWITCHBOARD_TOKEN_BUDGET=bad)


async def test_usage_is_what_the_model_reported_answers_and_summaries(
        make_llm_service: Make, openai_fake: FakeOpenAI) -> None:
    openai_fake.prompt_tokens = approx_prompt_tokens
    service = await make_llm_service(SWITCHBOARD_CONTEXT_TOKENS="300")
    session = SessionKey.direct(ANA.user)
    await service.reply(Turn(session, ANA, "my cat is called Pixel"))
    for i in range(5):  # streamed and whole answers; the old turns fold into a summary
        text = f"filler message number {i} " + "x" * 150
        if i % 2:
            await service.reply(Turn(session, ANA, text))
        else:
            assert "".join([p async for p in service.stream(Turn(session, ANA, text))])
    assert _summaries(openai_fake) >= 1
    used = await service.usage(ANA.user)
    sent_in = sum(u["prompt_tokens"] for u in openai_fake.usages)
    sent_out = sum(u["completion_tokens"] for u in openai_fake.usages)
    assert len(openai_fake.usages) == len(openai_fake.requests) == 6 + _summaries(openai_fake)
    assert (used.day.tokens_in, used.day.tokens_out) == (sent_in, sent_out)
    assert used.month.tokens == used.day.tokens == sent_in + sent_out
    assert used.day.limit is None and used.month.limit is None
    assert (await service.usage(BEN.user)).day.tokens == 0  # per person


async def test_at_the_budget_the_model_is_not_called(
        make_llm_service: Make, openai_fake: FakeOpenAI) -> None:
    service = await make_llm_service(SWITCHBOARD_TOKEN_BUDGET="20/day")
    when = [_at("2099-12-04T22:30:00")]
    _clock(service, when)
    session = SessionKey.direct(ANA.user)
    await service.reply(Turn(session, ANA, "hello there"))  # 10 in + 5 out: under the budget
    await service.reply(Turn(session, ANA, "and again"))  # starts under it, ends over it
    calls = len(openai_fake.requests)
    with pytest.raises(BudgetExceeded) as refused:
        await service.reply(Turn(session, ANA, "one more"))
    with pytest.raises(BudgetExceeded):
        assert not [p async for p in service.stream(Turn(session, ANA, "streamed"))]
    assert len(openai_fake.requests) == calls == 2
    assert refused.value.period == "day" and refused.value.limit == 20
    assert refused.value.resets_at == datetime(2099, 12, 5, tzinfo=UTC)
    assert refused.value.retry_after == 90 * 60
    assert refused.value.user_message == ("You've used your token budget for today (20 tokens). "
                                          "It resets at 00:00 UTC.")
    assert len(await service.history(session)) == 4  # the refused turns left nothing
    assert (await service.usage(BEN.user)).day.tokens == 0
    await service.reply(Turn(SessionKey.direct(BEN.user), BEN, "someone else"))  # not Ana's
    await service.forget(ANA.user)  # everything kept about Ana, her token counts included
    left = await service.usage(ANA.user)
    assert (left.day.tokens, left.month.tokens) == (0, 0)


async def test_the_day_and_the_month_reset_at_their_boundaries(
        make_llm_service: Make, openai_fake: FakeOpenAI) -> None:
    service = await make_llm_service(SWITCHBOARD_TOKEN_BUDGET="20/day, 30/month")
    openai_fake.answer = lambda body: "ok"  # every turn: 10 in + 1 out = 11 tokens
    when = [_at("2099-12-30T23:59:00")]
    _clock(service, when)
    session = SessionKey.direct(ANA.user)
    for text in ("day one", "day one, again"):  # 22: the day's 20 reached
        await service.reply(Turn(session, ANA, text))
    with pytest.raises(BudgetExceeded) as refused:
        await service.reply(Turn(session, ANA, "still day one"))
    assert (refused.value.period, refused.value.retry_after) == ("day", 60)
    when[0] = _at("2099-12-31T00:00:01")  # a new UTC day: the day's count starts over
    used = await service.usage(ANA.user)
    assert (used.day.tokens, used.month.tokens) == (0, 22)
    assert used.day.resets_at == datetime(2100, 1, 1, tzinfo=UTC) == used.month.resets_at
    await service.reply(Turn(session, ANA, "day two"))  # 33: the month's 30 reached
    with pytest.raises(BudgetExceeded) as refused:
        await service.reply(Turn(session, ANA, "day two, again"))
    assert refused.value.period == "month"
    assert refused.value.user_message == ("You've used your token budget for this month "
                                          "(30 tokens). It resets on January 1 at 00:00 UTC.")
    when[0] = _at("2100-01-01T00:00:00")  # a new month, and a new day
    await service.reply(Turn(session, ANA, "new year"))
    used = await service.usage(ANA.user)
    assert (used.day.tokens, used.month.tokens) == (11, 11)
    assert used.month.resets_at == datetime(2100, 2, 1, tzinfo=UTC)
    assert openai_fake.requests and len(openai_fake.requests) == 4


async def test_two_processes_share_one_budget(
        make_llm_service: Make, openai_fake: FakeOpenAI, redis_url: str) -> None:
    other = Redis.from_url(redis_url, decode_responses=True)  # the second process's connection
    try:
        first = await make_llm_service(SWITCHBOARD_TOKEN_BUDGET="20/day")
        second = await make_llm_service(other, SWITCHBOARD_TOKEN_BUDGET="20/day")
        await first.reply(Turn(SessionKey.direct(ANA.user), ANA, "in a DM on one"))
        await second.reply(Turn(SessionKey.api(ANA.user, "s1"), ANA, "on the API, two"))
        calls = len(openai_fake.requests)
        for service in (first, second):
            with pytest.raises(BudgetExceeded):
                await service.reply(Turn(SessionKey.api(ANA.user, "s2"), ANA, "more"))
        assert len(openai_fake.requests) == calls
        assert (await first.usage(ANA.user)) == (await second.usage(ANA.user))
    finally:
        await other.aclose()


async def test_fifty_queued_messages_stop_within_one_turn_of_the_budget(
        make_llm_service: Make, openai_fake: FakeOpenAI) -> None:
    service = await make_llm_service(SWITCHBOARD_TOKEN_BUDGET="200/day")
    openai_fake.answer = lambda body: "fine"  # every turn: 10 in + 1 out = 11 tokens
    session = SessionKey.direct(ANA.user)
    results = await asyncio.gather(*(service.reply(Turn(session, ANA, f"m{i}"))
                                     for i in range(50)), return_exceptions=True)
    answered = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, BudgetExceeded)]
    assert len(answered) + len(refused) == 50
    used = (await service.usage(ANA.user)).day.tokens
    assert 200 <= used < 200 + 11 and len(answered) == 19 == len(openai_fake.requests)


async def test_usage_over_http_and_the_429(make_llm_service: Make,
                                          openai_fake: FakeOpenAI) -> None:
    service = await make_llm_service(SWITCHBOARD_TOKEN_BUDGET="12/day, 1000/month")
    async with served(service) as api:
        fresh = (await api.get("/v1/me/usage")).json()
        assert fresh["cost"] is None and fresh["day"]["tokens"] == 0
        assert (await api.post("/v1/chat", json={"message": "hello"})).status_code == 200
        body: dict[str, Any] = (await api.get("/v1/me/usage")).json()
        assert set(body) == {"day", "month", "cost", "currency"}  # no prices: both null
        assert body["cost"] is None is body["currency"] is body["day"]["cost"]
        assert body["day"]["tokens"] == body["month"]["tokens"] == 13  # 10 in + 3 out
        assert (body["day"]["limit"], body["month"]["limit"]) == (12, 1000)
        resets = datetime.fromisoformat(body["day"]["resets_at"])
        assert resets.tzinfo is not None and (resets.hour, resets.minute) == (0, 0)
        month = datetime.fromisoformat(body["month"]["resets_at"])
        assert month.day == 1 and month > datetime.now(UTC)
        refused = await api.post("/v1/chat", json={"message": "more"})
        streamed = await api.post("/v1/chat/stream", json={"message": "more"})
        assert refused.status_code == streamed.status_code == 429
        wait = int(refused.headers["retry-after"])
        assert 1 <= wait <= 86400
        assert refused.json() == {"error": "You've used your token budget for today (12 tokens)."
                                           " It resets at 00:00 UTC."}
        assert len(openai_fake.requests) == 1
        assert (await api.get("/v1/me/usage", headers={"Authorization": ""})).status_code == 401


async def test_the_usage_command_text(make_llm_service: Make, openai_fake: FakeOpenAI) -> None:
    service = await make_llm_service(SWITCHBOARD_TOKEN_BUDGET="200000/day")
    openai_fake.answer = lambda body: "ok"
    _clock(service, [_at("2099-12-04T10:00:00")])
    await service.reply(Turn(SessionKey.direct(BEN.user), BEN, "hi"))
    assert await commands.usage(service, BEN.user) == (
        "Today: 11 of 200,000 tokens, 199,989 left (resets at 00:00 UTC).\n"
        "This month: 11 tokens (resets on January 1 at 00:00 UTC).")


@pytest.mark.parametrize("budget", ["", "200000/day, 3000000/month"])
async def test_a_turn_is_still_two_round_trips(make_llm_service: Make, openai_fake: FakeOpenAI,
                                               redis_url: str, budget: str) -> None:
    # The budget check rides with the rate limit and the token count with the commit.
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    proxy = FlightProxy("127.0.0.1", port)
    await proxy.start()
    client = Redis.from_url(f"redis://127.0.0.1:{proxy.port}/0", decode_responses=True)
    try:
        service = await make_llm_service(client, SWITCHBOARD_TOKEN_BUDGET=budget)
        session = SessionKey.direct(ANA.user)
        await service.reply(Turn(session, ANA, "warm up"))  # connect outside the count
        proxy.flights = 0
        for i in range(5):
            await service.reply(Turn(session, ANA, f"counted {i}"))
        assert proxy.flights == 10
        assert (await service.usage(ANA.user)).day.tokens == sum(
            u["total_tokens"] for u in openai_fake.usages)
    finally:
        await client.aclose()
        await proxy.stop()


async def test_a_regenerated_answer_counts_and_is_refused_at_the_budget(
        make_llm_service: Make, openai_fake: FakeOpenAI) -> None:
    service = await make_llm_service(SWITCHBOARD_TOKEN_BUDGET="30/day")
    openai_fake.answer = lambda body: "ok"  # every call: 10 in + 1 out = 11 tokens
    session = SessionKey.direct(ANA.user)
    await service.reply(Turn(session, ANA, "question"))
    assert "".join([p async for p in service.regenerate(session, ANA, None, "press-1")])
    assert (await service.usage(ANA.user)).day.tokens == 22
    assert "".join([p async for p in service.regenerate(session, ANA, None, "press-2")])
    with pytest.raises(BudgetExceeded):  # 33: refused before the model is asked again
        assert not [p async for p in service.regenerate(session, ANA, None, "press-3")]
    assert len(openai_fake.requests) == 3 and (await service.usage(ANA.user)).day.tokens == 33

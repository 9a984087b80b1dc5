"""Telegram flood limits: the fake enforces a group's limit, the bot's limiter keeps under it."""

from __future__ import annotations

import time
from typing import Any

import pytest
from aiolimiter import AsyncLimiter
from telegram import Bot
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter

from adapters.telegram import flood
from core.service import ChatService
from tests.fakes.common import wait_for
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.telegram_api import (
    TOKEN,
    FakeTelegram,
    fake_telegram,
    shown,
    telegram_bot,
    user,
)

GROUP: dict[str, Any] = {"id": -100777, "type": "supergroup", "title": "Busy"}
MEMBERS = [user(40 + n, f"Member{n}") for n in range(5)]
# Telegram allows 20 messages (edits included) a minute per group. Compressed 30x here: 20 per
# 2 s, in the fake and, from the same numbers, in the bot's AIORateLimiter.
LIMIT, WINDOW = 20, 2.0


def long_answer(tag: str) -> str:
    """About 6,000 characters: two Telegram messages, every word tagged with its asker."""
    return "\n\n".join(f"{tag} paragraph {i}: " + f"{tag}-words " * 40 for i in range(14))


def asker(body: dict[str, Any]) -> str:
    return str([m for m in body["messages"] if m["role"] == "user"][-1]["content"])


@pytest.mark.parametrize("limit", [flood.PER_GROUP, flood.OVERALL, flood.Limit(20, 2.0, 3),
                                   flood.Limit(5, 10.0, 1)])
def test_buckets_never_let_a_window_exceed_the_limit(limit: flood.Limit) -> None:
    rate, period = limit.bucket()
    # A leaky bucket's worst window: a full burst, then one more each time one request leaks.
    worst = rate + int(limit.window * rate / period + 1e-9)
    assert worst <= limit.count - 1 and rate == limit.burst


async def most_in_one_window(limiter: AsyncLimiter, window: float) -> int:
    """How many acquisitions an idle aiolimiter bucket lets through in its first `window`."""
    start, times = time.monotonic(), []
    while time.monotonic() - start < window:
        async with limiter:
            times.append(time.monotonic() - start)
    return len([t for t in times if t < window])


async def test_ptb_default_shape_lets_twice_the_limit_through_and_ours_does_not() -> None:
    # PTB's group default is 20 per 60 s as one bucket; the same shape, scaled: 10 per 0.5 s.
    assert await most_in_one_window(AsyncLimiter(10, 0.5), 0.5) >= 18
    ours = flood.Limit(10, 0.5, burst=2)
    assert await most_in_one_window(AsyncLimiter(*ours.bucket()), 0.5) <= 9
    with pytest.raises(ValueError):
        flood.Limit(20, 60.0, burst=19)


async def test_the_fake_answers_429_past_a_groups_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # PTB 23's type for retry_after; no warning
    async with fake_telegram(group_limit=3, group_window=5.0) as tg, \
            Bot(TOKEN, base_url=tg.api_url) as bot:  # no limiter: straight through
        sent = [await bot.send_message(GROUP["id"], f"m{n}") for n in range(2)]
        await bot.edit_message_text("edited", GROUP["id"], sent[0].message_id)
        with pytest.raises(RetryAfter) as refused:
            await bot.send_message(GROUP["id"], "one too many")
        await bot.send_message(MEMBERS[0]["id"], "private chats are not group-limited")
    assert refused.value.retry_after.total_seconds() in (4, 5)  # type: ignore[union-attr]
    assert len(tg.flooded) == 1 and tg.busiest(GROUP["id"], 5.0) == 3


async def five_long_answers(service: ChatService, openai: FakeOpenAI,
                            limiter: AIORateLimiter | None = None) -> FakeTelegram:
    """Five members of one group ask at once; returns the fake once every answer is complete."""
    openai.answer = lambda body: long_answer(asker(body))
    openai.chunks = lambda text: [text[i:i + 300] for i in range(0, len(text), 300)]
    openai.chunk_delay = 0.05  # each answer grows for a second: edits wanted 20 a second
    tags = [f"m{n}" for n in range(len(MEMBERS))]

    def complete() -> bool:
        return all(_answer_shown(shown(tg, GROUP["id"]), tag) for tag in tags)
    async with fake_telegram(group_limit=LIMIT, group_window=WINDOW) as tg, \
            telegram_bot(tg, service, limiter=limiter):
        for member, tag in zip(MEMBERS, tags, strict=True):
            await tg.send_text(GROUP, member, f"@switchboard_test_bot {tag}")
        await wait_for(complete, timeout=30)
    assert len(openai.requests) == len(MEMBERS)
    return tg


async def test_five_long_answers_in_one_group_stay_under_the_limit_and_complete(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    tg = await five_long_answers(llm_service, openai_fake)
    assert tg.flooded == [] and tg.busiest(GROUP["id"], WINDOW) <= LIMIT


async def test_without_the_group_limit_the_same_load_draws_429s(
        llm_service: ChatService, openai_fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    # The control for the test above: only the overall limit, 429s retried by the library.
    unlimited = AIORateLimiter(group_max_rate=0, max_retries=flood.RETRIES)
    tg = await five_long_answers(llm_service, openai_fake, unlimited)
    assert tg.flooded and tg.busiest(GROUP["id"], WINDOW) <= LIMIT  # the fake held its limit


def _answer_shown(messages: list[str], tag: str) -> bool:
    """The whole answer for `tag`, in order, formatted (no Markdown left), nothing else."""
    mine = [m for m in messages if m.startswith(f"{tag} ")]
    return " ".join(mine).split() == long_answer(tag).split()

"""Crash-safe Telegram delivery: real PTB, the fake Bot API over HTTP, the inbox on real Redis."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from redis.asyncio import Redis
from telegram import Update
from telegram.ext import TypeHandler

from adapters.telegram import webhook_router
from adapters.telegram.app import TelegramApp
from adapters.telegram.commands import HELP
from adapters.telegram.inbox import Inbox, RedisInbox
from core.errors import StoreUnavailable
from core.service import ChatService
from tests.fakes.common import serve_asgi, wait_for
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.telegram_api import FakeTelegram, chat_of, fake_telegram, shown, telegram_bot, user

ALICE = user(11, "Alice")
SECRET = "inbox-secret"
REPLAY_NOW = {"replay_after": 0.0}  # the restarted bot replays at once in tests
Prepare = Callable[[TelegramApp], None] | None


@pytest.fixture
def inbox(redis: Redis, prefix: str) -> RedisInbox:
    return RedisInbox(redis, prefix)


class Crash:
    """A handler that runs first and kills the update's processing, as a dying process would."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    def __call__(self, app: TelegramApp) -> None:
        app.add_handler(TypeHandler(Update, self._crash), group=-2)

    async def _crash(self, update: Update, context: Any) -> None:
        self.seen.append(update.update_id)
        raise asyncio.CancelledError  # nothing after this runs: no answer, no ack


class Flaky:
    """An inbox whose next `failures` puts fail, as when Redis is briefly unreachable."""

    def __init__(self, inner: RedisInbox, failures: int) -> None:
        self.inner, self.failures = inner, failures

    async def put(self, update_id: str, payload: str) -> None:
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable("down")
        await self.inner.put(update_id, payload)

    async def ack(self, update_id: str) -> None:
        await self.inner.ack(update_id)

    async def pending(self, older_than: float, limit: int = 1000) -> list[tuple[str, str]]:
        return await self.inner.pending(older_than, limit)


@contextlib.asynccontextmanager
async def webhook_bot(tg: FakeTelegram, service: ChatService, inbox: Inbox,
                      prepare: Prepare = None,
                      replay_after: float = 60.0) -> AsyncIterator[TelegramApp]:
    """The bot in webhook mode, behind its route on a real HTTP server."""
    live: dict[str, TelegramApp] = {}
    api = FastAPI()
    api.include_router(webhook_router(SecretStr(SECRET), lambda: live.get("app")))
    async with serve_asgi(api) as base, telegram_bot(
            tg, service, prepare, replay_after, inbox=inbox,
            TELEGRAM_WEBHOOK_URL=f"{base}/telegram/webhook",
            TELEGRAM_WEBHOOK_SECRET=SECRET) as app:
        live["app"] = app
        yield app


async def assert_every_key_expires(redis: Redis, prefix: str) -> None:
    keys = [k async for k in redis.scan_iter(match=f"{prefix}*")]
    assert keys and [k for k in keys if await redis.ttl(k) < 0] == []


async def test_webhook_update_survives_a_crash_after_the_200(
        llm_service: ChatService, inbox: RedisInbox, openai_fake: FakeOpenAI, redis: Redis,
        prefix: str) -> None:
    crash = Crash()
    async with fake_telegram() as tg:
        async with webhook_bot(tg, llm_service, inbox, crash):
            pushed = await tg.send_text(chat_of(ALICE), ALICE, "are you there?")
            assert pushed["_status"] == 200  # Telegram will never send it again
            await wait_for(lambda: crash.seen == [pushed["update_id"]])
        assert shown(tg, 11) == [] and openai_fake.requests == []
        async with webhook_bot(tg, llm_service, inbox, **REPLAY_NOW):
            await wait_for(lambda: shown(tg, 11) == ["echo: are you there?"])
            await wait_for_acked(inbox)
            await asyncio.sleep(0.2)  # nothing further arrives
        assert shown(tg, 11) == ["echo: are you there?"] and len(openai_fake.requests) == 1
        await assert_every_key_expires(redis, prefix)


async def test_polling_update_survives_a_crash_after_its_offset_is_confirmed(
        llm_service: ChatService, inbox: RedisInbox, openai_fake: FakeOpenAI) -> None:
    crash = Crash()
    async with fake_telegram() as tg:
        async with telegram_bot(tg, llm_service, crash, inbox=inbox):
            pushed = await tg.send_text(chat_of(ALICE), ALICE, "still there?")
            await wait_for(lambda: crash.seen and tg.confirmed(pushed["update_id"]))
        assert shown(tg, 11) == [] and openai_fake.requests == []
        async with telegram_bot(tg, llm_service, **REPLAY_NOW, inbox=inbox):
            await wait_for(lambda: shown(tg, 11) == ["echo: still there?"])
            await wait_for_acked(inbox)
            await asyncio.sleep(0.2)
        assert shown(tg, 11) == ["echo: still there?"] and len(openai_fake.requests) == 1


async def test_a_quick_restart_replays_the_young_update_once_it_is_old_enough(
        llm_service: ChatService, inbox: RedisInbox, openai_fake: FakeOpenAI) -> None:
    crash = Crash()
    async with fake_telegram() as tg:
        async with webhook_bot(tg, llm_service, inbox, crash):
            await tg.send_text(chat_of(ALICE), ALICE, "quick")
            await wait_for(lambda: crash.seen)
        crashed_at = time.monotonic()
        async with webhook_bot(tg, llm_service, inbox, replay_after=2.0):
            assert time.monotonic() - crashed_at < 2.0  # too young for the first pass
            await wait_for(lambda: shown(tg, 11) == ["echo: quick"], timeout=6)
            await wait_for_acked(inbox)
        assert len(openai_fake.requests) == 1


async def test_answered_updates_are_acked_and_not_replayed(
        llm_service: ChatService, inbox: RedisInbox, openai_fake: FakeOpenAI, redis: Redis,
        prefix: str) -> None:
    async with fake_telegram() as tg:
        async with telegram_bot(tg, llm_service, inbox=inbox):
            await tg.send_text(chat_of(ALICE), ALICE, "/help")
            await tg.send_text(chat_of(ALICE), ALICE, "hello")
            await wait_for(lambda: shown(tg, 11) == [HELP, "echo: hello"])
            await wait_for_acked(inbox)
        async with telegram_bot(tg, llm_service, **REPLAY_NOW, inbox=inbox):
            await asyncio.sleep(0.3)  # time enough for a replay to show
        assert shown(tg, 11) == [HELP, "echo: hello"] and len(openai_fake.requests) == 1
        await assert_every_key_expires(redis, prefix)


async def test_webhook_answers_503_when_the_inbox_is_down(
        llm_service: ChatService, inbox: RedisInbox, openai_fake: FakeOpenAI) -> None:
    async with fake_telegram() as tg, webhook_bot(tg, llm_service, Flaky(inbox, failures=1)):
        refused = await tg.send_text(chat_of(ALICE), ALICE, "first try")
        assert refused["_status"] == 503  # Telegram retries it later
        accepted = await tg.push({"update_id": refused["update_id"],
                                  "message": refused["message"]})
        assert accepted["_status"] == 200
        await wait_for(lambda: shown(tg, 11) == ["echo: first try"])
        await wait_for_acked(inbox)


async def test_polling_does_not_confirm_updates_it_could_not_keep(
        llm_service: ChatService, inbox: RedisInbox, openai_fake: FakeOpenAI) -> None:
    flaky = Flaky(inbox, failures=1)
    async with fake_telegram() as tg, telegram_bot(tg, llm_service, inbox=flaky):
        await tg.send_text(chat_of(ALICE), ALICE, "keep me")
        # The failed put raised a NetworkError: PTB retried getUpdates without confirming.
        await wait_for(lambda: shown(tg, 11) == ["echo: keep me"], timeout=10)
        await wait_for_acked(inbox)
    assert flaky.failures == 0 and len(openai_fake.requests) == 1


async def test_update_both_replayed_and_fetched_again_is_answered_once(
        llm_service: ChatService, inbox: RedisInbox) -> None:
    async with fake_telegram() as tg:
        # Kept, but never confirmed: Telegram still offers it, and the inbox replays it.
        update = {"update_id": 500, "message": tg.message(chat_of(ALICE), ALICE, "/help")}
        await inbox.put("500", json.dumps(update))
        await tg.push(update)
        async with telegram_bot(tg, llm_service, **REPLAY_NOW, inbox=inbox):
            await wait_for(lambda: tg.confirmed(500) and shown(tg, 11) == [HELP])
            await wait_for_acked(inbox)
            await asyncio.sleep(0.2)
        assert shown(tg, 11) == [HELP]


async def test_unparsable_stored_update_is_dropped_not_replayed_forever(
        llm_service: ChatService, inbox: RedisInbox, openai_fake: FakeOpenAI) -> None:
    await inbox.put("77", "{not json")
    async with fake_telegram() as tg, telegram_bot(tg, llm_service, **REPLAY_NOW, inbox=inbox):
        await wait_for_acked(inbox)
    assert openai_fake.requests == []


async def wait_for_acked(inbox: RedisInbox) -> None:
    for _ in range(250):
        if not await inbox.pending(0):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"still pending: {await inbox.pending(0)}")

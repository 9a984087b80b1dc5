"""Telegram update flow: commands, allow-list, concurrency across chats, order, redelivery."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from pydantic import SecretStr

from adapters.commands import UNKNOWN
from adapters.telegram import webhook_router
from adapters.telegram.app import TelegramApp
from adapters.telegram.commands import HELP
from core.errors import ModelError
from core.service import ChatService
from tests.fakes.common import serve_asgi, wait_for
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.telegram_api import FakeTelegram, chat_of, fake_telegram, shown, telegram_bot, user

ALICE, BOB, CAROL = user(11, "Alice"), user(22, "Bob"), user(99, "Carol")
SECRET = "flow-secret"


def asked(fake: FakeOpenAI) -> list[str]:
    """The last user message of each model request, in order."""
    return [[m for m in r["messages"] if m["role"] == "user"][-1]["content"]
            for r in fake.requests]


async def say(tg: FakeTelegram, who: dict[str, Any], text: str, answer: str) -> None:
    await tg.send_text(chat_of(who), who, text)
    await wait_for(lambda: answer in shown(tg, who["id"]))


@contextlib.asynccontextmanager
async def webhook_bot(tg: FakeTelegram, service: ChatService) -> AsyncIterator[TelegramApp]:
    """The bot in webhook mode, behind its route on a real HTTP server."""
    live: dict[str, TelegramApp] = {}
    api = FastAPI()
    api.include_router(webhook_router(SecretStr(SECRET), lambda: live.get("app")))
    async with serve_asgi(api) as base, telegram_bot(
            tg, service, TELEGRAM_WEBHOOK_URL=f"{base}/telegram/webhook",
            TELEGRAM_WEBHOOK_SECRET=SECRET) as app:
        live["app"] = app
        yield app


async def test_commands_are_registered_at_start_and_explained(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        await wait_for(lambda: tg.called("getUpdates"))
        methods = [c.method for c in tg.calls]
        assert methods.index("setMyCommands") < methods.index("getUpdates")
        names = [c["command"] for c in tg.called("setMyCommands")[0]["commands"]]
        assert names == ["start", "help", "reset", "forget", "export", "model", "persona",
                         "usage", "link", "unlink", "whoami"]
        await say(tg, ALICE, "/start", HELP)
        await tg.send_text(chat_of(ALICE), ALICE, "/help")
        await wait_for(lambda: shown(tg, 11).count(HELP) == 2)
        await say(tg, ALICE, "/nope", UNKNOWN)
        assert shown(tg, 11) == [HELP, HELP, UNKNOWN] and openai_fake.requests == []
        assert all(word in HELP for word in ("assistant", "/reset", "/forget", "/model",
                                             "/persona", "mention"))


async def test_only_allowed_users_are_answered(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    async with fake_telegram() as tg, telegram_bot(tg, llm_service,
                                                   TELEGRAM_ALLOWED_USERS="@Alice, 99"):
        await tg.send_text(chat_of(BOB), BOB, "let me in")
        await tg.send_text(chat_of(BOB), BOB, "/help")
        await say(tg, ALICE, "by name", "echo: by name")
        await say(tg, CAROL, "by id", "echo: by id")
        assert [c for c in tg.calls if c.params.get("chat_id") == BOB["id"]] == []
        assert asked(openai_fake) == ["by name", "by id"]


async def test_a_slow_reply_in_one_chat_does_not_delay_another(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    openai_fake.hang_next(0.8)  # Alice's model call; under the 1 s model timeout
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        await tg.send_text(chat_of(ALICE), ALICE, "slow")
        await wait_for(lambda: openai_fake.requests)
        started = time.monotonic()
        await say(tg, BOB, "fast", "echo: fast")
        assert time.monotonic() - started < 0.6
        assert shown(tg, ALICE["id"]) == []  # still waiting for the model
        await wait_for(lambda: shown(tg, ALICE["id"]) == ["echo: slow"])


async def test_one_conversation_is_answered_in_order(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    openai_fake.hang_next(0.4)  # the first answer is the slow one
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        await tg.send_text(chat_of(ALICE), ALICE, "first")
        await tg.send_text(chat_of(ALICE), ALICE, "second")
        await wait_for(lambda: {"echo: first", "echo: second"} <= set(shown(tg, 11)))
        assert shown(tg, 11) == ["echo: first", "echo: second"]  # oldest message first
        assert asked(openai_fake) == ["first", "second"]
        assert "echo: first" in str(openai_fake.requests[1]["messages"])


async def test_redelivered_updates_are_answered_once(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    async with fake_telegram() as tg:
        text = {"update_id": 500, "message": tg.message(chat_of(ALICE), ALICE, "only once")}
        command = {"update_id": 501, "message": tg.message(chat_of(ALICE), ALICE, "/help")}
        async with webhook_bot(tg, llm_service):  # Telegram retries a webhook delivery
            for update in (text, command, text, command):
                assert (await tg.push(dict(update)))["_status"] == 200
            await wait_for(lambda: {"echo: only once", HELP} <= set(shown(tg, 11)))
            await asyncio.sleep(0.2)
        async with telegram_bot(tg, llm_service):  # a restart: polling gets it again
            await tg.push(dict(text))
            await say(tg, ALICE, "after", "echo: after")
        assert sorted(shown(tg, 11)) == sorted(["echo: only once", HELP, "echo: after"])
        assert asked(openai_fake) == ["only once", "after"]


async def test_a_failed_model_call_tells_the_user_and_frees_the_conversation(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    openai_fake.fail_next(500, times=3)  # the first try and both retries
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        await say(tg, ALICE, "anyone there?", ModelError.user_message)  # via adapters.failures
        await say(tg, ALICE, "again", "echo: again")
    assert shown(tg, 11) == [ModelError.user_message, "echo: again"]
    assert "anyone there?" not in str(openai_fake.requests[-1]["messages"])  # nothing stored

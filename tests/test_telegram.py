"""Telegram private chats end to end: real PTB, fake Bot API over HTTP, real Redis, fake OpenAI."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from adapters.commands import NOT_YOURS
from adapters.commands import RESET_DONE as RESET
from adapters.telegram import outbox
from adapters.telegram.handlers import NOT_TEXT
from core.keys import SessionKey, UserKey
from core.service import ChatService
from tests.fakes.common import wait_for
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.telegram_api import (
    TOKEN,
    FakeTelegram,
    chat_of,
    fake_telegram,
    shown,
    telegram_bot,
    user,
)

ALICE, BOB = user(11, "Alice"), user(22, "Bob")


def prompt(fake: FakeOpenAI, index: int = -1) -> str:
    """Everything the model was shown in one request, as one string."""
    return "\n".join(str(m["content"]) for m in fake.requests[index]["messages"])


async def say(tg: FakeTelegram, who: dict[str, Any], text: str, answer: str) -> None:
    await tg.send_text(chat_of(who), who, text)
    await wait_for(lambda: any(answer in t for t in shown(tg, who["id"])))


async def test_private_chats_are_isolated_and_remembered(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        await say(tg, ALICE, "my name is Alice", "echo: my name is Alice")
        await say(tg, BOB, "my name is Bob", "echo: my name is Bob")
        await say(tg, ALICE, "who am I?", "echo: who am I?")
        assert "my name is Alice" in prompt(openai_fake) and "Bob" not in prompt(openai_fake)
        assert "Alice" not in prompt(openai_fake, 1)
        assert {c["chat_id"] for c in tg.called("sendMessage")} == {11, 22}
        assert tg.called("setMyCommands")[0]["commands"][2]["command"] == "reset"


async def test_reset_starts_a_fresh_conversation(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        await say(tg, ALICE, "remember the otter", "echo: remember the otter")
        await say(tg, ALICE, "/reset", RESET)
        await say(tg, ALICE, "what animal?", "echo: what animal?")
        assert "otter" not in prompt(openai_fake)


async def test_forget_asks_then_erases_only_for_the_asker(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    session = SessionKey.direct(UserKey.of("telegram", ALICE["id"]))
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        await say(tg, ALICE, "a secret", "echo: a secret")
        await say(tg, ALICE, "/forget", "cannot be undone")
        button = tg.sent_to(11)[-1]["reply_markup"]["inline_keyboard"][0][0]
        asked = {"message_id": 1, "date": 0, "chat": chat_of(ALICE), "text": "Erase?"}
        query = {"id": "q1", "from": BOB, "chat_instance": "c", "message": asked,
                 "data": button["callback_data"]}
        await tg.push({"callback_query": query})
        await wait_for(lambda: tg.called("answerCallbackQuery"))
        assert tg.called("answerCallbackQuery")[0]["text"] == NOT_YOURS
        assert await llm_service.history(session)
        await tg.push({"callback_query": {**query, "id": "q2", "from": ALICE}})
        await wait_for(lambda: any("I erased everything" in p["text"]
                                   for p in tg.called("editMessageText")))
        assert await llm_service.history(session) == []
        await say(tg, ALICE, "/forget yes", "(0 conversations)")


async def test_rate_limited_gets_a_notice_and_no_model_call(
        make_llm_service: Callable[..., Awaitable[ChatService]],
        openai_fake: FakeOpenAI) -> None:
    service = await make_llm_service(SWITCHBOARD_RATE_LIMIT="1/minute")
    async with fake_telegram() as tg, telegram_bot(tg, service):
        await say(tg, ALICE, "one", "echo: one")
        await say(tg, ALICE, "two", "sending messages a bit fast. Try again in")
        assert len(openai_fake.requests) == 1


async def test_non_text_gets_a_polite_note_and_bots_are_ignored(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    robot = user(33, "Robot", is_bot=True)
    sticker_ = {"file_id": "f1", "file_unique_id": "u1", "width": 1, "height": 1,
                "is_animated": False, "is_video": False, "type": "regular"}
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        sticker = {k: v for k, v in tg.message(chat_of(ALICE), ALICE, "").items() if k != "text"}
        await tg.push({"message": {**sticker, "sticker": sticker_}})
        await wait_for(lambda: NOT_TEXT in shown(tg, 11))
        await tg.send_text(chat_of(robot), robot, "hello bot")
        await say(tg, ALICE, "after", "echo: after")
        assert tg.sent_to(33) == [] and all("hello bot" not in prompt(openai_fake, i)
                                            for i in range(len(openai_fake.requests)))


async def test_serve_runs_from_the_environment_until_stopped(
        llm_service: ChatService, openai_fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch,
        redis: Redis) -> None:
    from bots import telegram
    from bots.wiring import Wiring

    async with fake_telegram() as tg:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("TELEGRAM_API_URL", tg.api_url)
        monkeypatch.setenv("TELEGRAM_POLL_TIMEOUT", "1")
        wiring = Wiring(llm_service, redis, llm_service.settings)
        server = telegram.build(wiring)
        assert wiring.routes == []  # polling: no webhook route
        stop = asyncio.Event()
        task = asyncio.create_task(server(stop))
        # As `switchboard run` wires it: the update waits in the Redis inbox while it is handled.
        openai_fake.hang_next(1.0)
        await tg.send_text(chat_of(ALICE), ALICE, "hi")
        inbox = f"{llm_service.settings.redis_prefix}{{in:telegram}}:d"
        for _ in range(250):
            if await redis.exists(inbox):
                break
            await asyncio.sleep(0.02)
        assert await redis.exists(inbox)
        await wait_for(lambda: any("echo: hi" in t for t in shown(tg, 11)), 10)
        stop.set()
        await asyncio.wait_for(task, 5)


async def test_typing_shows_only_while_an_answer_is_slow_to_start(
        llm_service: ChatService, openai_fake: FakeOpenAI,
        monkeypatch: pytest.MonkeyPatch) -> None:
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        monkeypatch.setattr(outbox, "TYPING_AFTER", 30.0)
        await say(tg, ALICE, "quick", "echo: quick")
        assert tg.called("sendChatAction") == []  # the words came first: no request spent
        monkeypatch.setattr(outbox, "TYPING_AFTER", 0.05)
        openai_fake.chunk_delay = 0.5
        await say(tg, ALICE, "slow", "echo: slow")
        assert [c["action"] for c in tg.called("sendChatAction")][:1] == ["typing"]

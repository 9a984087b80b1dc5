""""↻ Regenerate" on Telegram end to end: real PTB against the fake Bot API, the real ChatOpenAI
against the fake OpenAI, which answers each request with its number ("take N")."""

from __future__ import annotations

from typing import Any

from adapters.regenerate import LABEL, NOT_YOURS, Press
from core.errors import NotLastAnswer
from core.keys import SessionKey, UserKey
from core.service import ChatService
from tests.fakes.common import wait_for
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.telegram_api import (
    BOT,
    FakeTelegram,
    chat_of,
    fake_telegram,
    shown,
    telegram_bot,
    user,
)

ALICE, BOB = user(11, "Alice"), user(22, "Bob")
GROUP: dict[str, Any] = {"id": -100123, "type": "supergroup", "title": "Team"}
PRIVATE = SessionKey.direct(UserKey.of("telegram", ALICE["id"]))
STALE = NotLastAnswer.user_message


def numbered(fake: FakeOpenAI) -> None:
    """Answer each request with its number, so every take differs."""
    def answer(body: dict[str, Any]) -> str:
        return f"take {len(fake.requests)}"
    fake.answer = answer


async def asked(tg: FakeTelegram, chat: dict[str, Any], who: dict[str, Any], text: str,
                expect: str) -> int:
    """Send a message and wait for its answer, button included; the answer's message id."""
    await tg.send_text(chat, who, text)
    return int(await wait_for(lambda: button_on(tg, chat, expect) and message_of(tg, chat,
                                                                             expect)))


def message_of(tg: FakeTelegram, chat: dict[str, Any], text: str) -> int | None:
    return next((m for (c, m), t in tg.texts.items() if c == chat["id"] and t == text), None)


def button_on(tg: FakeTelegram, chat: dict[str, Any], text: str) -> str | None:
    """The callback data of the Regenerate button on the message showing `text`, if any."""
    message_id = message_of(tg, chat, text)
    markup = tg.markups.get((chat["id"], message_id or 0))
    if not markup:
        return None
    [[button]] = markup["inline_keyboard"]
    assert button["text"] == LABEL
    return str(button["callback_data"])


async def press(tg: FakeTelegram, who: dict[str, Any], chat: dict[str, Any], text: str,
                data: str) -> str:
    """Press a button on the message showing `text`; returns the callback query's id."""
    message = {"message_id": message_of(tg, chat, text), "date": 0, "chat": chat, "from": BOT,
               "text": text}
    query_id = f"q{len(tg.calls)}"
    await tg.push({"callback_query": {"id": query_id, "from": who, "chat_instance": "c",
                                      "message": message, "data": data}})
    return query_id


def answered(tg: FakeTelegram, query_id: str) -> dict[str, Any] | None:
    return next((a for a in tg.called("answerCallbackQuery")
                 if a["callback_query_id"] == query_id), None)


async def test_a_press_answers_again_once_even_when_pressed_twice(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    numbered(openai_fake)
    alice = chat_of(ALICE)
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        question = (await tg.send_text(alice, ALICE, "name a colour"))["message"]["message_id"]
        await wait_for(lambda: button_on(tg, alice, "take 1"))
        data = button_on(tg, alice, "take 1")
        assert data is not None and len(data.encode()) <= 64
        assert Press.parse(data) == Press(str(question), str(ALICE["id"]), data[-6:])
        assert tg.drafts, "the answer was still drafted; the button came on the final message"
        openai_fake.chunk_delay = 0.05  # the second press arrives while the first streams
        first = await press(tg, ALICE, alice, "take 1", data)
        second = await press(tg, ALICE, alice, "take 1", data)
        await wait_for(lambda: button_on(tg, alice, "take 2"))
        await wait_for(lambda: answered(tg, first) and answered(tg, second))
        assert not (answered(tg, first) or {}).get("show_alert")
        assert len(openai_fake.requests) == 2, "one model call for the one press"
        assert shown(tg, alice["id"]) == ["take 1", "take 2"], "a new message; nothing else said"
        await wait_for(lambda: button_on(tg, alice, "take 1") is None)  # the old one's is gone
        assert button_on(tg, alice, "take 2") != data, "a new button is a new press"
        history = await llm_service.history(PRIVATE)
        assert [m.text for m in history] == ["name a colour", "take 2"]
        again = await press(tg, ALICE, alice, "take 2", button_on(tg, alice, "take 2") or "")
        await wait_for(lambda: button_on(tg, alice, "take 3"))
        assert answered(tg, again)
        assert [m.text for m in await llm_service.history(PRIVATE)] == ["name a colour",
                                                                        "take 3"]


async def test_an_older_answer_cannot_be_regenerated(llm_service: ChatService,
                                                     openai_fake: FakeOpenAI) -> None:
    numbered(openai_fake)
    alice = chat_of(ALICE)
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        await asked(tg, alice, ALICE, "first", "take 1")
        await asked(tg, alice, ALICE, "second", "take 2")
        query = await press(tg, ALICE, alice, "take 1", button_on(tg, alice, "take 1") or "")
        await wait_for(lambda: STALE in shown(tg, alice["id"]))
        await wait_for(lambda: button_on(tg, alice, "take 1") is None)  # it can never work
        assert answered(tg, query)
        assert len(openai_fake.requests) == 2
        assert button_on(tg, alice, "take 2"), "the latest answer keeps its button"
        assert [m.text for m in await llm_service.history(PRIVATE)] == [
            "first", "take 1", "second", "take 2"]


async def test_in_a_group_only_the_asker_may_regenerate(llm_service: ChatService,
                                                        openai_fake: FakeOpenAI) -> None:
    numbered(openai_fake)
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        update = await tg.send_text(GROUP, ALICE, "@switchboard_test_bot name a colour")
        await wait_for(lambda: button_on(tg, GROUP, "take 1"))
        data = button_on(tg, GROUP, "take 1") or ""
        refused = await press(tg, BOB, GROUP, "take 1", data)
        await wait_for(lambda: answered(tg, refused))
        assert answered(tg, refused) == {"callback_query_id": refused, "text": NOT_YOURS,
                                         "show_alert": True}
        assert len(openai_fake.requests) == 1
        await press(tg, ALICE, GROUP, "take 1", data)
        await wait_for(lambda: button_on(tg, GROUP, "take 2"))
        new = tg.sent_to(GROUP["id"])[-1]  # the new answer's one message (then edited)
        question = update["message"]["message_id"]
        assert new["reply_parameters"]["message_id"] == question, "it quotes the question"
        session = SessionKey.channel_member("telegram", GROUP["id"],
                                            user=UserKey.of("telegram", ALICE["id"]))
        assert [m.text for m in await llm_service.history(session)] == ["name a colour",
                                                                        "take 2"]


async def test_a_failed_answer_gets_no_button(llm_service: ChatService,
                                              openai_fake: FakeOpenAI) -> None:
    alice = chat_of(ALICE)
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        openai_fake.fail_next(400)
        await tg.send_text(alice, ALICE, "hello")
        await wait_for(lambda: shown(tg, alice["id"]))
        await asked(tg, alice, ALICE, "again", "echo: again")
        assert list(tg.markups) == [(alice["id"], message_of(tg, alice, "echo: again"))]

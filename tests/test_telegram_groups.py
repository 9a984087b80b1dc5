"""Telegram groups and forum topics: when the bot answers, and whose conversation it is."""

from __future__ import annotations

from typing import Any

from adapters.commands import RESET_DONE as RESET
from adapters.telegram.handlers import session_key
from core.keys import Scope
from core.service import ChatService
from tests.fakes.common import wait_for
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.telegram_api import BOT, FakeTelegram, fake_telegram, shown, telegram_bot, user

ALICE, BOB = user(11, "Alice"), user(22, "Bob")
GROUP: dict[str, Any] = {"id": -100123, "type": "supergroup", "title": "Team"}


def asked(fake: FakeOpenAI) -> list[str]:
    """The last user message of each model request, in order."""
    return [[m for m in r["messages"] if m["role"] == "user"][-1]["content"]
            for r in fake.requests]


async def answered(tg: FakeTelegram, who: dict[str, Any], text: str, expect: str,
                   **extra: Any) -> dict[str, Any]:
    update = await tg.send_text(GROUP, who, text, **extra)
    await wait_for(lambda: any(expect in t for t in shown(tg, GROUP["id"])))
    return update


async def test_group_answers_only_mentions_replies_and_commands(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        await tg.send_text(GROUP, ALICE, "hello everyone")
        await tg.send_text(GROUP, ALICE, "/reset@other_bot")
        update = await answered(tg, ALICE, "@switchboard_test_bot what is 2+2?",
                                "echo: what is 2+2?")
        first = tg.sent_to(GROUP["id"])[0]
        assert first["reply_parameters"]["message_id"] == update["message"]["message_id"]
        mine = {"message_id": 1, "date": 0, "chat": GROUP, "from": BOT, "text": "4"}
        await answered(tg, ALICE, "and 3+3?", "echo: and 3+3?", reply_to_message=mine)
        await answered(tg, ALICE, "/reset@switchboard_test_bot", RESET)
        assert asked(openai_fake) == ["what is 2+2?", "and 3+3?"]


async def test_group_members_have_their_own_conversations(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        await answered(tg, ALICE, "@switchboard_test_bot I like tea", "echo: I like tea")
        await answered(tg, BOB, "@switchboard_test_bot what do I like?", "echo: what do I like?")
        assert "tea" not in str(openai_fake.requests[-1]["messages"])


async def test_shared_groups_and_topics_share_one_conversation(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    async with fake_telegram() as tg, telegram_bot(tg, llm_service,
                                                   TELEGRAM_SHARED_GROUPS="true"):
        topic = {"message_thread_id": 7, "is_topic_message": True}
        await answered(tg, ALICE, "@switchboard_test_bot I like tea", "echo: I like tea",
                       **topic)
        await answered(tg, BOB, "@switchboard_test_bot what does she like?",
                       "echo: what does she like?", **topic)
        assert "tea" in str(openai_fake.requests[-1]["messages"])
        assert {c["message_thread_id"] for c in tg.sent_to(GROUP["id"])} == {7}


def test_session_keys() -> None:
    from telegram import Update

    def key(chat: dict[str, Any], *, shared: bool = False, **extra: Any) -> str:
        message = {"message_id": 1, "date": 0, "chat": chat, "from": ALICE, "text": "x",
                   **extra}
        k = session_key(Update.de_json({"update_id": 1, "message": message}, None), shared)
        return f"{k.scope}:{k}"

    private = {"id": 11, "type": "private", "first_name": "Alice"}
    topic: dict[str, Any] = {"message_thread_id": 7, "is_topic_message": True}
    assert key(private) == f"{Scope.DIRECT}:telegram:11"
    assert key(GROUP) == f"{Scope.CHANNEL_MEMBER}:telegram:-100123:u:11"
    assert key(GROUP, **topic) == f"{Scope.CHANNEL_MEMBER}:telegram:-100123:7:u:11"
    assert key(GROUP, shared=True) == f"{Scope.CHANNEL}:telegram:-100123:all"
    assert key(GROUP, shared=True, **topic) == f"{Scope.THREAD}:telegram:-100123:7"

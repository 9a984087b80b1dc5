"""`/model` and `/persona` on Telegram end to end: real PTB against the fake Bot API, real
ChatOpenAI against the fake OpenAI, presets and personas from a configuration file."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from adapters import answers, commands
from adapters.commands import NOT_YOURS
from adapters.render import utf16_len
from adapters.telegram.commands import ADMINS
from core.keys import SessionKey
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
from tests.test_discord_choices import MANY
from tests.test_presets import FILE

ALICE, BOB = user(11, "Alice"), user(22, "Bob")


def refusal(kind: str) -> str:
    return commands.refusal(kind, ADMINS)
GROUP: dict[str, Any] = {"id": -100123, "type": "supergroup", "title": "Team"}
SHOWN = "This conversation's model is"
SHARED = SessionKey.channel("telegram", GROUP["id"])


@pytest.fixture
async def chooser(make_presets: Callable[[str], Awaitable[ChatService]]) -> ChatService:
    """The core with presets `default`, `fast`, `smart` and personas `default`, `pirate`."""
    return await make_presets(FILE)

async def say(tg: FakeTelegram, chat: dict[str, Any], who: dict[str, Any], text: str,
              expect: str) -> None:
    await tg.send_text(chat, who, text)
    await wait_for(lambda: any(expect in t for t in shown(tg, chat["id"])))


def keyboard(tg: FakeTelegram, chat: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The last message with buttons in `chat` (as a callback query carries it), and its
    buttons' callback data by label."""
    params = [p for p in tg.sent_to(chat["id"]) if "reply_markup" in p][-1]
    message_id = next(c.message_id for c in reversed(tg.changes)
                      if c.chat_id == chat["id"] and c.text == params["text"])
    buttons = {b["text"]: b["callback_data"]
               for row in params["reply_markup"]["inline_keyboard"] for b in row}
    message = {"message_id": message_id, "date": 0, "chat": chat, "from": BOT,
               "text": params["text"]}
    return message, buttons


async def press(tg: FakeTelegram, who: dict[str, Any], message: dict[str, Any],
                data: str) -> str:
    """Press a button; returns the callback query's id."""
    query_id = f"q{len(tg.calls)}"
    await tg.push({"callback_query": {"id": query_id, "from": who, "chat_instance": "c",
                                      "message": message, "data": data}})
    await wait_for(lambda: any(a["callback_query_id"] == query_id
                               for a in tg.called("answerCallbackQuery")))
    return query_id


def alert(tg: FakeTelegram, query_id: str) -> str:
    answered = next(a for a in tg.called("answerCallbackQuery")
                    if a["callback_query_id"] == query_id)
    assert answered.get("show_alert") is True
    return str(answered["text"])


def system_prompt(fake: FakeOpenAI) -> str:
    return str(fake.requests[-1]["messages"][0]["content"])


async def test_model_lists_buttons_and_a_press_chooses(chooser: ChatService,
                                                       openai_fake: FakeOpenAI) -> None:
    alice = chat_of(ALICE)
    async with fake_telegram() as tg, telegram_bot(tg, chooser):
        await say(tg, alice, ALICE, "hi", "echo: hi")
        assert openai_fake.requests[-1]["model"] == "gpt-4o-mini"
        await say(tg, alice, ALICE, "/model", SHOWN)
        message, buttons = keyboard(tg, alice)
        assert message["text"].startswith(f"{SHOWN} default.")
        assert "• fast: Quick answers" in message["text"]
        assert list(buttons) == ["✓ default", "fast", "smart"]
        assert buttons["smart"] == "model:smart:b"  # the asker, 11, in hex
        assert all(len(data.encode()) <= 64 for data in buttons.values())
        await press(tg, ALICE, message, buttons["smart"])
        await wait_for(lambda: any(p["text"] == "From now on this conversation uses the model "
                                   "smart." for p in tg.called("editMessageText")))
        await say(tg, alice, ALICE, "which model now?", "echo: which model now?")
        assert openai_fake.requests[-1]["model"] == "smart-model"
        commands = [c["command"] for c in tg.called("setMyCommands")[0]["commands"]]
        assert {"model", "persona"} <= set(commands)
        await say(tg, alice, ALICE, "/help", "/persona: show or choose")


async def test_persona_by_name_and_an_unknown_model(chooser: ChatService,
                                                    openai_fake: FakeOpenAI) -> None:
    alice = chat_of(ALICE)
    async with fake_telegram() as tg, telegram_bot(tg, chooser):
        await say(tg, alice, ALICE, "/persona", "This conversation's persona is default.")
        _, buttons = keyboard(tg, alice)
        assert list(buttons) == ["✓ default", "pirate"]
        await say(tg, alice, ALICE, "/persona pirate",
                  "From now on this conversation uses the persona pirate.")
        await say(tg, alice, ALICE, "ahoy?", "echo: ahoy?")
        assert system_prompt(openai_fake).startswith("You are a helpful assistant who talks "
                                                     "like a pirate.")
        await say(tg, alice, ALICE, "/model nope", "There is no model called “nope” here. "
                                                   "Choose one of: default, fast, smart.")
        await say(tg, alice, ALICE, "/persona", "This conversation's persona is pirate.")
        assert "✓ pirate" in keyboard(tg, alice)[1]


async def test_members_change_their_own_conversation_in_a_group(
        chooser: ChatService, openai_fake: FakeOpenAI) -> None:
    async with fake_telegram() as tg, telegram_bot(tg, chooser):
        await say(tg, GROUP, ALICE, "/model@switchboard_test_bot", SHOWN)
        message, buttons = keyboard(tg, GROUP)
        query = await press(tg, BOB, message, buttons["fast"])
        assert alert(tg, query) == NOT_YOURS, "Alice's buttons are Alice's"
        await say(tg, GROUP, BOB, "/model fast", "uses the model fast.")
        await say(tg, GROUP, ALICE, "@switchboard_test_bot hello", "echo: hello")
        assert openai_fake.requests[-1]["model"] == "gpt-4o-mini"
        await say(tg, GROUP, BOB, "@switchboard_test_bot hi", "echo: hi")
        assert openai_fake.requests[-1]["model"] == "fast-model"
        assert tg.called("getChatMember") == [], "no admin check for one's own conversation"


async def test_only_admins_change_a_shared_group(chooser: ChatService,
                                                 openai_fake: FakeOpenAI) -> None:
    async with fake_telegram() as tg, telegram_bot(tg, chooser, TELEGRAM_SHARED_GROUPS="true"):
        tg.members[(GROUP["id"], ALICE["id"])] = "administrator"
        await say(tg, GROUP, BOB, "/model smart", refusal("model"))
        await say(tg, GROUP, BOB, "/persona", "This conversation's persona is default.")
        message, buttons = keyboard(tg, GROUP)
        query = await press(tg, BOB, message, buttons["pirate"])
        assert alert(tg, query) == refusal("persona")
        assert (await chooser.choice(SHARED)).persona == "default"
        query = await press(tg, ALICE, message, buttons["pirate"])  # another member's buttons
        await wait_for(lambda: any(p["text"] == "From now on this conversation uses the "
                                   "persona pirate." for p in tg.called("editMessageText")))
        await say(tg, GROUP, ALICE, "/model smart", "uses the model smart.")
        await say(tg, GROUP, BOB, "@switchboard_test_bot arr?", "echo: arr?")
        assert openai_fake.requests[-1]["model"] == "smart-model"
        assert "talks like a pirate" in system_prompt(openai_fake)
        assert {c["user_id"] for c in tg.called("getChatMember")} == {11, 22}
        tg.members[(GROUP["id"], BOB["id"])] = "creator"
        await say(tg, GROUP, BOB, "/model fast", "uses the model fast.")
        tg.fail("getChatMember", 400, "Bad Request: chat not found")
        await say(tg, GROUP, BOB, "/model smart", "Something went wrong on my side")
        assert (await chooser.choice(SHARED)).model == "fast"


async def test_a_slow_check_has_the_press_answered_in_time(
        chooser: ChatService, monkeypatch: pytest.MonkeyPatch) -> None:
    # Who may change the group is asked of Telegram, slower than Telegram keeps a press: the
    # press is answered first, and what follows is said in the chat (or replaces the answer).
    monkeypatch.setattr(answers, "ANSWER_PRESS_WITHIN", 0.1)
    async with fake_telegram() as tg, telegram_bot(tg, chooser, TELEGRAM_SHARED_GROUPS="true"):
        tg.members[(GROUP["id"], ALICE["id"])] = "administrator"
        await say(tg, GROUP, ALICE, "/persona", "This conversation's persona is default.")
        message, buttons = keyboard(tg, GROUP)
        tg.query_ttl, tg.delays["getChatMember"] = 0.5, 1.0
        for who in (BOB, ALICE):
            query = await press(tg, who, message, buttons["pirate"])
            assert "text" not in next(a for a in tg.called("answerCallbackQuery")
                                      if a["callback_query_id"] == query)
        await wait_for(lambda: refusal("persona") in shown(tg, GROUP["id"]))
        await wait_for(lambda: any(
            p["text"] == "From now on this conversation uses the persona pirate."
            for p in tg.called("editMessageText")))
    assert not [c for c in tg.refused if c.method == "answerCallbackQuery"]
    assert (await chooser.choice(SHARED)).persona == "pirate"


async def test_a_list_longer_than_a_message_is_cut_to_one(
        make_presets: Callable[[str], Awaitable[ChatService]]) -> None:
    service = await make_presets(MANY)
    alice = chat_of(ALICE)
    async with fake_telegram() as tg, telegram_bot(tg, service):
        await say(tg, alice, ALICE, "/model", SHOWN)
        message, buttons = keyboard(tg, alice)
    assert utf16_len(message["text"]) <= 4096 and message["text"].endswith("…")
    assert len(buttons) == 41, "every choice is still a button"
    assert not tg.refused

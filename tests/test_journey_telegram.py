"""A new user's journey on Telegram, end to end: real PTB against the fake Bot API, the core built
from a configuration file (two presets, a persona, the test MCP server), the real ChatOpenAI
against the fake OpenAI. They pick a model and a persona from buttons, ask a question the model
answers with the docs tool, watch the tool's status in the draft, and regenerate the answer."""

from __future__ import annotations

from core.keys import SessionKey, UserKey
from tests import test_telegram_choices as choices
from tests import test_telegram_regen as regen
from tests.fakes.common import wait_for
from tests.fakes.telegram_api import FakeTelegram, chat_of, fake_telegram, shown, telegram_bot, user
from tests.journey import AGAIN, ANSWER, QUESTION, STATUS, Journey, journey

__all__ = ["journey"]
ALICE = user(11, "Alice")
CHAT = chat_of(ALICE)
PRIVATE = SessionKey.direct(UserKey.of("telegram", ALICE["id"]))


async def choose(tg: FakeTelegram, kind: str, name: str) -> None:
    """Ask for the list, then press the button of `name` under it."""
    await choices.say(tg, CHAT, ALICE, f"/{kind}", f"This conversation's {kind} is default.")
    message, buttons = choices.keyboard(tg, CHAT)
    assert name in buttons, "the file's names are offered"
    await choices.press(tg, ALICE, message, buttons[name])
    await wait_for(lambda: any(p["text"] == f"From now on this conversation uses the {kind} "
                               f"{name}." for p in tg.called("editMessageText")))


def status_drafted(tg: FakeTelegram) -> bool:
    """A draft shows the status line, in italics (an entity over it, not underscores)."""
    for draft in tg.drafts:
        if STATUS in draft.text and "_" not in draft.text:
            start = draft.text.index(STATUS)
            if any(e["type"] == "italic" and e["offset"] <= start for e in draft.entities):
                return True
    return False


async def test_a_new_user_chooses_asks_with_a_tool_and_regenerates(journey: Journey) -> None:
    async with fake_telegram() as tg, telegram_bot(tg, journey.service):
        await choose(tg, "model", "smart")
        await choose(tg, "persona", "pirate")
        journey.ask()
        await tg.send_text(CHAT, ALICE, QUESTION)
        await wait_for(lambda: status_drafted(tg))  # the lookup is held open meanwhile
        assert not regen.message_of(tg, CHAT, ANSWER)
        journey.open_gate()
        data = await wait_for(lambda: regen.button_on(tg, CHAT, ANSWER))
        journey.check_answered()
        assert shown(tg, CHAT["id"])[-1] == ANSWER, "the status line went with the tool"
        await regen.press(tg, ALICE, CHAT, ANSWER, data)
        await wait_for(lambda: regen.button_on(tg, CHAT, AGAIN))
        await journey.check_regenerated(PRIVATE)


async def test_a_regenerated_answer_shows_its_tool_too(journey: Journey) -> None:
    journey.open_gate()
    async with fake_telegram() as tg, telegram_bot(tg, journey.service):
        await tg.send_text(CHAT, ALICE, QUESTION)
        data = await wait_for(lambda: regen.button_on(tg, CHAT, ANSWER))
        assert status_drafted(tg)
        tg.drafts.clear()
        journey.close_gate()
        try:
            await regen.press(tg, ALICE, CHAT, ANSWER, data)
            await wait_for(lambda: status_drafted(tg))
        finally:
            journey.open_gate()
        await wait_for(lambda: regen.button_on(tg, CHAT, AGAIN))

"""The Regenerate button on Discord, end to end: real discord.py, the fake API, real ChatOpenAI."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.regenerate import NOT_YOURS
from core.errors import NotLastAnswer
from core.keys import SessionKey, UserKey
from core.service import ChatService
from tests.fakes.common import wait_for
from tests.fakes.discord_api import CHANNEL, GUILD, FakeDiscord, fake_discord
from tests.fakes.openai_server import FakeOpenAI
from tests.test_discord import ALICE, BOB, DM_ALICE, callbacks, no_pings, running

MINE = SessionKey.channel_member("discord", GUILD, CHANNEL, user=UserKey.of("discord", 4001))
EPHEMERAL = 64


@pytest.fixture
async def discord_api() -> AsyncIterator[FakeDiscord]:
    async with fake_discord() as fake:
        yield fake


def numbered(fake: FakeOpenAI) -> None:
    def answer(body: dict[str, Any]) -> str:
        return f"take {len(fake.requests)}"
    fake.answer = answer


def answers(api: FakeDiscord, channel: int = CHANNEL) -> list[dict[str, Any]]:
    return api.sent(channel)


def button(api: FakeDiscord, message: dict[str, Any]) -> str:
    [custom_id] = api.buttons(int(message["id"]))
    return custom_id


async def asked(api: FakeDiscord, text: str, count: int, channel: int = CHANNEL) -> int:
    """Ask in `channel` and wait until the answer carries its button; the question's id."""
    guild = channel == CHANNEL
    qid = await api.say(ALICE, text, mention=guild, channel=channel, guild=guild)
    await wait_for(lambda: len(answers(api, channel)) == count
                   and bool(api.buttons(int(answers(api, channel)[-1]["id"]))))
    return qid


def followups(api: FakeDiscord) -> list[dict[str, Any]]:
    return [c.body for c in api.requests("POST", "/webhooks/")]


async def test_a_press_answers_again_in_place_of_the_answer(
        discord_api: FakeDiscord, llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    numbered(openai_fake)
    async with running(discord_api, llm_service) as api:
        qid = await asked(api, "name a colour @everyone", 1)
        first = answers(api)[0]
        assert first["content"] == "take 1"
        pressed = button(api, first)
        assert pressed.startswith(f"re:{qid}:4001:")
        iid = await api.press(int(first["id"]), pressed, ALICE)
        await wait_for(lambda: len(answers(api)) == 2 and bool(api.buttons(
            int(answers(api)[1]["id"]))))
        await wait_for(lambda: not api.buttons(int(first["id"])))
    assert callbacks(api, iid) == [{"type": 6}]  # deferred at once, nothing shown
    new = answers(api)[1]
    assert new["content"] == "take 2" and button(api, new) != pressed
    created = api.requests("POST", f"/channels/{CHANNEL}/messages")
    assert created[-1].body["message_reference"]["message_id"] == qid
    assert no_pings(created) and no_pings(api.requests("PATCH", "/messages/"))
    assert [m.text for m in await llm_service.history(MINE)][-1] == "take 2"
    assert len(await llm_service.history(MINE)) == 2


async def test_the_same_button_pressed_twice_is_answered_once(
        discord_api: FakeDiscord, llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    numbered(openai_fake)
    async with running(discord_api, llm_service) as api:
        await asked(api, "hello", 1, channel=DM_ALICE)
        first = answers(api, DM_ALICE)[0]
        pressed = button(api, first)
        await api.press(int(first["id"]), pressed, ALICE, guild=False)
        await api.press(int(first["id"]), pressed, ALICE, guild=False)
        await wait_for(lambda: len(answers(api, DM_ALICE)) == 2)
        await asyncio.sleep(0.3)
    assert len(openai_fake.requests) == 2
    assert len(answers(api, DM_ALICE)) == 2 and not followups(api)  # the second is silent
    dm = SessionKey.direct(UserKey.of("discord", 4001))
    assert [m.text for m in await llm_service.history(dm)] == ["hello", "take 2"]


async def test_an_older_answer_cannot_be_regenerated(
        discord_api: FakeDiscord, llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    numbered(openai_fake)
    async with running(discord_api, llm_service) as api:
        await asked(api, "one", 1)
        await asked(api, "two", 2)
        old = answers(api)[0]
        await api.press(int(old["id"]), button(api, old), ALICE)
        await wait_for(lambda: len(followups(api)) == 1)
        await wait_for(lambda: not api.buttons(int(old["id"])))  # it can never work again
    told = followups(api)[0]
    assert told["content"] == NotLastAnswer.user_message and told["flags"] == EPHEMERAL
    assert len(openai_fake.requests) == 2 and len(answers(api)) == 2
    assert [m.text for m in await llm_service.history(MINE)][-1] == "take 2"


async def test_only_the_asker_may_press(
        discord_api: FakeDiscord, llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    numbered(openai_fake)
    async with running(discord_api, llm_service) as api:
        await asked(api, "mine", 1)
        first = answers(api)[0]
        iid = await api.press(int(first["id"]), button(api, first), BOB)
        await wait_for(lambda: bool(followups(api)))
        await asyncio.sleep(0.2)
    assert callbacks(api, iid) == [{"type": 6}]  # deferred at once; Bob alone is told why
    [refusal] = followups(api)
    assert refusal["content"] == NOT_YOURS and refusal["flags"] == EPHEMERAL
    assert len(openai_fake.requests) == 1 and len(answers(api)) == 1
    assert api.buttons(int(first["id"]))  # still there for the asker


async def test_a_button_still_works_after_a_restart(
        discord_api: FakeDiscord, llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    numbered(openai_fake)
    async with running(discord_api, llm_service) as api:
        await asked(api, "hello", 1, channel=DM_ALICE)
    first = answers(discord_api, DM_ALICE)[0]
    async with running(discord_api, llm_service) as api:  # a new process: no view in memory
        await api.press(int(first["id"]), button(api, first), ALICE, guild=False)
        await wait_for(lambda: len(answers(api, DM_ALICE)) == 2)
    assert answers(discord_api, DM_ALICE)[1]["content"] == "take 2"

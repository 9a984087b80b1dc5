"""Golden answers through real discord.py: the fake receives exactly `render.discord`'s output."""

from __future__ import annotations

import pytest

from adapters import render
from core.service import ChatService
from tests.fakes.common import wait_for
from tests.fakes.discord_api import CHANNEL, fake_discord, user
from tests.fakes.openai_server import FakeOpenAI
from tests.golden import GOLDEN
from tests.test_discord import running


@pytest.mark.parametrize("name", GOLDEN)
async def test_discord_receives_the_rendered_answer(name: str, llm_service: ChatService,
                                                    openai_fake: FakeOpenAI) -> None:
    markdown = GOLDEN[name]
    openai_fake.answer = lambda body: markdown
    expected = render.discord(markdown)
    async with fake_discord() as api, running(api, llm_service):
        await api.say(user(4001, "alice"), "show me", mention=True)
        await wait_for(lambda: api.texts(CHANNEL) == expected)
    last = api.requests("POST", f"/channels/{CHANNEL}/messages")[-1]
    assert last.body["allowed_mentions"] == {"parse": []}

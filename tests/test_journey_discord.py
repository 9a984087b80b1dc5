"""A new user's journey on Discord, end to end: real discord.py against the fake API, the core
built from a configuration file (two presets, a persona, the test MCP server), the real
ChatOpenAI against the fake OpenAI. In a DM they find a model and a persona by autocomplete and
choose them by slash command, ask a question the model answers with the docs tool, watch the
tool's status in the streamed message, and press Regenerate."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.keys import SessionKey, UserKey
from tests.fakes.common import wait_for
from tests.fakes.discord_api import FakeDiscord, fake_discord
from tests.journey import AGAIN, ANSWER, QUESTION, STATUS, Journey, journey
from tests.test_discord import ALICE, DM_ALICE, callbacks, running
from tests.test_discord_choices import answered, suggested

__all__ = ["journey"]
DM = SessionKey.direct(UserKey.of("discord", ALICE["id"]))
HERE: dict[str, Any] = {"channel": DM_ALICE, "guild": False}


@pytest.fixture
async def discord_api() -> AsyncIterator[FakeDiscord]:
    async with fake_discord() as fake:
        yield fake


async def choose(api: FakeDiscord, kind: str, name: str, count: int) -> None:
    """Type the command, see `name` offered, and run it with that name."""
    iid = await api.autocomplete(kind, ALICE, "name", name[:2], **HERE)
    await wait_for(lambda: callbacks(api, iid))
    assert suggested(api, iid) == [name], "the file's names are offered as one types"
    said = await answered(api, kind, ALICE, count, options={"name": name}, **HERE)
    assert said == f"From now on this conversation uses the {kind} {name}."


def answer_message(api: FakeDiscord, text: str) -> dict[str, object] | None:
    return next((m for m in api.sent(DM_ALICE) if m["content"] == text), None)


async def test_a_new_user_chooses_asks_with_a_tool_and_regenerates(
        discord_api: FakeDiscord, journey: Journey) -> None:
    async with running(discord_api, journey.service) as api:
        await choose(api, "model", "smart", 1)
        await choose(api, "persona", "pirate", 2)
        journey.ask()
        await api.say(ALICE, QUESTION, **HERE)
        # The streamed message says, in italics, which tool runs (the lookup is held open).
        await wait_for(lambda: api.texts(DM_ALICE) == [f"*{STATUS}*"])
        journey.open_gate()
        first = await wait_for(lambda: answer_message(api, ANSWER))
        await wait_for(lambda: api.buttons(int(str(first["id"]))))
        journey.check_answered()
        assert api.texts(DM_ALICE) == [ANSWER], "the status line went with the tool"
        [pressed] = api.buttons(int(str(first["id"])))
        await api.press(int(str(first["id"])), pressed, ALICE, guild=False)
        again = await wait_for(lambda: answer_message(api, AGAIN))
        await wait_for(lambda: api.buttons(int(str(again["id"]))))
        await journey.check_regenerated(DM)

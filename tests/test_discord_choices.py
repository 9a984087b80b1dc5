"""/model and /persona on Discord end to end: real discord.py, the fake API, the real ChatOpenAI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from adapters import commands
from adapters.commands import NAME_HELP
from adapters.discord_bot.commands import STYLE
from core.keys import SessionKey, UserKey
from core.service import ChatService
from tests.fakes.common import wait_for
from tests.fakes.discord_api import (
    CHANNEL,
    GUILD,
    MANAGE_MESSAGES,
    SHARED,
    THREAD,
    FakeDiscord,
    fake_discord,
)
from tests.fakes.openai_server import FakeOpenAI
from tests.test_discord import ALICE, BOB, DM_ALICE, callbacks, running
from tests.test_discord_commands import DEFERRED, followups
from tests.test_presets import FILE

# The fake guild may use the `fast` preset only (not even `default`); DMs may use every one.
GUILD_RULE = f'[platforms."discord:{GUILD}"]\nmodels = ["fast"]\n'
ALICE_DM = SessionKey.direct(UserKey.of("discord", 4001))
SHARED_KEY = SessionKey.channel("discord", GUILD, SHARED)
PIRATE = "You are a helpful assistant who talks like a pirate."


@pytest.fixture
async def discord_api() -> AsyncIterator[FakeDiscord]:
    async with fake_discord() as fake:
        yield fake


@pytest.fixture
async def presets(make_presets: Callable[[str], Awaitable[ChatService]]) -> ChatService:
    """The core with the presets and personas of `tests.test_presets.FILE`, and a guild rule."""
    return await make_presets(FILE + GUILD_RULE)

def suggested(api: FakeDiscord, iid: int) -> list[str]:
    """The values the bot offered in its autocomplete answer."""
    [answer] = callbacks(api, iid)
    assert answer["type"] == 8  # APPLICATION_COMMAND_AUTOCOMPLETE_RESULT
    return [c["value"] for c in answer["data"]["choices"]]


async def answered(api: FakeDiscord, name: str, who: dict[str, Any], count: int,
                   **kwargs: Any) -> str:
    """Run a command that defers, and return its private follow-up (the `count`th one)."""
    iid = await api.command(name, who, **kwargs)
    await wait_for(lambda: len(followups(api)) >= count)
    assert callbacks(api, iid) == [DEFERRED]
    last = followups(api)[count - 1]
    assert last["flags"] == 64 and last["allowed_mentions"] == {"parse": []}
    return str(last["content"])


async def test_the_commands_are_synced_with_an_optional_autocompleted_name(
        discord_api: FakeDiscord, presets: ChatService) -> None:
    async with running(discord_api, presets) as api:
        iid = await api.command("help", BOB)
        await wait_for(lambda: callbacks(api, iid))
    synced = {c["name"]: c for c in api.requests("PUT", "/commands")[0].body}
    assert sorted(synced) == ["export", "forget", "help", "link", "model", "persona", "reset",
                              "unlink", "usage", "whoami"]
    for kind in ("model", "persona"):
        [option] = synced[kind]["options"]
        assert (option["name"], option["type"], option["autocomplete"]) == ("name", 3, True)
        assert option["max_length"] == 100
        assert not option.get("required") and option["description"] == NAME_HELP
    said = callbacks(api, iid)[0]["data"]["content"]
    assert "/model" in said and "/persona" in said


async def test_autocomplete_offers_what_this_conversation_may_choose(
        discord_api: FakeDiscord, presets: ChatService) -> None:
    async with running(discord_api, presets) as api:
        asked = [await api.autocomplete("model", ALICE, "name", "", channel=DM_ALICE,
                                        guild=False),
                 await api.autocomplete("model", ALICE, "name", "SM", channel=DM_ALICE,
                                        guild=False),
                 await api.autocomplete("model", ALICE, "name", ""),  # the guild's rule
                 await api.autocomplete("persona", ALICE, "name", "", channel=SHARED)]
        await wait_for(lambda: all(callbacks(api, i) for i in asked))
    assert [suggested(api, i) for i in asked] == [
        ["default", "fast", "smart"], ["smart"], ["fast"], ["default", "pirate"]]
    names = [c["name"] for c in callbacks(api, asked[0])[0]["data"]["choices"]]
    assert names[1] == "fast: Quick answers"
    assert not followups(api), "autocomplete changes nothing"


async def test_model_alone_shows_the_current_one_and_the_others(
        discord_api: FakeDiscord, presets: ChatService) -> None:
    async with running(discord_api, presets) as api:
        said = await answered(api, "model", ALICE, 1, channel=DM_ALICE, guild=False)
    assert said.startswith("This conversation's model is default.")
    assert "• fast: Quick answers" in said and "• smart: smart-model" in said


async def test_choosing_in_a_dm_changes_the_next_answers(
        discord_api: FakeDiscord, presets: ChatService, openai_fake: FakeOpenAI) -> None:
    dm: dict[str, Any] = {"channel": DM_ALICE, "guild": False}
    async with running(discord_api, presets) as api:
        chose_model = await answered(api, "model", ALICE, 1, options={"name": "smart"}, **dm)
        chose_persona = await answered(api, "persona", ALICE, 2, options={"name": "pirate"},
                                       **dm)
        await api.say(ALICE, "ahoy?", channel=DM_ALICE, guild=False)
        await wait_for(lambda: api.texts(DM_ALICE) == ["echo: ahoy?"])
        shown = await answered(api, "persona", ALICE, 3, **dm)
    assert chose_model == "From now on this conversation uses the model smart."
    assert chose_persona == "From now on this conversation uses the persona pirate."
    request = openai_fake.requests[-1]
    assert request["model"] == "smart-model"
    assert request["messages"][0]["content"].startswith(PIRATE)
    assert shown.startswith("This conversation's persona is pirate.")
    chosen = await presets.choice(ALICE_DM)
    assert (chosen.model, chosen.persona) == ("smart", "pirate")


async def test_an_unknown_name_says_what_may_be_chosen(
        discord_api: FakeDiscord, presets: ChatService) -> None:
    async with running(discord_api, presets) as api:
        in_dm = await answered(api, "model", ALICE, 1, channel=DM_ALICE, guild=False,
                               options={"name": "gpt-5-ultra"})
        in_guild = await answered(api, "model", ALICE, 2, options={"name": "smart"})
    assert in_dm == "There is no model called “gpt-5-ultra” here. Choose one of: " \
                    "default, fast, smart."
    assert in_guild == "There is no model called “smart” here. Choose one of: fast."
    assert (await presets.choice(ALICE_DM)).model == "default"


async def test_a_shared_conversation_is_changed_by_moderators_only(
        discord_api: FakeDiscord, presets: ChatService) -> None:
    pirate = {"name": "pirate"}
    async with running(discord_api, presets, DISCORD_SHARED_CHANNELS=f"{SHARED}") as api:
        refused = [await api.command("persona", BOB, channel=c, options=pirate)
                   for c in (SHARED, THREAD)]
        await wait_for(lambda: all(callbacks(api, i) for i in refused))
        assert (await presets.choice(SHARED_KEY)).persona == "default"
        looked = await answered(api, "persona", BOB, 1, channel=SHARED)  # looking is fine
        own = await answered(api, "persona", BOB, 2, channel=CHANNEL, options=pirate)
        done = await answered(api, "persona", BOB, 3, channel=SHARED, options=pirate,
                              permissions=MANAGE_MESSAGES)
    for iid in refused:  # answered at once, privately, with the reason
        [answer] = callbacks(api, iid)
        assert answer["type"] == 4 and answer["data"]["flags"] == 64
        assert answer["data"]["content"] == commands.refusal("persona", STYLE.who)
    assert looked.startswith("This conversation's persona is default.")
    assert own == done == "From now on this conversation uses the persona pirate."
    assert (await presets.choice(SHARED_KEY)).persona == "pirate"
    thread = SessionKey.thread("discord", GUILD, THREAD)
    assert (await presets.choice(thread)).persona == "default"
    bobs = SessionKey.channel_member("discord", GUILD, CHANNEL, user=UserKey.of("discord", 4002))
    assert (await presets.choice(bobs)).persona == "pirate"


# Forty presets, each described at length: their list is longer than one message takes.
MANY = "".join(f'[models.m{i:02}]\nmodel = "m{i:02}-model"\n'
               f'description = "{"a careful and thorough model " * 6}{i}"\n' for i in range(40))


async def test_a_list_longer_than_a_message_is_cut_to_one(
        discord_api: FakeDiscord, make_presets: Callable[[str], Awaitable[ChatService]]) -> None:
    service = await make_presets(MANY)
    async with running(discord_api, service) as api:
        said = await answered(api, "model", ALICE, 1, channel=DM_ALICE, guild=False)
    assert said.startswith("This conversation's model is default.") and "• m00: " in said
    assert len(said) <= STYLE.limit == 2000 and said.endswith("…")

"""The Discord adapter end to end: real discord.py against the fake API and gateway, real Redis."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from adapters import render
from adapters.discord_bot.gateway import run
from adapters.discord_bot.settings import DiscordSettings
from core.keys import SessionKey
from core.service import ChatService
from tests.fakes.common import wait_for
from tests.fakes.discord_api import (
    BOT_USER,
    CHANNEL,
    GUILD,
    SHARED,
    THREAD,
    TOKEN,
    Call,
    FakeDiscord,
    fake_discord,
    user,
)
from tests.fakes.openai_server import FakeOpenAI

ALICE, BOB = user(4001, "alice"), user(4002, "bob")
DM_ALICE, DM_BOB = 5001, 5002
Bot = Callable[..., contextlib.AbstractAsyncContextManager[FakeDiscord]]


def prompts(openai: FakeOpenAI) -> list[str]:
    """The user-visible text of every prompt the model received, one string per call."""
    return [" | ".join(str(m.get("content")) for m in body["messages"])
            for body in openai.requests]


def bot_settings(api: FakeDiscord, **env: Any) -> DiscordSettings:
    values = {"DISCORD_BOT_TOKEN": TOKEN, "DISCORD_API_URL": f"{api.base}/api/v10",
              "DISCORD_GATEWAY_URL": api.gateway_url,
              "DISCORD_EDIT_INTERVAL": "0.05", "DISCORD_GUILD_READY_TIMEOUT": "0.05"}
    return DiscordSettings(**(values | env))


async def start(api: FakeDiscord, service: ChatService, **env: Any
                ) -> tuple[asyncio.Task[None], asyncio.Event]:
    """A bot process connected to `api`: its task and the event that stops it."""
    stop, before = asyncio.Event(), len(api.identifies)
    task = asyncio.create_task(run(service, bot_settings(api, **env), stop))
    await wait_for(lambda: len(api.identifies) > before or task.done())
    await asyncio.sleep(0.15)  # READY, guild_ready_timeout, then on_ready
    if task.done():
        task.result()
    return task, stop


@contextlib.asynccontextmanager
async def running(api: FakeDiscord, service: ChatService, **env: Any
                  ) -> AsyncIterator[FakeDiscord]:
    task, stop = await start(api, service, **env)
    try:
        yield api
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


def callbacks(api: FakeDiscord, iid: int) -> list[dict[str, Any]]:
    """The bodies of the interaction callbacks sent for one interaction."""
    return [c.body for c in api.requests("POST", f"/interactions/{iid}/")]


def no_pings(calls: list[Call]) -> bool:
    return bool(calls) and all(c.body["allowed_mentions"] == {"parse": []} for c in calls)


@pytest.fixture
async def discord_api() -> AsyncIterator[FakeDiscord]:
    async with fake_discord() as fake:
        yield fake


@pytest.fixture
def bot(discord_api: FakeDiscord, llm_service: ChatService) -> Bot:
    return lambda service=None, **env: running(discord_api, service or llm_service, **env)


async def test_dm_remembers_the_conversation(bot: Bot, openai_fake: FakeOpenAI) -> None:
    async with bot() as api:
        await api.say(ALICE, "my name is Ann", channel=DM_ALICE, guild=False)
        await wait_for(lambda: api.texts(DM_ALICE) == ["echo: my name is Ann"])
        await api.say(ALICE, "what is my name?", channel=DM_ALICE, guild=False)
        await wait_for(lambda: len(api.texts(DM_ALICE)) == 2)
    assert api.texts(DM_ALICE)[1] == "echo: what is my name?"
    assert "my name is Ann" in prompts(openai_fake)[1]
    assert api.requests("POST", f"/channels/{DM_ALICE}/typing")
    assert "message_reference" not in api.requests("POST", f"/channels/{DM_ALICE}/messages")[0].body


async def test_two_users_are_isolated(bot: Bot, openai_fake: FakeOpenAI) -> None:
    async with bot() as api:
        await api.say(ALICE, "alice secret", mention=True)
        await wait_for(lambda: len(api.texts(CHANNEL)) == 1)
        await api.say(BOB, "hello", mention=True)
        await wait_for(lambda: len(api.texts(CHANNEL)) == 2)
        await api.say(BOB, "dm", channel=DM_BOB, guild=False)
        await wait_for(lambda: len(api.texts(DM_BOB)) == 1)
    assert "alice secret" not in prompts(openai_fake)[1]
    assert "alice secret" not in prompts(openai_fake)[2]


async def test_guild_message_needs_a_mention_or_a_reply(bot: Bot,
                                                         openai_fake: FakeOpenAI) -> None:
    async with bot() as api:
        await api.say(ALICE, "just chatting")
        mid = await api.say(ALICE, "hi bot", mention=True)
        await wait_for(lambda: api.texts(CHANNEL) == ["echo: hi bot"])
        sent = api.requests("POST", f"/channels/{CHANNEL}/messages")[0].body
        assert sent["message_reference"]["message_id"] == mid
        await api.say(ALICE, "and more", reply_to=int(api.sent(CHANNEL)[0]["id"]))
        await wait_for(lambda: len(api.texts(CHANNEL)) == 2)
    assert api.texts(CHANNEL)[1] == "echo: and more"
    assert len(openai_fake.requests) == 2  # "just chatting" never reached the model


async def test_bots_including_itself_are_ignored(bot: Bot, openai_fake: FakeOpenAI) -> None:
    async with bot() as api:
        await api.say(user(4009, "otherbot", bot=True), "hi", mention=True)
        await api.say(BOT_USER, "talking to myself", mention=True)
        await api.say(ALICE, "human", mention=True)
        await wait_for(lambda: len(api.texts(CHANNEL)) == 1)
    assert api.texts(CHANNEL) == ["echo: human"]
    assert len(openai_fake.requests) == 1


async def test_guild_allowlist(bot: Bot, openai_fake: FakeOpenAI) -> None:
    async with bot(DISCORD_ALLOWED_GUILDS="1234") as api:
        await api.say(ALICE, "not here", mention=True)
        iid = await api.command("reset", ALICE)
        await api.say(ALICE, "dm is fine", channel=DM_ALICE, guild=False)
        await wait_for(lambda: len(api.texts(DM_ALICE)) == 1 and callbacks(api, iid))
    assert api.texts(CHANNEL) == [] and len(openai_fake.requests) == 1
    assert callbacks(api, iid)[0]["data"]["content"] == "I'm not enabled in this place."


async def test_shared_channel_is_one_conversation(bot: Bot, openai_fake: FakeOpenAI,
                                                  llm_service: ChatService) -> None:
    async with bot(DISCORD_SHARED_CHANNELS=f"{SHARED}") as api:
        await api.say(ALICE, "the plan is blue", channel=SHARED, mention=True)
        await wait_for(lambda: len(api.texts(SHARED)) == 1)
        await api.say(BOB, "what is the plan?", channel=SHARED, mention=True)
        await wait_for(lambda: len(api.texts(SHARED)) == 2)
    assert "the plan is blue" in prompts(openai_fake)[1]
    assert len(await llm_service.history(SessionKey.channel("discord", GUILD, SHARED))) == 4


async def test_a_thread_is_its_own_conversation(bot: Bot, openai_fake: FakeOpenAI,
                                                llm_service: ChatService) -> None:
    async with bot() as api:
        await api.say(ALICE, "in the channel", mention=True)
        await wait_for(lambda: len(api.texts(CHANNEL)) == 1)
        await api.say(ALICE, "in the thread", channel=THREAD, mention=True)
        await wait_for(lambda: len(api.texts(THREAD)) == 1)
    assert "in the channel" not in prompts(openai_fake)[1]
    thread = await llm_service.history(SessionKey.thread("discord", GUILD, THREAD))
    assert [m.text for m in thread] == ["in the thread", "echo: in the thread"]


async def test_long_answer_is_split_balanced_and_complete(bot: Bot,
                                                          openai_fake: FakeOpenAI) -> None:
    code = "```python\n" + "\n".join(f"print({i})" for i in range(150)) + "\n```"
    paragraphs = [f"Paragraph {i}. " + "words " * 70 for i in range(10)]
    answer = "\n\n".join([*paragraphs[:5], code, *paragraphs[5:]])
    assert len(answer) > 5000
    openai_fake.answer = lambda body: answer
    async with bot() as api:
        await api.say(ALICE, "write a lot", mention=True)
        await wait_for(lambda: api.texts(CHANNEL) == render.discord(answer), timeout=15)
    texts = api.texts(CHANNEL)
    # Nothing lost: the paragraphs and every code line are there, each message whole.
    assert [p.strip() for t in texts for p in t.split("\n\n") if "Paragraph" in p] == \
        [p.strip() for p in paragraphs]
    assert "\n".join(texts).count("print(") == 150
    assert len(texts) >= 3 and all(len(t) <= 2000 for t in texts)
    assert all(t.count("```") % 2 == 0 for t in texts)
    assert api.requests("PATCH", f"/channels/{CHANNEL}/messages/")  # it streamed by editing
    assert no_pings(api.requests("POST", "/messages") + api.requests("PATCH", "/messages"))


async def test_everyone_never_pings(bot: Bot) -> None:
    async with bot() as api:
        await api.say(ALICE, "@everyone <@4002> look", mention=True)
        await wait_for(lambda: api.texts(CHANNEL) == render.discord("echo: @everyone <@4002> look"))
    [text] = api.texts(CHANNEL)
    assert "@everyone" not in text and "<@4002>" not in text and "everyone" in text
    assert no_pings(api.requests("POST", "/messages") + api.requests("PATCH", "/messages"))


async def test_rate_limited_user_gets_a_notice_and_no_model_call(
        bot: Bot, openai_fake: FakeOpenAI,
        make_llm_service: Callable[..., Awaitable[ChatService]]) -> None:
    limited = await make_llm_service(SWITCHBOARD_RATE_LIMIT="1/minute")
    async with bot(limited) as api:
        await api.say(ALICE, "first", mention=True)
        await wait_for(lambda: len(api.texts(CHANNEL)) == 1)
        await api.say(ALICE, "second", mention=True)
        await wait_for(lambda: len(api.texts(CHANNEL)) == 2)
    assert api.texts(CHANNEL)[1].startswith("You're sending messages a bit fast")
    assert len(openai_fake.requests) == 1
    assert no_pings(api.requests("POST", "/messages"))  # the notice too


async def test_a_failed_model_call_is_explained_in_a_reply(bot: Bot,
                                                           openai_fake: FakeOpenAI) -> None:
    openai_fake.fail_next(500, times=10)
    async with bot() as api:
        await api.say(ALICE, "hello?", mention=True)
        await wait_for(lambda: len(api.texts(CHANNEL)) == 1, timeout=15)
    assert api.texts(CHANNEL) == ["The language model didn't answer. Please try again in a minute."]
    assert "message_reference" in api.requests("POST", f"/channels/{CHANNEL}/messages")[0].body

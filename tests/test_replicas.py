"""Two `switchboard run` processes on one Redis: every message answered once, in order per
conversation, under one rate limit (Slack in Socket Mode; Discord as two shards of one bot)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import pytest

from tests.bot_process import BotProcess
from tests.fakes import discord_api
from tests.fakes.common import wait_for
from tests.fakes.discord_api import CHANNEL, CHANNEL2, GUILD, GUILD2, FakeDiscord, fake_discord
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlack, fake_slack
from tests.test_crash_slack import APP_TOKEN, dm

USERS = ("U1", "U2", "U3")
_ts = itertools.count(1)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with fake_slack() as fake:
        yield fake


@pytest.fixture
def env(openai_fake: FakeOpenAI, redis_url: str, prefix: str, redis: object) -> dict[str, str]:
    return {"OPENAI_API_KEY": "sk-test-replica-key", "OPENAI_BASE_URL": openai_fake.base_url,
            "REDIS_URL": redis_url, "SWITCHBOARD_REDIS_PREFIX": prefix}


async def two_slack_bots(bots: list[BotProcess], slack: FakeSlack, env: dict[str, str]) -> None:
    for _ in range(2):
        slack.connected.clear()
        bot = BotProcess("slack", {**env, "SLACK_BOT_TOKEN": "xoxb-1-replicas",
                                   "SLACK_APP_TOKEN": APP_TOKEN,
                                   "SLACK_API_URL": f"{slack.url}/api/"})
        bots.append(bot)
        await bot.start()
        await asyncio.wait_for(slack.connected.wait(), 30)


def asked(openai: FakeOpenAI, text: str) -> bool:
    return any(text in str(body["messages"][-1]) for body in openai.requests)


async def converse(slack: FakeSlack, openai: FakeOpenAI, user: str, count: int) -> None:
    """Questions spread over both processes, each sent once the one before it is answering."""
    for i in range(count):
        text = f"{user} question {i}"
        await slack.push(f"env-{user}-{i}", dm(text, f"1710000000.{next(_ts):06d}", user),
                         socket=i % 2)
        await wait_for(lambda t=text: asked(openai, t), 30)  # type: ignore[misc]


async def test_slack_two_processes_answer_every_message_once_in_order(
        slack: FakeSlack, openai_fake: FakeOpenAI, env: dict[str, str],
        bots: list[BotProcess]) -> None:
    openai_fake.chunk_delay = 0.05  # answers overlap, and the next question waits for one
    await two_slack_bots(bots, slack, env)
    await asyncio.gather(*(converse(slack, openai_fake, user, 4) for user in USERS))
    want = {user: [f"echo: {user} question {i}" for i in range(4)] for user in USERS}
    await wait_for(lambda: all(list(slack.messages(f"D{u}").values()) == want[u]
                               for u in USERS), 30)
    await asyncio.sleep(1)  # nothing more comes
    assert {u: list(slack.messages(f"D{u}").values()) for u in USERS} == want
    assert len(openai_fake.requests) == 12


async def test_slack_two_processes_share_one_rate_limit(
        slack: FakeSlack, openai_fake: FakeOpenAI, env: dict[str, str],
        bots: list[BotProcess]) -> None:
    await two_slack_bots(bots, slack, {**env, "SWITCHBOARD_RATE_LIMIT": "3/minute"})
    for i in range(6):
        await slack.push(f"env-rate-{i}", dm(f"rated {i}", f"1710000001.{i:06d}"), socket=i % 2)
        await wait_for(lambda i=i: f"env-rate-{i}" in slack.acks, 10)  # type: ignore[misc]
    told = ("chat.postMessage", "chat.postEphemeral", "chat.startStream")

    def replies() -> list[str]:
        return [p.get("text") or p.get("markdown_text") or ""
                for name, p in slack.calls if name in told]
    await wait_for(lambda: len(replies()) >= 6, 30)
    await asyncio.sleep(1)
    assert len(openai_fake.requests) == 3  # three turns a minute, whichever process took them
    assert len(replies()) == 6  # and each of the other three was told why, once


@pytest.fixture
async def discord() -> AsyncIterator[FakeDiscord]:
    async with fake_discord() as fake:
        yield fake


async def two_shards(bots: list[BotProcess], api: FakeDiscord, env: dict[str, str]) -> None:
    """One bot as two processes, each running one of its two shards."""
    for shard in (0, 1):
        bot = BotProcess("discord", {**env, "DISCORD_BOT_TOKEN": discord_api.TOKEN,
                                     "DISCORD_API_URL": f"{api.base}/api/v10",
                                     "DISCORD_GATEWAY_URL": api.gateway_url,
                                     "DISCORD_GUILD_READY_TIMEOUT": "0.05",
                                     "DISCORD_SHARD_COUNT": "2",
                                     "DISCORD_SHARD_IDS": str(shard)})
        bots.append(bot)
        await bot.start()
        await wait_for(lambda b=bot: "discord: connected" in b.output(), 30)  # type: ignore[misc]
    assert sorted(i["shard"][0] for i in api.identifies) == [0, 1]


# Where each person talks: a guild on shard 0, a guild on shard 1, and a DM (shard 0).
PLACES = {"alice": (CHANNEL, GUILD), "bob": (CHANNEL2, GUILD2), "carol": (5001, None)}


async def talk(api: FakeDiscord, openai: FakeOpenAI, name: str, count: int) -> None:
    """Questions in one conversation, each sent once the one before it is answering."""
    person, (channel, guild) = discord_api.user(4100 + len(name), name), PLACES[name]
    for i in range(count):
        text = f"{name} question {i}"
        await api.say(person, text, channel=channel, guild=guild is not None,
                      mention=guild is not None, guild_id=guild or GUILD)
        await wait_for(lambda t=text: asked(openai, t), 30)  # type: ignore[misc]


async def test_discord_two_shards_answer_every_message_once_in_order(
        discord: FakeDiscord, openai_fake: FakeOpenAI, env: dict[str, str],
        bots: list[BotProcess]) -> None:
    openai_fake.chunk_delay = 0.05
    await two_shards(bots, discord, env)
    await asyncio.gather(*(talk(discord, openai_fake, name, 4) for name in PLACES))
    want = {name: [f"echo: {name} question {i}" for i in range(4)] for name in PLACES}

    def got() -> dict[str, list[str]]:
        return {name: discord.texts(channel) for name, (channel, _) in PLACES.items()}
    await wait_for(lambda: got() == want, 30)
    await asyncio.sleep(1)
    assert got() == want
    assert len(openai_fake.requests) == 12


async def test_discord_two_shards_share_one_rate_limit(
        discord: FakeDiscord, openai_fake: FakeOpenAI, env: dict[str, str],
        bots: list[BotProcess]) -> None:
    await two_shards(bots, discord, {**env, "SWITCHBOARD_RATE_LIMIT": "3/minute"})
    alice = discord_api.user(4001, "alice")
    for i in range(6):  # one person in two guilds, served by different processes
        channel, guild = (CHANNEL, GUILD) if i % 2 == 0 else (CHANNEL2, GUILD2)
        await discord.say(alice, f"rated {i}", channel=channel, mention=True, guild_id=guild)
        await asyncio.sleep(0.2)

    def replies() -> int:
        return len(discord.texts(CHANNEL)) + len(discord.texts(CHANNEL2))
    await wait_for(lambda: replies() >= 6, 30)
    await asyncio.sleep(1)
    assert len(openai_fake.requests) == 3  # three turns a minute for alice, on either shard
    assert replies() == 6  # and each of the other three was told why, once


async def test_slack_a_killed_process_event_is_answered_by_the_other_once(
        slack: FakeSlack, openai_fake: FakeOpenAI, env: dict[str, str],
        bots: list[BotProcess]) -> None:
    """No restart: the process still running claims what the killed one left."""
    openai_fake.hang_next(120)
    await two_slack_bots(bots, slack, {**env, "SWITCHBOARD_REPLAY_AFTER": "1"})
    await slack.push("env-orphan", dm("who answers me", "1710000002.000001"), socket=0)
    await wait_for(lambda: openai_fake.requests, 10)
    bots[0].kill()  # the first to connect has socket 0
    await bots[0].reap()
    openai_fake.unhang()
    await wait_for(lambda: list(slack.messages("DU1").values()), 45)  # after the lock expired
    await asyncio.sleep(2.5)  # two more replay rounds: nothing more comes
    assert list(slack.messages("DU1").values()) == ["echo: who answers me"]

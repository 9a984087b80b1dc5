"""Discord: a message the bot was answering when it was killed (SIGKILL) is answered once later.

Each test runs the real `switchboard run discord` as its own process against the fake Discord
and model servers, kills it with SIGKILL right after the message was kept in the inbox or
right after the model was called, starts it again (a new session: Discord sends nothing
again) and counts the answers in the channel.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from tests.bot_process import BotProcess
from tests.fakes import discord_api
from tests.fakes.common import wait_for
from tests.fakes.discord_api import CHANNEL, FakeDiscord, fake_discord
from tests.fakes.openai_server import FakeOpenAI

LOCK_EXPIRY = 45  # a killed turn's conversation lock expires after 30 s; the replay waits
ALICE = discord_api.user(4001, "alice")


@pytest.fixture
async def env(openai_fake: FakeOpenAI, redis_url: str, prefix: str,
              redis: Redis) -> dict[str, str]:
    return {"OPENAI_API_KEY": "sk-test-crash-key", "OPENAI_BASE_URL": openai_fake.base_url,
            "REDIS_URL": redis_url, "SWITCHBOARD_REDIS_PREFIX": prefix,
            "DISCORD_BOT_TOKEN": discord_api.TOKEN, "DISCORD_GUILD_READY_TIMEOUT": "0.05",
            "SWITCHBOARD_REPLAY_AFTER": "1"}


@pytest.fixture
async def discord() -> AsyncIterator[FakeDiscord]:
    async with fake_discord() as fake:
        yield fake


async def discord_bot(bots: list[BotProcess], api: FakeDiscord, env: dict[str, str],
                      **extra: str) -> BotProcess:
    """Start a bot process and wait until it is connected (READY and GUILD_CREATE handled)."""
    identified = len(api.identifies)
    bot = BotProcess("discord", {**env, "DISCORD_API_URL": f"{api.base}/api/v10",
                                 "DISCORD_GATEWAY_URL": api.gateway_url, **extra})
    bots.append(bot)
    await bot.start()
    await wait_for(lambda: len(api.identifies) > identified, 30)
    await wait_for(lambda: "discord: connected" in bot.output(), 10)
    return bot


async def kept(redis: Redis, inbox: str, message_id: str) -> None:
    for _ in range(500):
        if await redis.zscore(inbox, message_id) is not None:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the message never reached the inbox")


@pytest.mark.parametrize("kill_at", ["kept", "model call"])
async def test_a_message_is_answered_once_after_a_kill(
        kill_at: str, discord: FakeDiscord, openai_fake: FakeOpenAI, env: dict[str, str],
        bots: list[BotProcess], redis: Redis, prefix: str) -> None:
    openai_fake.hang_next(120)  # the first model call never ends: the kill comes first
    first = await discord_bot(bots, discord, env)
    mid = await discord.say(ALICE, "survive me", mention=True)
    if kill_at == "kept":
        await kept(redis, f"{prefix}{{in:discord}}:q", str(mid))
    else:
        await wait_for(lambda: openai_fake.requests, 10)
    first.kill()
    await first.reap()
    openai_fake.unhang()
    await discord_bot(bots, discord, env)  # a new session: Discord does not send it again
    await wait_for(lambda: discord.texts(CHANNEL), LOCK_EXPIRY)
    await asyncio.sleep(1.5)  # a second answer would come now (the replay runs every second)
    assert discord.texts(CHANNEL) == ["echo: survive me"], bots[-1].output()[-3000:]

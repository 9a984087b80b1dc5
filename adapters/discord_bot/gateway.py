"""Delivery guarantee: the gateway client's start-up (addresses, intents, shards) and stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from adapters.discord_bot.bot import DiscordBot
from adapters.discord_bot.inbox import DiscordInbox
from adapters.discord_bot.reply import NO_PINGS
from adapters.discord_bot.settings import DiscordSettings
from core.errors import ConfigError
from core.service import ChatService

log = logging.getLogger("switchboard.discord")
INTENT_HELP = ("Discord refused the Message Content intent for this token: enable 'Message "
               "Content Intent' under Bot → Privileged Gateway Intents in the Developer Portal")


def build_client(settings: DiscordSettings) -> discord.Client:
    """A `Client`, or an `AutoShardedClient` when sharding is configured."""
    intents = discord.Intents.default()
    intents.message_content = True  # privileged; refused with close code 4014 if not enabled
    intents.typing = intents.dm_typing = False  # other people typing is of no use here
    options: dict[str, Any] = {"intents": intents, "allowed_mentions": NO_PINGS,
                               "guild_ready_timeout": settings.guild_ready_timeout}
    if settings.shard_ids:
        options["shard_ids"] = list(settings.shard_ids)
    if settings.sharding:
        return discord.AutoShardedClient(shard_count=settings.shard_count, **options)
    return discord.Client(**options)


@contextlib.contextmanager
def addresses(settings: DiscordSettings) -> Iterator[None]:
    """Point discord.py at DISCORD_API_URL / DISCORD_GATEWAY_URL while the bot runs."""
    saved = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    # Class attributes read per request and per connect; set here, after any _set_api_version().
    if settings.api_url:
        Route.BASE = settings.api_url
    if settings.gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


async def run(service: ChatService, settings: DiscordSettings, stop: asyncio.Event,
              inbox: DiscordInbox | None = None) -> None:
    """Log in, sync the slash commands, serve until `stop` is set; bad setup is a `ConfigError`."""
    # At DEBUG these log every payload, message bodies included.
    for chatty in ("discord.http", "discord.gateway"):
        logging.getLogger(chatty).setLevel(max(logging.INFO, logging.getLogger(chatty).level))
    with addresses(settings):
        client = build_client(settings)
        bot = DiscordBot(service, settings, client, inbox=inbox)
        try:
            await _serve(client, bot, settings, stop)
        except discord.PrivilegedIntentsRequired:
            raise ConfigError("DISCORD_BOT_TOKEN", INTENT_HELP) from None
        except discord.LoginFailure:
            raise ConfigError("DISCORD_BOT_TOKEN", "Discord rejected this token; copy it again "
                              "from Bot → Reset Token in the Developer Portal") from None
        finally:
            await client.close()  # also after a failed start, or aiohttp warns of an open session


async def _serve(client: discord.Client, bot: DiscordBot, settings: DiscordSettings,
                 stop: asyncio.Event) -> None:
    await client.login(settings.token.get_secret_value())
    await _count_shards(client, settings)
    if settings.sync_commands:
        await bot.tree.sync()
    gateway = asyncio.create_task(client.connect())
    stopped = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({gateway, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if gateway.done():
            gateway.result()  # re-raises why the gateway ended
    finally:
        stopped.cancel()
        if not gateway.done():
            await bot.inflight.drain()
            await client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await gateway


async def _count_shards(client: discord.Client, settings: DiscordSettings) -> None:
    """With DISCORD_GATEWAY_URL, have `AutoShardedClient` connect there too.

    Without a shard count it takes the address from GET /gateway/bot instead; so ask for just
    the recommended count, and the shards use the overridden default gateway.
    """
    if (isinstance(client, discord.AutoShardedClient) and client.shard_count is None
            and settings.gateway_url):
        client.shard_count = (await client.http.get_bot_gateway())[0]

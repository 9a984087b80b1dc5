"""`switchboard run discord`: load the Discord settings and serve until asked to stop."""

from __future__ import annotations

import asyncio

from adapters.discord_bot.client import run
from adapters.discord_bot.settings import DiscordSettings
from core.service import ChatService
from core.settings import load


async def serve(service: ChatService, stop: asyncio.Event) -> None:
    await run(service, load(DiscordSettings), stop)

"""`switchboard run telegram`: the Telegram bot, by long polling or behind the HTTP webhook."""

from __future__ import annotations

import asyncio

from adapters.telegram import TelegramSettings, build_application, running, webhook_router
from adapters.telegram.app import TelegramApp
from adapters.telegram.inbox import RedisInbox
from bots.wiring import Serve, Wiring
from core.settings import load


def build(wiring: Wiring) -> Serve:
    """The bot, with the Redis inbox that keeps every update until it has been handled."""
    settings = load(TelegramSettings)
    inbox = RedisInbox(wiring.redis, wiring.settings.redis_prefix)
    wiring.service.add_eraser(inbox.erase_user)  # /forget also clears their pending updates
    app = build_application(wiring.service, settings, inbox=inbox)
    live: list[TelegramApp] = []  # the webhook answers 503 until the bot runs
    if settings.webhook_url and settings.webhook_secret is not None:
        wiring.routes.append(webhook_router(settings.webhook_secret,
                                            lambda: live[0] if live else None))

    async def serve(stop: asyncio.Event) -> None:
        async with running(app, settings):
            live.append(app)
            try:
                await stop.wait()
            finally:
                live.clear()
    return serve

"""`switchboard run telegram`: the Telegram bot, by long polling or behind the HTTP webhook."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter
from redis.asyncio import Redis

from adapters.telegram import TelegramSettings, build_application, running, webhook_router
from adapters.telegram.app import TelegramApp
from adapters.telegram.inbox import Inbox, RedisInbox
from core.errors import ConfigError
from core.service import ChatService
from core.settings import CoreSettings, load

# The application `serve` is running, for the webhook route the HTTP app mounts (same process).
_live: dict[str, TelegramApp] = {}


def wire(redis: Redis, settings: CoreSettings
         ) -> Callable[[ChatService, asyncio.Event], Coroutine[Any, Any, None]]:
    """`serve` with the Redis inbox that keeps every update until it has been handled."""
    return functools.partial(serve, inbox=RedisInbox(redis, settings.redis_prefix))


async def serve(service: ChatService, stop: asyncio.Event, inbox: Inbox | None = None) -> None:
    """Run until `stop` is set; in webhook mode updates arrive through `http_router()`."""
    settings = load(TelegramSettings)
    # httpx logs every request URL at INFO, and Telegram's URLs carry the bot token.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger("httpx").level))
    app = build_application(service, settings, inbox=inbox)
    async with running(app, settings):
        _live["app"] = app
        try:
            await stop.wait()
        finally:
            _live.pop("app", None)


def http_router() -> APIRouter | None:
    """The `/telegram/webhook` route for the HTTP app, or None when webhook mode is off."""
    try:
        settings = load(TelegramSettings)
    except ConfigError:
        return None  # not configured here; `serve` reports a bad setting when Telegram runs
    if not settings.webhook_url or settings.webhook_secret is None:
        return None
    return webhook_router(settings.webhook_secret, lambda: _live.get("app"))

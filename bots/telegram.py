"""`switchboard run telegram`: the Telegram bot, by long polling or behind the HTTP webhook."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter

from adapters.telegram import TelegramSettings, build_application, running, webhook_router
from adapters.telegram.app import TelegramApp
from core.errors import ConfigError
from core.service import ChatService
from core.settings import load

# The application `serve` is running, for the webhook route the HTTP app mounts (same process).
_live: dict[str, TelegramApp] = {}


async def serve(service: ChatService, stop: asyncio.Event) -> None:
    """Run until `stop` is set; in webhook mode updates arrive through `http_router()`."""
    settings = load(TelegramSettings)
    # httpx logs every request URL at INFO, and Telegram's URLs carry the bot token.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger("httpx").level))
    app = build_application(service, settings)
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

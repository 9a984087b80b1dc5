"""`switchboard run slack`: Socket Mode when SLACK_APP_TOKEN is set, else the Events API."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

from adapters.slack import SlackSettings, build_app, events_router
from core.errors import ConfigError
from core.service import ChatService
from core.settings import load

log = logging.getLogger("switchboard.slack")


async def serve(service: ChatService, stop: asyncio.Event) -> None:
    """Serve Slack until `stop` is set: Socket Mode here, or the Events API on the HTTP app."""
    settings = load(SlackSettings)
    if settings.app_token is None:
        log.info("slack: Events API at POST /slack/events on the HTTP app")
        await stop.wait()
        return
    app = build_app(service, settings)
    await _socket_mode(app, settings.app_token.get_secret_value(), stop)


def http_router(service: ChatService) -> APIRouter | None:
    """`POST /slack/events` for the HTTP app, or None in Socket Mode or when Slack is off."""
    try:
        settings = load(SlackSettings)
    except ConfigError:
        return None  # not configured here; `serve` reports a bad setting when Slack runs
    if settings.app_token is not None:
        return None
    return events_router(build_app(service, settings))


async def _socket_mode(app: AsyncApp, app_token: str, stop: asyncio.Event) -> None:
    handler = AsyncSocketModeHandler(app, app_token)
    try:
        await handler.connect_async()  # type: ignore[no-untyped-call]
        log.info("slack: connected in Socket Mode")
        await stop.wait()
    finally:
        # Without close its tasks outlive the loop (and hang shutdown).
        await handler.close_async()  # type: ignore[no-untyped-call]

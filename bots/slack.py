"""`switchboard run slack`: Socket Mode when SLACK_APP_TOKEN is set, else the Events API."""

from __future__ import annotations

import asyncio
import functools
import logging

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

from adapters.slack import SlackSettings, build_app, events_router
from bots.wiring import Serve, Wiring
from core.settings import load

log = logging.getLogger("switchboard.slack")


def build(wiring: Wiring) -> Serve:
    """Socket Mode here, or the Events API as a route of the HTTP app."""
    settings = load(SlackSettings)
    app = build_app(wiring.service, settings)
    if settings.app_token is None:
        wiring.routes.append(events_router(app))
        return _events_api
    return functools.partial(_socket_mode, app, settings.app_token.get_secret_value())


async def _events_api(stop: asyncio.Event) -> None:
    log.info("slack: Events API at POST /slack/events on the HTTP app")
    await stop.wait()


async def _socket_mode(app: AsyncApp, app_token: str, stop: asyncio.Event) -> None:
    handler = AsyncSocketModeHandler(app, app_token)
    try:
        await handler.connect_async()  # type: ignore[no-untyped-call]
        log.info("slack: connected in Socket Mode")
        await stop.wait()
    finally:
        # Without close its tasks outlive the loop (and hang shutdown).
        await handler.close_async()  # type: ignore[no-untyped-call]

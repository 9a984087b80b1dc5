"""`switchboard run slack`: Socket Mode when SLACK_APP_TOKEN is set, else the Events API."""

from __future__ import annotations

import asyncio
import functools
import logging

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from adapters.inbox import InboxSettings, Keeper, RedisInbox
from adapters.slack import SlackSettings, build_app, events_router
from adapters.slack.inbox import InboxApp, erase_user
from bots.wiring import Serve, Wiring
from core.settings import load

log = logging.getLogger("switchboard.slack")


def build(wiring: Wiring) -> Serve:
    """Socket Mode here, or the Events API as a route of the HTTP app; events kept in Redis."""
    settings = load(SlackSettings)
    inbox = RedisInbox(wiring.redis, wiring.settings.redis_prefix, "slack")
    keeper = Keeper(inbox, "slack", load(InboxSettings).replay_after)
    wiring.service.add_eraser(functools.partial(erase_user, inbox))  # /forget clears them too
    app = build_app(wiring.service, settings, functools.partial(InboxApp, keeper=keeper))
    assert isinstance(app, InboxApp)
    if settings.app_token is None:
        wiring.routes.append(events_router(app))
        return functools.partial(_events_api, app)
    return functools.partial(_socket_mode, app, settings.app_token.get_secret_value())


async def _events_api(app: InboxApp, stop: asyncio.Event) -> None:
    log.info("slack: Events API at POST /slack/events on the HTTP app")
    async with app.replaying():
        await stop.wait()


async def _socket_mode(app: InboxApp, app_token: str, stop: asyncio.Event) -> None:
    handler = AsyncSocketModeHandler(app, app_token)
    try:
        await handler.connect_async()  # type: ignore[no-untyped-call]
        log.info("slack: connected in Socket Mode")
        async with app.replaying():
            await stop.wait()
    finally:
        # Without close its tasks outlive the loop (and hang shutdown).
        await handler.close_async()  # type: ignore[no-untyped-call]

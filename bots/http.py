"""`switchboard run http`: serve the HTTP API with uvicorn until the stop event is set."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter

from adapters.http import HttpSettings, create_app
from adapters.http.auth import issue, parse_ttl
from adapters.http.server import bind, serve_until
from core.service import ChatService
from core.settings import load

log = logging.getLogger("switchboard.http")
# In-flight replies get this long after SIGTERM; the whole stop stays under 10 s.
GRACE_S = 8


async def serve(service: ChatService, stop: asyncio.Event) -> None:
    """Serve until `stop` is set, then let in-flight requests finish (at most GRACE_S)."""
    settings = load(HttpSettings)
    app = create_app(service, settings, routers=webhook_routers(service))
    sock = await bind(settings.host, settings.port)
    mode = " (dev mode: requests without a token act as user 'dev')" if settings.dev_mode else ""
    log.info("http: listening on http://%s:%d%s", settings.host, sock.getsockname()[1], mode)
    await serve_until(app, sock, stop, GRACE_S)


def webhook_routers(service: ChatService) -> list[APIRouter]:
    """Webhook routes of the platforms configured to receive events over HTTP."""
    from bots import slack, telegram

    routes = (telegram.http_router(), slack.http_router(service))
    return [r for r in routes if r is not None]


def token(user: str, ttl: str) -> str:
    """`switchboard token`: an HS256 token for `user`, valid for `ttl`."""
    return issue(load(HttpSettings), user, parse_ttl(ttl))

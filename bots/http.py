"""`switchboard run http`: serve the HTTP API with uvicorn until the stop event is set."""

from __future__ import annotations

import asyncio
import logging

from adapters.http import HttpSettings, create_app
from adapters.http.auth import issue, parse_ttl
from adapters.http.server import bind, serve_until
from bots.wiring import Serve, Wiring
from core.settings import load

log = logging.getLogger("switchboard.http")
# In-flight replies get this long after SIGTERM; the whole stop stays under 10 s.
GRACE_S = 8


def build(wiring: Wiring) -> Serve:
    """The API and web page, with the webhook routes the other platforms added."""
    settings = load(HttpSettings)

    async def serve(stop: asyncio.Event) -> None:
        """Serve until `stop` is set, then let in-flight requests finish (at most GRACE_S)."""
        app = create_app(wiring.service, settings, routers=wiring.routes)
        sock = await bind(settings.host, settings.port)
        dev = " (dev mode: requests without a token act as user 'dev')" if settings.dev_mode else ""
        log.info("http: listening on http://%s:%d%s", settings.host, sock.getsockname()[1], dev)
        await serve_until(app, sock, stop, GRACE_S)
    return serve


def token(user: str, ttl: str) -> str:
    """`switchboard token`: an HS256 token for `user`, valid for `ttl`."""
    return issue(load(HttpSettings), user, parse_ttl(ttl))

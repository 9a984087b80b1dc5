"""`switchboard run http`: serve the HTTP API with uvicorn until the stop event is set."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn
from fastapi import APIRouter

from adapters.http import HttpSettings, create_app
from adapters.http.auth import issue, parse_ttl
from core.errors import ConfigError
from core.service import ChatService
from core.settings import load

log = logging.getLogger("switchboard.http")
# In-flight replies get this long after SIGTERM; the whole stop stays under 10 s.
GRACE_S = 8


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: `switchboard run` owns SIGINT and SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _bind(host: str, port: int) -> socket.socket:
    loop = asyncio.get_running_loop()
    try:
        family, kind, proto, _, address = (await loop.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP))[0]
        # proto must be IPPROTO_TCP: asyncio sets TCP_NODELAY only then (else +40 ms a reply).
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        raise ConfigError("SWITCHBOARD_HTTP_PORT", f"cannot listen on {host}:{port} "
                          f"({exc.strerror or exc})") from None
    sock.setblocking(False)
    return sock


async def serve(service: ChatService, stop: asyncio.Event) -> None:
    """Serve until `stop` is set, then let in-flight requests finish (at most GRACE_S)."""
    settings = load(HttpSettings)
    app = create_app(service, settings, routers=webhook_routers(service))
    sock = await _bind(settings.host, settings.port)
    # log_config=None: uvicorn's records go through our guarded handler, not its own.
    config = uvicorn.Config(app, log_config=None, lifespan="off", access_log=False,
                            timeout_graceful_shutdown=GRACE_S, server_header=False)
    server = _Server(config)
    mode = " (dev mode: requests without a token act as user 'dev')" if settings.dev_mode else ""
    log.info("http: listening on http://%s:%d%s", settings.host, sock.getsockname()[1], mode)
    running = asyncio.create_task(server.serve(sockets=[sock]))
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait([running, stopping], return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stopping.cancel()
    try:
        await running
    finally:
        sock.close()


def webhook_routers(service: ChatService) -> list[APIRouter]:
    """Webhook routes of the platforms configured to receive events over HTTP."""
    from bots import slack, telegram

    routes = (telegram.http_router(), slack.http_router(service))
    return [r for r in routes if r is not None]


def token(user: str, ttl: str) -> str:
    """`switchboard token`: an HS256 token for `user`, valid for `ttl`."""
    return issue(load(HttpSettings), user, parse_ttl(ttl))

"""Serving an ASGI app on one socket with uvicorn, stopped by an event, within a grace period."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn

from core.errors import ConfigError

log = logging.getLogger("switchboard.http")


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: `switchboard run` owns SIGINT and SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def bind(host: str, port: int, variable: str = "SWITCHBOARD_HTTP_PORT") -> socket.socket:
    """A listening-ready TCP socket; a busy or bad address is a one-line config error."""
    loop = asyncio.get_running_loop()
    try:
        family, kind, proto, _, address = (await loop.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP))[0]
        # proto must be IPPROTO_TCP: asyncio sets TCP_NODELAY only then (else +40 ms a reply).
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        raise ConfigError(variable, f"cannot listen on {host}:{port} "
                          f"({exc.strerror or exc})") from None
    sock.setblocking(False)
    return sock


async def serve_until(app: Any, sock: socket.socket, stop: asyncio.Event, grace: int) -> None:
    """Serve `app` on `sock` until `stop` is set; requests in flight get `grace` seconds."""
    # log_config=None: uvicorn's records go through the process's guarded handler.
    config = uvicorn.Config(app, log_config=None, lifespan="off", access_log=False,
                            timeout_graceful_shutdown=grace, server_header=False)
    server = _Server(config)
    running = asyncio.create_task(server.serve(sockets=[sock]))
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait([running, stopping], return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stopping.cancel()
    try:
        await running
    finally:
        sock.close()

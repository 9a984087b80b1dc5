"""`SWITCHBOARD_METRICS_PORT`: `/metrics`, `/healthz` and `/readyz` on a port of their own."""

from __future__ import annotations

import asyncio
import logging

from adapters.http.probes import probes_app
from adapters.http.server import bind, serve_until
from bots.wiring import Serve, Wiring

log = logging.getLogger("switchboard.metrics")
GRACE_S = 1  # a probe or a scrape is answered at once


def build(wiring: Wiring) -> Serve:
    """The probes app, observing turns from now on (before any platform takes a message)."""
    app = probes_app(wiring.service)
    host, port = wiring.settings.metrics_host, wiring.settings.metrics_port or 0

    async def serve(stop: asyncio.Event) -> None:
        sock = await bind(host, port, "SWITCHBOARD_METRICS_PORT")
        log.info("metrics: /metrics, /healthz and /readyz on http://%s:%d", host,
                 sock.getsockname()[1])
        await serve_until(app, sock, stop, GRACE_S)
    return serve

"""`switchboard run`: which platforms are configured, and serving them side by side."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import signal
from collections.abc import Callable, Coroutine
from typing import Any

from dotenv import dotenv_values
from redis.asyncio import Redis

from bots.wiring import core_on
from core.connect import open_redis
from core.errors import ConfigError
from core.service import ChatService
from core.settings import CoreSettings

log = logging.getLogger("switchboard")

# platform -> (module with `async def serve(service, stop)`, the variable that turns it on).
# A module may also define `wire(redis, settings) -> Server`: `serve` with what it keeps in
# Redis besides the core (Telegram's inbox of raw updates).
PLATFORMS: dict[str, tuple[str, str]] = {
    "http": ("bots.http", "SWITCHBOARD_JWT_SECRET"),
    "slack": ("bots.slack", "SLACK_BOT_TOKEN"),
    "telegram": ("bots.telegram", "TELEGRAM_BOT_TOKEN"),
    "discord": ("bots.discord", "DISCORD_BOT_TOKEN"),
}
DRAIN_SECONDS = 8.0  # with the platforms' own shutdown, a stop stays under 10 s
Server = Callable[[ChatService, asyncio.Event], Coroutine[Any, Any, None]]
# Platforms that, configured so, receive their events as webhooks on the HTTP app.
WEBHOOKS: dict[str, Callable[[dict[str, str | None]], bool]] = {
    "telegram": lambda env: bool(env.get("TELEGRAM_WEBHOOK_URL")),
    "slack": lambda env: not env.get("SLACK_APP_TOKEN"),
}


def choose(requested: list[str]) -> list[str]:
    """The platforms to serve: those named, or every one whose variable is set."""
    unknown = sorted(set(requested) - PLATFORMS.keys())
    if unknown:
        raise ConfigError("PLATFORM", f"unknown {', '.join(unknown)}; choose from "
                          f"{', '.join(PLATFORMS)}")
    # `.env` counts too, as it does for the settings classes.
    present = {**dotenv_values(".env"), **os.environ}
    chosen = requested or [p for p, (_, var) in PLATFORMS.items() if present.get(var)]
    if not chosen:
        needed = ", ".join(f"{var} ({p})" for p, (_, var) in PLATFORMS.items())
        raise ConfigError("PLATFORM", f"nothing to serve; set one of {needed}, or name a "
                          "platform, like `switchboard run http`")
    if "http" not in chosen and any(p in WEBHOOKS and WEBHOOKS[p](present) for p in chosen):
        chosen.append("http")  # the webhook routes live on the HTTP app
    return chosen


def _wiring(platform: str) -> Callable[[Redis, CoreSettings], Server]:
    # Imported only when chosen: a Telegram-only bot never loads discord.py or slack-bolt.
    module = importlib.import_module(PLATFORMS[platform][0])
    wire: Callable[[Redis, CoreSettings], Server] = getattr(
        module, "wire", lambda redis, settings: module.serve)
    return wire


async def serve(settings: CoreSettings, requested: list[str]) -> None:
    """Run every chosen platform until SIGINT or SIGTERM, then let in-flight replies finish."""
    wirings = [_wiring(p) for p in choose(requested)]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
            loop.add_signal_handler(sig, stop.set)
    try:
        async with open_redis(settings) as redis, core_on(redis, settings) as service:
            async with asyncio.TaskGroup() as group:
                for wire in wirings:
                    group.create_task(wire(redis, settings)(service, stop))
            # Platforms stopped taking messages; replies in flight finish before Redis closes.
            if not await service.drain(DRAIN_SECONDS):
                log.warning("stopped with replies still in flight after %ss", DRAIN_SECONDS)
    except* ConfigError as errors:
        raise errors.exceptions[0] from None  # one clear line, as for the core's settings

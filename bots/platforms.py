"""`switchboard run`: which platforms are configured, and serving them side by side."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
import os
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dotenv import dotenv_values

from bots.wiring import Serve, Wiring, core_on
from core.connect import open_redis
from core.errors import ConfigError
from core.settings import CoreSettings

log = logging.getLogger("switchboard")
DRAIN_SECONDS = 8.0  # with the platforms' own shutdown, a stop stays under 10 s
Environment = Mapping[str, str | None]


def _never(env: Environment) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class Platform:
    """How a platform is turned on, and whether it then receives webhooks on the HTTP app."""

    name: str
    module: str  # its composition root: `build(wiring) -> Serve`
    variable: str  # the setting that turns it on
    webhooks: Callable[[Environment], bool] = _never


# A constant table (nothing registers into it at run time); `http` comes last because it
# serves the webhook routes the others add.
PLATFORMS = (
    Platform("slack", "bots.slack", "SLACK_BOT_TOKEN",
             lambda env: not env.get("SLACK_APP_TOKEN")),
    Platform("telegram", "bots.telegram", "TELEGRAM_BOT_TOKEN",
             lambda env: bool(env.get("TELEGRAM_WEBHOOK_URL"))),
    Platform("discord", "bots.discord", "DISCORD_BOT_TOKEN"),
    Platform("http", "bots.http", "SWITCHBOARD_JWT_SECRET"),
)


def choose(requested: list[str]) -> list[Platform]:
    """The platforms to serve: those named, or every one whose variable is set."""
    known = {p.name: p for p in PLATFORMS}
    unknown = sorted(set(requested) - known.keys())
    if unknown:
        raise ConfigError("PLATFORM", f"unknown {', '.join(unknown)}; choose from "
                          f"{', '.join(known)}")
    # `.env` counts too, as it does for the settings classes.
    env: Environment = {**dotenv_values(".env"), **os.environ}
    chosen = [p for p in PLATFORMS if p.name in requested or (not requested and env.get(
        p.variable))]
    if not chosen:
        needed = ", ".join(f"{p.variable} ({p.name})" for p in PLATFORMS)
        raise ConfigError("PLATFORM", f"nothing to serve; set one of {needed}, or name a "
                          "platform, like `switchboard run http`")
    if known["http"] not in chosen and any(p.webhooks(env) for p in chosen):
        chosen.append(known["http"])  # the webhook routes live on the HTTP app
    return chosen


def _build(module: str, wiring: Wiring) -> Serve:
    # Imported only when chosen: a Telegram-only bot never loads discord.py or slack-bolt.
    serve: Serve = importlib.import_module(module).build(wiring)
    return serve


def modules(chosen: list[Platform], settings: CoreSettings) -> list[str]:
    """The composition roots to run: the platforms', and the metrics port's when it is set."""
    probes = ["bots.metrics"] if settings.metrics_port is not None else []
    return [platform.module for platform in chosen] + probes


async def serve(settings: CoreSettings, requested: list[str]) -> None:
    """Run every chosen platform until SIGINT or SIGTERM, then let in-flight replies finish."""
    chosen = choose(requested)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
            loop.add_signal_handler(sig, stop.set)
    async with open_redis(settings) as redis, core_on(redis, settings) as service:
        wiring = Wiring(service, redis, settings)
        servers = [_build(module, wiring) for module in modules(chosen, settings)]
        # What start-up made lives as long as the process: frozen, a full collection no longer
        # walks it (pauses of 160-250 ms became 30-36 ms in bench/e2e.py).
        gc.freeze()
        try:
            async with asyncio.TaskGroup() as group:
                for server in servers:
                    group.create_task(server(stop))
        except* ConfigError as errors:
            raise errors.exceptions[0] from None  # one clear line, as for the core's settings
        # Platforms stopped taking messages; replies in flight finish before Redis closes.
        if not await service.drain(DRAIN_SECONDS):
            log.warning("stopped with replies still in flight after %ss", DRAIN_SECONDS)

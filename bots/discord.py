"""`switchboard run discord`: load the Discord settings and serve until asked to stop."""

from __future__ import annotations

import functools

from adapters.discord_bot.gateway import run
from adapters.discord_bot.settings import DiscordSettings
from bots.wiring import Serve, Wiring
from core.settings import load


def build(wiring: Wiring) -> Serve:
    return functools.partial(run, wiring.service, load(DiscordSettings))

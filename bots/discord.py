"""`switchboard run discord`: load the Discord settings and serve until asked to stop."""

from __future__ import annotations

import functools

from adapters.discord_bot.gateway import run
from adapters.discord_bot.inbox import DiscordInbox
from adapters.discord_bot.settings import DiscordSettings
from adapters.inbox import InboxSettings, Keeper, RedisInbox
from bots.wiring import Serve, Wiring
from core.settings import load


def build(wiring: Wiring) -> Serve:
    """The bot, with the Redis inbox that keeps every message until it has been answered."""
    keeper = Keeper(RedisInbox(wiring.redis, wiring.settings.redis_prefix, "discord"),
                    "discord", load(InboxSettings).replay_after)
    return functools.partial(run, wiring.service, load(DiscordSettings),
                             inbox=DiscordInbox(keeper))

"""Crash-safe delivery on Discord: a message to answer is in the inbox before any other work.

Discord never sends a message event again once a session is gone, so a message the gate let
through is kept (by channel and id) until its answer ended. At start, and every `replay_after`
from then on, what a stopped process (or shard) left is claimed, fetched again over REST and
answered like a new event; the core's turn ids (the message id) keep a replay from answering
twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import discord

from adapters.inbox import Keeper
from core.errors import StoreUnavailable

log = logging.getLogger("switchboard.discord")
Handle = Callable[[discord.Message], Awaitable[None]]


class DiscordInbox:
    """Keeps messages in `keeper` while they are answered; None keeps nothing."""

    def __init__(self, keeper: Keeper | None) -> None:
        self.keeper = keeper
        self._replays: set[asyncio.Task[Any]] = set()  # held, or the loop may drop them

    @contextlib.asynccontextmanager
    async def kept(self, message: discord.Message) -> AsyncIterator[None]:
        """Around an answer: kept before it starts, acknowledged once it ended (not cut off)."""
        if self.keeper is None:
            yield
            return
        eid = str(message.id)
        guild = message.guild.id if message.guild else None
        try:
            await self.keeper.put(eid, json.dumps({"channel": message.channel.id,
                                                   "guild": guild}))
        except StoreUnavailable as exc:  # the answer will tell the user the store is down
            log.warning("discord message %s not kept: %s", eid, exc)
        async with self.keeper.handling(eid):
            yield

    def start(self, client: discord.Client, handle: Handle) -> None:
        """Replay from now on, while `client` is open (once: on_ready comes again on resumes)."""
        if self.keeper is not None and not any(not t.done() for t in self._replays):
            self._spawn(self._replay_while_open(client, handle))

    async def _replay_while_open(self, client: discord.Client, handle: Handle) -> None:
        assert self.keeper is not None
        while not client.is_closed():
            try:
                await self.keeper.replay_once(
                    lambda eid, payload: self._replay(client, handle, eid, payload))
            except Exception:  # one bad replay must not end replaying for good
                log.exception("discord replay failed")
            await asyncio.sleep(self.keeper.replay_after)

    async def _replay(self, client: discord.Client, handle: Handle, eid: str,
                      payload: str) -> None:
        assert self.keeper is not None
        try:
            where = json.loads(payload)
            guild, channel_id = where.get("guild"), int(where["channel"])
        except (ValueError, KeyError, TypeError):
            await self.keeper.drop(eid, "does not parse")
            return
        if guild is not None and client.get_guild(guild) is None:
            # Another shard's guild (only that process knows it): handed back to its claim.
            await self.keeper.hand_back(eid)
            return
        try:
            message = await _channel(client, channel_id, guild).fetch_message(int(eid))
        except (discord.NotFound, discord.Forbidden):
            await self.keeper.drop(eid, "the message is gone")
            return
        except discord.HTTPException as exc:  # Discord is unwell: the next round tries again
            log.warning("discord message %s not fetched for replay: %s", eid, exc.status)
            return
        self._spawn(handle(message))  # like a gateway event: answers run side by side

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._replays.add(task)
        task.add_done_callback(self._replays.discard)


def _channel(client: discord.Client, channel_id: int,
             guild_id: int | None) -> discord.abc.Messageable:
    """The cached channel (a guild's, after its GUILD_CREATE), else a partial one (a DM)."""
    cached = client.get_channel(channel_id)
    if isinstance(cached, discord.abc.Messageable):
        return cached
    return client.get_partial_messageable(channel_id, guild_id=guild_id)

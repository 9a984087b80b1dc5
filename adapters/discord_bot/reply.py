"""One answer on Discord: a message edited as the text grows, continued in more past 2,000."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import discord

from adapters.discord_bot.settings import MESSAGE_LIMIT
from adapters.textsplit import split

# Model output is untrusted: it must never ping @everyone, roles, users or the replied-to author.
NO_PINGS = discord.AllowedMentions.none()


class StreamedReply:
    """Shows a growing answer, editing at most once per `interval` seconds."""

    def __init__(self, channel: discord.abc.Messageable, reference: discord.Message | None,
                 interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.channel, self.reference, self.interval, self.clock = (
            channel, reference, interval, clock)
        self.text = ""
        self.sent: list[discord.Message] = []
        self.shown: list[str] = []
        self.last = -math.inf

    async def add(self, piece: str) -> None:
        self.text += piece
        if self.clock() - self.last >= self.interval:
            await self.flush()

    async def flush(self) -> None:
        """Bring the messages up to date: edit the changed ones, send the new ones."""
        self.last = self.clock()
        for index, part in enumerate(split(self.text, MESSAGE_LIMIT)):
            if index >= len(self.sent):
                self.sent.append(await self._send(part))
                self.shown.append(part)
            elif self.shown[index] != part:
                await self.sent[index].edit(content=part, allowed_mentions=NO_PINGS)
                self.shown[index] = part

    async def notice(self, text: str) -> None:
        """A short message of our own (an error, a rate limit), after whatever was shown."""
        if text:
            await self._send(text)

    async def _send(self, content: str) -> discord.Message:
        # Only the first message is a reply; continuations follow it without a reference.
        reference = None if self.sent else self.reference
        if reference is None:
            return await self.channel.send(content, allowed_mentions=NO_PINGS)
        return await self.channel.send(
            content, allowed_mentions=NO_PINGS,
            reference=reference.to_reference(fail_if_not_exists=False))

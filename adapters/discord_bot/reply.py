"""One answer on Discord: rendered as Discord Markdown, paged into messages of at most 2,000."""

from __future__ import annotations

import contextlib

import discord

from adapters import render
from adapters.discord_bot.settings import MESSAGE_LIMIT
from adapters.pager import Pager
from adapters.paging import Pace, Render, Rendered, plain

# Model output is untrusted: it must never ping @everyone, roles, users or the replied-to author.
NO_PINGS = discord.AllowedMentions.none()


class Channel:
    """Where one answer goes: a channel, the first message replying to the question (in guilds)."""

    def __init__(self, channel: discord.abc.Messageable,
                 reference: discord.Message | discord.PartialMessage | None) -> None:
        self.channel, self.reference = channel, reference

    async def send(self, part: str) -> discord.Message:
        # Only the first message is a reply; continuations and notices follow without one.
        reference, self.reference = self.reference, None
        if reference is None:
            return await self.channel.send(part, allowed_mentions=NO_PINGS)
        return await self.channel.send(
            part, allowed_mentions=NO_PINGS,
            reference=reference.to_reference(fail_if_not_exists=False))

    async def edit(self, message_id: discord.Message, part: str) -> None:
        await message_id.edit(content=part, allowed_mentions=NO_PINGS)

    async def delete(self, message_id: discord.Message) -> None:
        with contextlib.suppress(discord.NotFound):  # already gone: what deleting wants
            await message_id.delete()


def pages(answer: str, limit: int) -> list[Rendered[str]]:
    """The answer (so far) as Discord Markdown messages, mentions inert.

    A growing answer is parsed as it stands: a half-written construct is escaped text or a
    closed block, never an empty or over-long message, so mid-stream it looks like the end.
    """
    return plain(render.discord(answer, limit))


def pager(channel: Channel, interval: float,
          draw: Render[str] = pages) -> Pager[str, discord.Message]:
    """A growing answer shown in `channel`, one request per `interval` seconds."""
    return Pager(channel, draw, limit=MESSAGE_LIMIT, pace=Pace(interval))

"""The "Regenerate" button under a finished Discord answer: the asker's press answers again.

The button is a `DynamicItem`: its `custom_id` (`re:<question id>:<asker id>:<nonce>`) carries
all it needs, so it works after a restart. The nonce is new for every button shown and names
the press to the core, so the same button pressed twice is answered once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord.ui import Button, DynamicItem, View

from adapters import commands
from adapters.discord_bot.commands import NOT_HERE
from adapters.discord_bot.inflight import Inflight
from adapters.discord_bot.reply import NO_PINGS, Channel, pager, pages
from adapters.discord_bot.routing import PLATFORM, allowed_place, session_for, speaker
from adapters.discord_bot.settings import DiscordSettings
from adapters.pager import Watched, answer
from adapters.paging import Render
from core.errors import NotLastAnswer
from core.keys import UserKey
from core.service import ChatService

log = logging.getLogger("switchboard.discord")
TEMPLATE = re.compile(r"re:(?P<target>[0-9]+):(?P<asker>[0-9]+):(?P<nonce>[a-z2-7]+)")
LABEL, NOT_YOURS = commands.REGENERATE, commands.REGENERATE_NOT_YOURS
Press = Callable[[discord.Interaction, int, int, str], Awaitable[None]]
Item = DynamicItem[Button[View]]


def custom_id(target: int, asker: int, nonce: str) -> str:
    return f"re:{target}:{asker}:{nonce}"


def button_class(press: Press) -> type[Item]:
    """The button's class, bound to one bot's `press` (each client registers its own)."""

    class Regenerate(DynamicItem[Button[View]], template=TEMPLATE):
        def __init__(self, target: int, asker: int, nonce: str) -> None:
            super().__init__(Button(label=LABEL, style=discord.ButtonStyle.secondary,
                                    custom_id=custom_id(target, asker, nonce)))
            self.target, self.asker, self.nonce = target, asker, nonce

        @classmethod
        async def from_custom_id(cls, interaction: discord.Interaction[Any],
                                 item: discord.ui.Item[Any], match: re.Match[str], /
                                 ) -> Regenerate:
            return cls(int(match["target"]), int(match["asker"]), match["nonce"])

        async def callback(self, interaction: discord.Interaction[Any]) -> None:
            await press(interaction, self.target, self.asker, self.nonce)

    return Regenerate


class Regenerator:
    """Offers the button under finished answers, and answers its presses."""

    def __init__(self, service: ChatService, settings: DiscordSettings, client: discord.Client,
                 inflight: Inflight, render: Render[str] = pages) -> None:
        self.service, self.settings, self.inflight, self.render = (service, settings, inflight,
                                                                   render)
        self.button = button_class(self.press)
        client.add_dynamic_items(self.button)

    def view(self, target: int, asker: int) -> View:
        view = View(timeout=None)
        button = self.button(target, asker, commands.press_id())  # type: ignore[arg-type,call-arg]
        view.add_item(button)
        return view

    async def offer(self, message: discord.Message, target: int, asker: int) -> None:
        """Put a fresh button under an answer's last message; without it, it's still an answer."""
        try:
            await message.edit(view=self.view(target, asker), allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            log.info("discord: regenerate button not added: status=%s", exc.status)

    async def press(self, interaction: discord.Interaction, target: int, asker: int,
                    nonce: str) -> None:
        """Refuse others at once; otherwise defer, then answer again as a new message."""
        channel = interaction.channel
        if interaction.user.id != asker:
            await interaction.response.send_message(NOT_YOURS, ephemeral=True)
            return
        if (not isinstance(channel, discord.abc.Messageable)
                or not allowed_place(interaction.guild_id, channel, self.settings)):
            await interaction.response.send_message(NOT_HERE, ephemeral=True)
            return
        await interaction.response.defer()  # an update of the pressed message, shown later
        if self.inflight.closing:
            return
        with self.inflight.tracked():
            await self._again(interaction, channel, target, nonce)

    async def _again(self, interaction: discord.Interaction, channel: discord.abc.Messageable,
                     target: int, nonce: str) -> None:
        user = interaction.user
        session = session_for(UserKey.of(PLATFORM, user.id), interaction.guild_id, channel,
                              self.settings)
        out = Channel(channel, _question(channel, target) if interaction.guild_id else None)
        show = pager(out, self.settings.edit_interval, self.render)
        watched = Watched(self.service.regenerate(session, speaker(user), str(target), nonce,
                                                  keep_partial=False))

        async def say(text: str) -> None:  # only the asker pressed: only they are told
            await interaction.followup.send(text, ephemeral=True)

        async with channel.typing():
            await answer(show, watched.pieces(), say, where=f"discord regenerate session={session}")
        if watched.done or isinstance(watched.error, NotLastAnswer):
            await _unoffer(interaction.message)  # replaced, or never again the last answer
        if watched.done and show.message_ids:
            await self.offer(show.message_ids[-1], target, user.id)


def _question(channel: discord.abc.Messageable, target: int) -> discord.PartialMessage | None:
    """The question, for the new answer to reply to (as the first one did in a guild)."""
    try:
        return discord.PartialMessage(channel=channel, id=target)  # type: ignore[arg-type]
    except TypeError:  # a kind of channel messages can't be referred to in
        return None


async def _unoffer(message: discord.Message | None) -> None:
    if message is None:
        return
    try:
        await message.edit(view=None, allowed_mentions=NO_PINGS)
    except discord.HTTPException as exc:
        log.info("discord: old regenerate button not removed: status=%s", exc.status)

"""Discord messages to core turns: the event handlers of one client, answered on the pager."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import AsyncGenerator

import discord
from discord import app_commands

from adapters.discord_bot.commands import SlashCommands
from adapters.discord_bot.files import remotes
from adapters.discord_bot.inflight import Inflight
from adapters.discord_bot.regen import Regenerator
from adapters.discord_bot.reply import Channel, pager, pages
from adapters.discord_bot.routing import prompt_text, session_key, should_answer, speaker
from adapters.discord_bot.settings import DiscordSettings
from adapters.files import fetch
from adapters.pager import Piece, Watched, answer
from adapters.paging import Render
from core.service import ChatService, Turn

log = logging.getLogger("switchboard.discord")


class DiscordBot:
    """Event handlers of one client: messages to `ChatService.stream`, commands to the tree."""

    def __init__(self, service: ChatService, settings: DiscordSettings,
                 client: discord.Client, render: Render[str] = pages) -> None:
        self.service, self.settings, self.client, self.render = service, settings, client, render
        self.tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)
        SlashCommands(service, settings).install(self.tree)
        self.inflight = Inflight()
        self.regen = Regenerator(service, settings, client, self.inflight, render)
        client.event(self.on_message)
        client.event(self.on_ready)

    async def on_ready(self) -> None:
        me = self.client.user
        log.info("discord: connected as id=%s, %d guilds", me and me.id, len(self.client.guilds))

    async def on_message(self, message: discord.Message) -> None:
        me = self.client.user
        if self.inflight.closing or me is None or not should_answer(message, me, self.settings):
            return
        turn = Turn(session_key(message, self.settings), speaker(message.author),
                    prompt_text(message, me), turn_id=str(message.id))
        with self.inflight.tracked():
            await self._answer(message, turn)

    async def _answer(self, message: discord.Message, turn: Turn) -> None:
        channel = Channel(message.channel, message if message.guild else None)
        show = pager(channel, self.settings.edit_interval, self.render)
        watched = Watched(self._stream(message, turn))
        async with message.channel.typing():
            # A file that can't be fetched fails the stream: told like any other failure.
            await answer(show, watched.pieces(), channel.send,
                         where=f"discord session={turn.session}")
        if watched.done and show.message_ids:  # a finished answer may be answered again
            await self.regen.offer(show.message_ids[-1], message.id, message.author.id)

    async def _stream(self, message: discord.Message, turn: Turn
                      ) -> AsyncGenerator[Piece, None]:
        """The answer to `turn` (and its tools' progress), after fetching the message's files
        (limits checked first)."""
        if message.attachments:
            files = remotes(message.attachments, self.settings.api_url)
            uploads = await fetch(files, self.service.settings.limits)
            turn = dataclasses.replace(turn, uploads=uploads)
        async with contextlib.aclosing(self.service.events(turn)) as pieces:
            async for piece in pieces:
                yield piece

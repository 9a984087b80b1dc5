"""Discord messages and button presses to core turns, answered on the shared pager."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator

import discord
from discord import app_commands

from adapters import confirm, regenerate
from adapters.discord_bot.commands import NOT_HERE, SlashCommands
from adapters.discord_bot.confirm import button_class as confirm_class
from adapters.discord_bot.confirm import view as confirm_view
from adapters.discord_bot.files import remotes
from adapters.discord_bot.inbox import DiscordInbox
from adapters.discord_bot.inflight import Inflight
from adapters.discord_bot.regen import button_class, offer, unoffer, view
from adapters.discord_bot.reply import Channel, pager, pages
from adapters.discord_bot.routing import (
    PLATFORM,
    allowed_place,
    prompt_text,
    session_for,
    session_key,
    should_answer,
    speaker,
)
from adapters.discord_bot.settings import DiscordSettings
from adapters.files import answered, fetch
from adapters.pager import Piece, Say, Watched, shown
from adapters.paging import Render
from adapters.regenerate import Press
from core.keys import UserKey
from core.service import ChatService, Turn

log = logging.getLogger("switchboard.discord")


class DiscordBot:
    """Event handlers of one client: messages and presses to the core, commands to the tree."""

    def __init__(self, service: ChatService, settings: DiscordSettings,
                 client: discord.Client, render: Render[str] = pages,
                 inbox: DiscordInbox | None = None) -> None:
        self.service, self.settings, self.client, self.render = service, settings, client, render
        self.tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)
        SlashCommands(service, settings).install(self.tree)
        self.inflight, self.inbox = Inflight(), inbox or DiscordInbox(None)
        self.button, self.confirm = button_class(self.on_press), confirm_class(self.on_confirm)
        client.add_dynamic_items(self.button, self.confirm)
        client.event(self.on_message)
        client.event(self.on_ready)

    async def on_ready(self) -> None:
        me = self.client.user
        log.info("discord: connected as id=%s, %d guilds", me and me.id, len(self.client.guilds))
        self.inbox.start(self.client, self.on_message)  # what an earlier run left unanswered

    async def on_message(self, message: discord.Message) -> None:
        me = self.client.user
        if self.inflight.closing or me is None or not should_answer(message, me, self.settings):
            return
        turn = Turn(session_key(message, self.settings), speaker(message.author),
                    prompt_text(message, me), turn_id=str(message.id))
        files = remotes(message.attachments, self.settings.api_url)
        limits = self.service.settings.limits
        fetched = (lambda: fetch(files, limits)) if files else None
        with self.inflight.tracked():
            async with self.inbox.kept(message):
                await self._show(message.channel, message if message.guild else None,
                                 answered(self.service, turn, fetched), None, message.id,
                                 message.author.id, f"discord session={turn.session}")

    async def on_press(self, interaction: discord.Interaction, press: Press) -> None:
        """Regenerate: others are refused at once; the asker's answer comes as a new message."""
        channel, user = interaction.channel, interaction.user
        if str(user.id) != press.asker:
            await interaction.response.send_message(regenerate.NOT_YOURS, ephemeral=True)
            return
        if (not isinstance(channel, discord.abc.Messageable)
                or not allowed_place(interaction.guild_id, channel, self.settings)):
            await interaction.response.send_message(NOT_HERE, ephemeral=True)
            return
        await interaction.response.defer()  # an update of the pressed message, shown later
        if self.inflight.closing:
            return
        session = session_for(UserKey.of(PLATFORM, user.id), interaction.guild_id, channel,
                              self.settings)
        again = self.service.regenerate(session, speaker(user), press.target, press.nonce)
        question = _message(channel, int(press.target)) if interaction.guild_id else None

        async def say(text: str) -> None:  # only the asker pressed: only they are told
            await interaction.followup.send(text, ephemeral=True)
        with self.inflight.tracked():
            watched = await self._show(channel, question, again, say, int(press.target),
                                       user.id, f"discord regenerate session={session}")
        if regenerate.retire(watched):
            await unoffer(interaction.message)

    async def on_confirm(self, interaction: discord.Interaction, confirmation: str,
                         approve: bool) -> None:
        """Approve or Deny: the core checks the presser asked, in time, once."""
        channel, user = interaction.channel, interaction.user
        if not isinstance(channel, discord.abc.Messageable):
            await interaction.response.send_message(NOT_HERE, ephemeral=True)
            return
        await interaction.response.defer()
        session = session_for(UserKey.of(PLATFORM, user.id), interaction.guild_id, channel,
                              self.settings)
        pressed = await confirm.confirmed(self.service, session, speaker(user), confirmation,
                                          approve, str(interaction.id))
        if pressed.answer is None:
            if pressed.refusal:
                await interaction.followup.send(pressed.refusal, ephemeral=True)
            return
        await unoffer(interaction.message)
        with self.inflight.tracked():
            await self._show(channel, None, pressed.answer, None, None, user.id,
                             f"discord confirm session={session}")

    async def _show(self, channel: discord.abc.Messageable,
                    question: discord.Message | discord.PartialMessage | None,
                    stream: AsyncGenerator[Piece, None], say: Say | None, target: int | None,
                    asker: int, where: str) -> Watched:
        """Show an answer (typing until it starts); a finished one gets its buttons (Approve
        and Deny, or Regenerate for an answer to `target`). A failure is told with `say`, by
        default in the channel (replying to the question)."""
        out = Channel(channel, question)
        show = pager(out, self.settings.edit_interval, self.render)
        async with channel.typing():
            watched = await shown(show, stream, say or out.send, where=where)
        buttons = (confirm_view(self.confirm, watched.asked) if watched.asked else
                   view(self.button, target, asker) if target is not None else None)
        if watched.done and show.message_ids and buttons is not None:
            await offer(show.message_ids[-1], buttons)
        return watched


def _message(channel: discord.abc.Messageable, message_id: int) -> discord.PartialMessage | None:
    """The question, for the new answer to reply to (as the first one did in a guild)."""
    try:
        return discord.PartialMessage(channel=channel, id=message_id)  # type: ignore[arg-type]
    except TypeError:  # a kind of channel messages can't be referred to in
        return None

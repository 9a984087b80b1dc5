"""Discord messages and button presses to core turns, answered by the shared flows."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from adapters import answers
from adapters.answers import Presser
from adapters.discord_bot.commands import NOT_HERE, SlashCommands
from adapters.discord_bot.files import uploads
from adapters.discord_bot.inbox import DiscordInbox
from adapters.discord_bot.inflight import Inflight
from adapters.discord_bot.reply import AnswerButton, Channel, edit_buttons
from adapters.discord_bot.routing import allowed_place, session_for, speaker, turn
from adapters.discord_bot.settings import DiscordSettings
from adapters.files import answered
from core.service import ChatService

log = logging.getLogger("switchboard.discord")


class DiscordBot:
    """Event handlers of one client: messages and presses to the core, commands to the tree."""

    def __init__(self, service: ChatService, settings: DiscordSettings, client: discord.Client,
                 inbox: DiscordInbox | None = None) -> None:
        self.service, self.settings, self.client = service, settings, client
        self.tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)
        SlashCommands(service, settings).install(self.tree)
        self.inflight, self.inbox = Inflight(), inbox or DiscordInbox(None)
        client.add_dynamic_items(AnswerButton)
        for handler in (self.on_ready, self.on_message, self.on_answer_press):
            client.event(handler)

    async def on_ready(self) -> None:
        me = self.client.user
        log.info("discord: connected as id=%s, %d guilds", me and me.id, len(self.client.guilds))
        self.inbox.start(self.client, self.on_message)  # what an earlier run left unanswered

    async def on_message(self, message: discord.Message) -> None:
        me = self.client.user
        asked = turn(message, me, self.settings) if me and not self.inflight.closing else None
        if asked is None:
            return
        fetched = uploads(message.attachments, self.settings.api_url, self.service)
        # In a guild the answer replies to the question; in a DM it simply follows it.
        question = message.to_reference(fail_if_not_exists=False) if message.guild else None
        out = Channel(message.channel, question, self.settings.edit_interval)
        with self.inflight.tracked():
            async with self.inbox.kept(message):
                await answers.reply(out, answered(self.service, asked, fetched),
                                    question=asked.turn_id, asker=str(message.author.id),
                                    where=f"discord session={asked.session}")

    async def on_answer_press(self, interaction: discord.Interaction, data: str) -> None:
        """A button under an answer: Regenerate, Approve or Deny, checked by the shared flow."""
        channel, user = interaction.channel, interaction.user
        if (not isinstance(channel, discord.abc.Messageable)
                or not allowed_place(interaction.guild_id, channel, self.settings)):
            await interaction.response.send_message(NOT_HERE, ephemeral=True)
            return
        await interaction.response.defer()  # at once: refusals and the answer follow it
        if self.inflight.closing:
            return
        who = Presser.known(str(user.id), session_for(user, interaction.guild_id, channel,
                                                      self.settings), speaker(user))
        with self.inflight.tracked():
            await answers.pressed(self.service, data, who, Pressing(
                interaction, channel, self.settings.edit_interval), where="discord")


class Pressing:
    """One press, as `answers.pressed` needs it: deferred at once, so what the presser alone is
    told is an ephemeral follow-up; an answer is a new message."""

    keep_partial = False

    def __init__(self, interaction: discord.Interaction, channel: discord.abc.Messageable,
                 interval: float) -> None:
        self.interaction, self.channel, self.interval = interaction, channel, interval

    async def alert(self, text: str, /) -> None:
        if text:  # the press was deferred already: that acknowledged it
            await self.interaction.followup.send(text, ephemeral=True)

    async def ack(self) -> None:
        """Nothing more: the press was deferred as it came."""

    async def unmark(self) -> None:
        await edit_buttons(self.interaction.message, None)

    def turn_id(self, target: str) -> str:
        return target  # the question's message id, as `on_message` made its turn id

    def surface(self, question: str | None, /) -> Channel:
        """The channel; a regenerated answer replies to its question (in a guild, as the first
        did), and its notices go to the presser alone."""
        if question is None:
            return Channel(self.channel, None, self.interval)
        guild, where = self.interaction.guild_id, self.interaction.channel_id
        asked = (discord.MessageReference(message_id=int(question), channel_id=where,
                                          guild_id=guild, fail_if_not_exists=False)
                 if guild and where else None)
        return Channel(self.channel, asked, self.interval, self.alert)

"""Discord messages and button presses to core turns, answered by the shared flows."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from adapters import answers
from adapters.answers import Presser
from adapters.discord_bot.buttons import button_class
from adapters.discord_bot.commands import NOT_HERE, SlashCommands
from adapters.discord_bot.files import remotes
from adapters.discord_bot.inbox import DiscordInbox
from adapters.discord_bot.inflight import Inflight
from adapters.discord_bot.reply import Channel, Question, edit_buttons
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
from adapters.pager import Say
from core.keys import UserKey
from core.service import ChatService, Turn

log = logging.getLogger("switchboard.discord")


class DiscordBot:
    """Event handlers of one client: messages and presses to the core, commands to the tree."""

    def __init__(self, service: ChatService, settings: DiscordSettings, client: discord.Client,
                 inbox: DiscordInbox | None = None) -> None:
        self.service, self.settings, self.client = service, settings, client
        self.tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)
        SlashCommands(service, settings).install(self.tree)
        self.inflight, self.inbox = Inflight(), inbox or DiscordInbox(None)
        self.button = button_class(self.on_press)
        client.add_dynamic_items(self.button)
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
        fetched = (lambda: fetch(files, self.service.settings.limits)) if files else None
        out = self.channel(message.channel, message if message.guild else None)
        with self.inflight.tracked():
            async with self.inbox.kept(message):
                await answers.reply(out, answered(self.service, turn, fetched),
                                    question=turn.turn_id, asker=str(message.author.id),
                                    where=f"discord session={turn.session}")

    async def on_press(self, interaction: discord.Interaction, data: str) -> None:
        """A button under an answer: Regenerate, Approve or Deny, checked by the shared flow."""
        channel, user = interaction.channel, interaction.user
        if (not isinstance(channel, discord.abc.Messageable)
                or not allowed_place(interaction.guild_id, channel, self.settings)):
            await interaction.response.send_message(NOT_HERE, ephemeral=True)
            return
        await interaction.response.defer()  # at once: refusals and the answer follow it
        if self.inflight.closing:
            return
        session = session_for(UserKey.of(PLATFORM, user.id), interaction.guild_id, channel,
                              self.settings)
        with self.inflight.tracked():
            await answers.pressed(self.service, data, Presser(str(user.id), speaker(user),
                                                              session),
                                  Pressing(self, interaction, channel), where="discord")

    def channel(self, channel: discord.abc.Messageable, question: Question | None,
                tell: Say | None = None) -> Channel:
        return Channel(channel, question, interval=self.settings.edit_interval,
                       button=self.button, tell=tell)


class Pressing:
    """One press, as `answers.pressed` needs it: deferred at once, so what the presser alone is
    told is an ephemeral follow-up; an answer is a new message."""

    keep_partial = False

    def __init__(self, bot: DiscordBot, interaction: discord.Interaction,
                 channel: discord.abc.Messageable) -> None:
        self.bot, self.interaction, self.channel = bot, interaction, channel

    async def alert(self, text: str, /) -> None:
        if text:  # the press was deferred already: that acknowledged it
            await self.tell(text)

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
            return self.bot.channel(self.channel, None)
        asked = _message(self.channel, int(question)) if self.interaction.guild_id else None
        return self.bot.channel(self.channel, asked, self.tell)

    async def tell(self, text: str) -> None:
        await self.interaction.followup.send(text, ephemeral=True)


def _message(channel: discord.abc.Messageable, message_id: int) -> discord.PartialMessage | None:
    """The question, for the new answer to reply to."""
    try:
        return discord.PartialMessage(channel=channel, id=message_id)  # type: ignore[arg-type]
    except TypeError:  # a kind of channel messages can't be referred to in
        return None

"""The slash commands /reset, /forget and /help, each answered privately within Discord's 3 s."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord
from discord import app_commands

from adapters.discord_bot.routing import PLATFORM, allowed_place, session_for
from adapters.discord_bot.settings import DiscordSettings
from adapters.failures import notice
from core.keys import SessionKey, UserKey
from core.service import ChatService

HELP = ("Write to me in a DM, or mention me (or reply to one of my messages) in a channel. "
        "In a channel each member has their own conversation with me, unless the channel is "
        "shared; a thread is one conversation for everyone in it.\n"
        "/reset starts the conversation here over (a shared one needs Manage Messages). "
        "/forget erases everything I keep about you.")
NOT_HERE = "I'm not enabled in this place."
SHARED_RESET = ("Everyone here shares this conversation, so resetting it needs the Manage "
                "Messages permission. Ask a moderator, or talk to me in a DM.")


class SlashCommands:
    """Translates the three commands to `ChatService` calls."""

    def __init__(self, service: ChatService, settings: DiscordSettings) -> None:
        self.service, self.settings = service, settings

    def install(self, tree: app_commands.CommandTree[discord.Client]) -> None:
        for name, description, callback in (
                ("reset", "Start the conversation here over", self.reset),
                ("forget", "Erase everything the bot keeps about you", self.forget),
                ("help", "How to talk to the bot", self.help)):
            tree.add_command(app_commands.Command(name=name, description=description,
                                                  callback=callback))

    async def reset(self, interaction: discord.Interaction) -> None:
        user = UserKey.of(PLATFORM, interaction.user.id)
        session = session_for(user, interaction.guild_id, interaction.channel, self.settings)
        # A shared conversation (channel or thread) is everyone's: only moderators may wipe it.
        # `permissions` is what Discord resolved for this member in this channel.
        refused = not session.private and not interaction.permissions.manage_messages
        await self._answer(interaction, lambda: self._reset(session, user),
                           SHARED_RESET if refused else None)

    async def forget(self, interaction: discord.Interaction) -> None:
        user = UserKey.of(PLATFORM, interaction.user.id)
        await self._answer(interaction, lambda: self._forget(user))

    async def help(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(HELP, ephemeral=True)

    async def _reset(self, session: SessionKey, user: UserKey) -> str:
        await self.service.reset(session, user)
        return "Started a fresh conversation here."

    async def _forget(self, user: UserKey) -> str:
        count = await self.service.forget(user)
        plural = "conversation" if count == 1 else "conversations"
        return f"Done: I erased what I kept about you ({count} {plural})."

    async def _answer(self, interaction: discord.Interaction,
                      work: Callable[[], Awaitable[str]], refusal: str | None = None) -> None:
        """Defer at once (Redis may be slow), then send the outcome as a private follow-up."""
        if not allowed_place(interaction.guild_id, interaction.channel, self.settings):
            refusal = NOT_HERE
        if refusal:  # decided without I/O: answered at once
            await interaction.response.send_message(refusal, ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            text = await work()
        except Exception as exc:
            name = interaction.command.name if interaction.command else "?"
            text = notice(exc, where=f"discord command /{name}").text
        await interaction.followup.send(text, ephemeral=True)

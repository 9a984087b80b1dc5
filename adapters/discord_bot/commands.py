"""The slash commands /reset, /forget and /help, each answered privately within Discord's 3 s."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord
from discord import app_commands

from adapters import commands
from adapters.discord_bot.routing import PLATFORM, allowed_place, session_for
from adapters.discord_bot.settings import DiscordSettings
from core.keys import UserKey
from core.service import ChatService

HELP = ("Write to me in a DM, or mention me (or reply to one of my messages) in a channel. "
        "In a channel each member has their own conversation with me, unless the channel is "
        "shared; a thread is one conversation for everyone in it. I also read what you attach: "
        "images, voice messages, PDFs and text or code files.\n"
        "/reset starts the conversation here over (a shared one needs Manage Messages). "
        f"/forget {commands.FORGET_HELP}.")
NOT_HERE = "I'm not enabled in this place."
SHARED_RESET = ("Everyone here shares this conversation, so resetting it needs the Manage "
                "Messages permission. Ask a moderator, or talk to me in a DM.")


class SlashCommands:
    """Translates the three commands to the shared `adapters.commands`."""

    def __init__(self, service: ChatService, settings: DiscordSettings) -> None:
        self.service, self.settings = service, settings

    def install(self, tree: app_commands.CommandTree[discord.Client]) -> None:
        callbacks = {"reset": self.reset, "forget": self.forget, "help": self.help}
        for command in (c for c in commands.COMMANDS if c.name in callbacks):
            tree.add_command(app_commands.Command(name=command.name,
                                                  description=command.description,
                                                  callback=callbacks[command.name]))

    async def reset(self, interaction: discord.Interaction) -> None:
        user = UserKey.of(PLATFORM, interaction.user.id)
        session = session_for(user, interaction.guild_id, interaction.channel, self.settings)
        # A shared conversation (channel or thread) is everyone's: only moderators may wipe it.
        # `permissions` is what Discord resolved for this member in this channel.
        refused = not session.private and not interaction.permissions.manage_messages
        await self._answer(interaction, lambda: commands.reset(self.service, session, user),
                           SHARED_RESET if refused else None)

    async def forget(self, interaction: discord.Interaction) -> None:
        user = UserKey.of(PLATFORM, interaction.user.id)
        await self._answer(interaction, lambda: commands.forget(self.service, user))

    async def help(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(HELP, ephemeral=True)

    async def _answer(self, interaction: discord.Interaction,
                      work: Callable[[], Awaitable[str]], refusal: str | None = None) -> None:
        """Defer at once (Redis may be slow), then send the outcome as a private follow-up."""
        if not allowed_place(interaction.guild_id, interaction.channel, self.settings):
            refusal = NOT_HERE
        if refusal:  # decided without I/O: answered at once
            await interaction.response.send_message(refusal, ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        name = interaction.command.name if interaction.command else "?"
        text = await commands.outcome(work(), where=f"discord command /{name}")
        await interaction.followup.send(text, ephemeral=True)

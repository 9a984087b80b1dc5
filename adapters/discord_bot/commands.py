"""The slash commands of `adapters.commands` on Discord, answered privately within 3 s."""

from __future__ import annotations

import io
from typing import Any, cast

import discord
from discord import app_commands

from adapters import commands, exports
from adapters.discord_bot.routing import allowed_place, session_for, speaker
from adapters.discord_bot.settings import MESSAGE_LIMIT, DiscordSettings
from core.keys import SessionKey
from core.service import ChatService

HELP = ("Write to me in a DM, or mention me (or reply to one of my messages) in a channel. "
        "In a channel each member has their own conversation with me, unless the channel is "
        "shared; a thread is one conversation for everyone in it. I also read what you attach: "
        "images, voice messages, PDFs and text or code files. Resetting a shared conversation, "
        "or changing its model or persona, needs Manage Messages.\n"
        f"{commands.listing()}")
STYLE = commands.Style(HELP, who="members with the Manage Messages permission",
                       limit=MESSAGE_LIMIT)
NOT_HERE = "I'm not enabled in this place."
SUGGESTIONS = 25  # Discord shows at most 25 autocomplete choices
CHOICE_NAME = 100  # characters of a choice's name
Slash = app_commands.Command[Any, Any, None]


class SlashCommands:
    """Each command reads its name and argument, then runs the shared one."""

    def __init__(self, service: ChatService, settings: DiscordSettings) -> None:
        self.service, self.settings = service, settings

    def install(self, tree: app_commands.CommandTree[discord.Client]) -> None:
        for command in commands.COMMANDS:
            tree.add_command(self._slash(command))

    def _slash(self, command: commands.Command) -> Slash:
        """The command, with its optional argument (suggested from this conversation for a
        model or persona name)."""
        if not command.argument:
            async def plain(interaction: discord.Interaction) -> None:
                await self.answer(interaction, command.name, "")
            return app_commands.Command(name=command.name, description=command.description,
                                        callback=plain)

        @app_commands.rename(argument=command.argument)
        @app_commands.describe(argument=command.argument_help)
        async def given(interaction: discord.Interaction,
                        argument: app_commands.Range[str, 1, 100] | None = None) -> None:
            await self.answer(interaction, command.name, argument or "")

        slash: Slash = app_commands.Command(name=command.name, description=command.description,
                                            callback=given)
        if command.name in commands.KINDS:
            @slash.autocomplete("argument")
            async def complete(interaction: discord.Interaction, current: str
                               ) -> list[app_commands.Choice[str]]:
                return self.suggest(interaction, cast(commands.Kind, command.name), current)
        return slash

    def suggest(self, interaction: discord.Interaction, kind: commands.Kind,
                current: str) -> list[app_commands.Choice[str]]:
        """The names this conversation may choose that contain what was typed (no I/O)."""
        if not allowed_place(interaction.guild_id, interaction.channel, self.settings):
            return []
        typed, session = current.strip().casefold(), self._session(interaction)
        offered = [o for o in commands.options(self.service, session, kind)
                   if typed in o.name.casefold()]
        return [app_commands.Choice(name=commands.label(o, CHOICE_NAME), value=o.name)
                for o in offered[:SUGGESTIONS]]

    async def answer(self, interaction: discord.Interaction, name: str, args: str) -> None:
        """Help and refusals need no I/O and are answered at once; anything else is deferred
        first (Redis may be slow), then sent as a private follow-up."""
        session = self._session(interaction)
        now = self._at_once(interaction, session, name, args)
        if now:
            await interaction.response.send_message(now, ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        who = speaker(interaction.user)
        said = await commands.run(self.service, name, args, commands.Asker(who.user, who.roles),
                                  session, STYLE)
        await exports.send(
            said, lambda shown: interaction.followup.send(shown.text, ephemeral=True),
            lambda file, text: interaction.followup.send(text, ephemeral=True, file=discord.File(
                io.BytesIO(file.data), filename=file.name)),
            limit=interaction.filesize_limit, where="discord export")

    def _at_once(self, interaction: discord.Interaction, session: SessionKey, name: str,
                 args: str) -> str | None:
        if name == "help":
            return HELP
        if not allowed_place(interaction.guild_id, interaction.channel, self.settings):
            return NOT_HERE
        # `permissions` is what Discord resolved for this member in this channel.
        if commands.guarded(name, args, session) and not interaction.permissions.manage_messages:
            return commands.refusal(name, STYLE.who)
        return None

    def _session(self, interaction: discord.Interaction) -> SessionKey:
        return session_for(interaction.user, interaction.guild_id, interaction.channel,
                           self.settings)


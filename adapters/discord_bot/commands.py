"""The slash commands /reset, /forget, /model, /persona and /help, answered privately in 3 s."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands

from adapters import commands
from adapters.discord_bot.routing import PLATFORM, allowed_place, session_for
from adapters.discord_bot.settings import DiscordSettings
from core.keys import SessionKey, UserKey
from core.presets import Option
from core.service import ChatService

HELP = ("Write to me in a DM, or mention me (or reply to one of my messages) in a channel. "
        "In a channel each member has their own conversation with me, unless the channel is "
        "shared; a thread is one conversation for everyone in it. I also read what you attach: "
        "images, voice messages, PDFs and text or code files.\n"
        "/reset starts the conversation here over. /model and /persona show this "
        "conversation's model and persona, or choose another by name (changing a shared "
        "conversation, like resetting it, needs Manage Messages). "
        f"/forget {commands.FORGET_HELP}.")
NOT_HERE = "I'm not enabled in this place."
SHARED_RESET = ("Everyone here shares this conversation, so resetting it needs the Manage "
                "Messages permission. Ask a moderator, or talk to me in a DM.")
SHARED_CHOICE = ("Everyone here shares this conversation, so changing its {kind} needs the "
                 "Manage Messages permission. Ask a moderator, or talk to me in a DM.")
NAME_HELP = "Leave empty to see the current one and what else you may choose"
KINDS: dict[str, commands.Kind] = {"model": "model", "persona": "persona"}
SUGGESTIONS = 25  # Discord shows at most 25 autocomplete choices


class SlashCommands:
    """Translates the commands to the shared `adapters.commands`."""

    def __init__(self, service: ChatService, settings: DiscordSettings) -> None:
        self.service, self.settings = service, settings

    def install(self, tree: app_commands.CommandTree[discord.Client]) -> None:
        callbacks = {"reset": self.reset, "forget": self.forget, "help": self.help}
        for command in commands.COMMANDS:
            if command.name in KINDS:
                tree.add_command(self._choice(KINDS[command.name], command.description))
            else:
                tree.add_command(app_commands.Command(name=command.name,
                                                      description=command.description,
                                                      callback=callbacks[command.name]))

    def _choice(self, kind: commands.Kind, description: str
                ) -> app_commands.Command[Any, Any, None]:
        """`/model` or `/persona` with an optional `name` suggested from this conversation."""

        @app_commands.describe(name=NAME_HELP)
        async def run(interaction: discord.Interaction,
                      name: app_commands.Range[str, 1, 100] | None = None) -> None:
            await self.choose(interaction, kind, name)

        command: app_commands.Command[Any, Any, None] = app_commands.Command(
            name=kind, description=description, callback=run)

        @command.autocomplete("name")
        async def complete(interaction: discord.Interaction, current: str
                           ) -> list[app_commands.Choice[str]]:
            return self.suggest(interaction, kind, current)

        return command

    def suggest(self, interaction: discord.Interaction, kind: commands.Kind,
                current: str) -> list[app_commands.Choice[str]]:
        """The names this conversation may choose that contain what was typed (no I/O)."""
        if not allowed_place(interaction.guild_id, interaction.channel, self.settings):
            return []
        typed = current.strip().casefold()
        offered = [o for o in commands.options(self.service, self._session(interaction), kind)
                   if typed in o.name.casefold()]
        return [app_commands.Choice(name=_label(o), value=o.name)
                for o in offered[:SUGGESTIONS]]

    async def choose(self, interaction: discord.Interaction, kind: commands.Kind,
                     name: str | None) -> None:
        session = self._session(interaction)
        if not name or not name.strip():
            await self._answer(interaction, lambda: commands.current(self.service, session, kind))
            return
        # Like /reset: a shared conversation is changed by moderators only; a private one
        # (a DM, or a member's own conversation in a channel) by the member who owns it.
        refused = not session.private and not interaction.permissions.manage_messages
        await self._answer(interaction,
                           lambda: commands.choose(self.service, session, kind, name),
                           SHARED_CHOICE.format(kind=kind) if refused else None)

    def _session(self, interaction: discord.Interaction) -> SessionKey:
        user = UserKey.of(PLATFORM, interaction.user.id)
        return session_for(user, interaction.guild_id, interaction.channel, self.settings)

    async def reset(self, interaction: discord.Interaction) -> None:
        user, session = UserKey.of(PLATFORM, interaction.user.id), self._session(interaction)
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


def _label(option: Option) -> str:
    """`smart: Careful answers`, within Discord's 100 characters for a choice's name."""
    label = f"{option.name}: {option.description}" if option.description else option.name
    return label if len(label) <= 100 else label[:99] + "…"

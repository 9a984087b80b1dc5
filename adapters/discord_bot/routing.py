"""Which Discord messages the bot answers, and which conversation each one belongs to."""

from __future__ import annotations

import re

import discord

from adapters.discord_bot.settings import DiscordSettings
from core.keys import SessionKey, Speaker, UserKey
from core.service import Turn

PLATFORM = "discord"
# Normal messages and replies; joins, pins, boosts and other system messages are never answered.
_CHAT_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})
_THREADS = frozenset({discord.ChannelType.public_thread, discord.ChannelType.private_thread,
                      discord.ChannelType.news_thread})
Place = discord.abc.Messageable | discord.abc.GuildChannel | discord.Thread | None


def speaker(user: discord.abc.User) -> Speaker:
    """The person, with the roles they hold in the guild they write in (`discord:role:ID`,
    which the configuration may name; the message carries them, so no request is made)."""
    roles = getattr(user, "roles", None) or ()
    facts = frozenset(f"discord:role:{role.id}" for role in roles if not role.is_default())
    return Speaker(UserKey.of(PLATFORM, user.id), user.display_name, "Discord", facts)


def session_for(user: discord.abc.User, guild_id: int | None, channel: Place,
                settings: DiscordSettings) -> SessionKey:
    """DM: one per user; thread: its own; channel: per member unless listed as shared."""
    if guild_id is None or channel is None:
        return SessionKey.direct(UserKey.of(PLATFORM, user.id))
    channel_id = getattr(channel, "id", 0)
    # By type, not class: an uncached channel arrives as a `PartialMessageable`.
    if getattr(channel, "type", None) in _THREADS:
        return SessionKey.thread(PLATFORM, guild_id, channel_id)
    if channel_id in settings.shared_channels:
        return SessionKey.channel(PLATFORM, guild_id, channel_id)
    return SessionKey.channel_member(PLATFORM, guild_id, channel_id,
                                     user=UserKey.of(PLATFORM, user.id))


def turn(message: discord.Message, me: discord.ClientUser, settings: DiscordSettings) -> Turn:
    """The turn a message starts: its conversation, its author, its text without the mention
    that addressed the bot; its id is the message's (a redelivery is the same turn)."""
    guild_id = message.guild.id if message.guild else None
    session = session_for(message.author, guild_id, message.channel, settings)
    text = re.sub(rf"<@!?{me.id}>", "", message.content).strip()
    return Turn(session, speaker(message.author), text, turn_id=str(message.id))


def allowed_place(guild_id: int | None, channel: Place, settings: DiscordSettings) -> bool:
    """The guild and channel allowlists (a thread counts as its parent channel too)."""
    if guild_id is None:
        return settings.allow_dms
    if settings.allowed_guilds and guild_id not in settings.allowed_guilds:
        return False
    if not settings.allowed_channels:
        return True
    ids = {getattr(channel, "id", 0), getattr(channel, "parent_id", 0)}
    return bool(ids & settings.allowed_channels)


def should_answer(message: discord.Message, me: discord.ClientUser,
                  settings: DiscordSettings) -> bool:
    """Humans only; in a guild only when mentioned or replied to, inside the allowlists."""
    if message.author.bot or message.webhook_id or message.type not in _CHAT_TYPES:
        return False
    guild_id = message.guild.id if message.guild else None
    if not allowed_place(guild_id, message.channel, settings):
        return False
    return guild_id is None or me in message.mentions or _replies_to(message, me)


def _replies_to(message: discord.Message, me: discord.ClientUser) -> bool:
    ref = message.reference
    resolved = ref.resolved if ref else None
    return isinstance(resolved, discord.Message) and resolved.author.id == me.id

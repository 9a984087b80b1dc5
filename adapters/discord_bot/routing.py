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
    member = UserKey.of(PLATFORM, user.id)
    if guild_id is None or channel is None:
        return SessionKey.direct(member)
    channel_id = getattr(channel, "id", 0)
    # By type, not class: an uncached channel arrives as a `PartialMessageable`.
    if getattr(channel, "type", None) in _THREADS:
        return SessionKey.thread(PLATFORM, guild_id, channel_id)
    if channel_id in settings.shared_channels:
        return SessionKey.channel(PLATFORM, guild_id, channel_id)
    return SessionKey.channel_member(PLATFORM, guild_id, channel_id, user=member)


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


def turn(message: discord.Message, me: discord.ClientUser,
         settings: DiscordSettings) -> Turn | None:
    """The turn a message starts: its conversation, its author, its text without the mention
    that addressed the bot, the message's id (a redelivery is the same turn). None unless a
    human wrote it, inside the allowlists, and in a guild mentioned or replied to the bot."""
    guild_id = message.guild.id if message.guild else None
    if (message.author.bot or message.webhook_id or message.type not in _CHAT_TYPES
            or not allowed_place(guild_id, message.channel, settings)
            or not (guild_id is None or me in message.mentions or _replies_to(message, me))):
        return None
    session = session_for(message.author, guild_id, message.channel, settings)
    text = re.sub(rf"<@!?{me.id}>", "", message.content).strip()
    return Turn(session, speaker(message.author), text, turn_id=str(message.id))


def _replies_to(message: discord.Message, me: discord.ClientUser) -> bool:
    ref = message.reference
    resolved = ref.resolved if ref else None
    return isinstance(resolved, discord.Message) and resolved.author.id == me.id

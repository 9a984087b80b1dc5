"""Telegram updates to core calls: who may talk, which conversation, what to answer."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections import deque
from collections.abc import AsyncGenerator, Callable, Coroutine
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
    User,
)
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from adapters import commands
from adapters.files import Remote, fetch
from adapters.pager import Piece
from adapters.telegram import media
from adapters.telegram.answer import deliver
from adapters.telegram.outbox import Outbox
from adapters.telegram.settings import TelegramSettings
from core.attachments import Limits
from core.keys import SessionKey, Speaker, UserKey
from core.service import ChatService, Turn

log = logging.getLogger("switchboard.telegram")
Context = ContextTypes.DEFAULT_TYPE
PLATFORM = "telegram"
COMMANDS = (BotCommand("start", "What this bot does"), BotCommand("help", "How to use it"),
            BotCommand("reset", "Start a fresh conversation"),
            BotCommand("forget", "Erase everything kept about you"),
            BotCommand("model", "Show or choose the model for this conversation"),
            BotCommand("persona", "Show or choose the bot's persona here"))
HELP = ("Hi! I'm an AI assistant. Send me a message and I'll answer; I remember our "
        "conversation. I also read photos, voice notes, PDFs and text files.\n"
        "In groups, mention me or reply to one of my messages.\n"
        "/reset starts a fresh conversation. /forget erases everything I keep about you.\n"
        "/model and /persona show or choose the model and persona of this conversation.\n"
        "↻ Regenerate under my latest answer asks me for another one.")
NOT_TEXT = ("Sorry, I can't read that kind of message. Send text, photos, voice notes, "
            "PDFs or text files.")
UNKNOWN = "I don't know that command. Try /help."
RESET = commands.RESET_DONE
ASK_FORGET = ("Erase everything I keep about you, in every chat? This cannot be undone. "
              "Tap a button, or send /forget yes.")
KEPT = "Nothing was erased."
NOT_YOURS = "Only the person who asked can answer this."
# Redeliveries within one process are dropped here, commands included; text turns are also
# deduplicated durably by the core (their turn id), which covers restarts; a file is
# then downloaded again before the core finds the turn answered, and nothing is sent.
RECENT_UPDATES = 1024


def user_key(user: User) -> UserKey:
    return UserKey.of(PLATFORM, user.id)


def speaker(user: User) -> Speaker:
    return Speaker(user_key(user), user.full_name or user.username or str(user.id), "Telegram")


def topic(message: Message) -> int | None:
    """The forum topic a message belongs to; plain reply threads are not topics."""
    return message.message_thread_id if message.is_topic_message else None


def session_key(update: Update, shared_groups: bool = False) -> SessionKey:
    """Private chat: one per user. Groups: one per member, or one per group/topic if shared."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        raise ValueError("update without a message and sender")
    if message.chat.type == ChatType.PRIVATE:
        return SessionKey.direct(user_key(user))
    thread = topic(message)
    where = (message.chat.id,) if thread is None else (message.chat.id, thread)
    if not shared_groups:
        return SessionKey.channel_member(PLATFORM, *where, user=user_key(user))
    return SessionKey.thread(PLATFORM, *where) if thread else SessionKey.channel(PLATFORM, *where)


def _mentions(message: Message, bot: Bot) -> list[str]:
    """The texts of entities that mention this bot, in the message text or caption."""
    kinds: list[str | None] = [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
    found = message.parse_entities(kinds) if message.text else message.parse_caption_entities(kinds)
    name = f"@{bot.username}".lower()
    return [text for entity, text in found.items()
            if text.lower() == name or (entity.user is not None and entity.user.id == bot.id)]


def _replies_to_bot(message: Message, bot: Bot) -> bool:
    # In forums every message "replies" to the topic's creation notice; that is not a reply.
    parent = message.reply_to_message
    return bool(parent and parent.from_user and parent.from_user.id == bot.id
                and not parent.forum_topic_created)


def remote(bot: Bot, file: media.Wanted) -> Remote:
    """A file to fetch through getFile, once `adapters.files.fetch` has checked its size."""
    async def download() -> bytes:
        return bytes(await (await bot.get_file(file.file_id)).download_as_bytearray())
    return Remote(file.name, file.claimed_type, file.size, download)


def outbox(message: Message, bot: Bot) -> Outbox:
    group = message.chat.type != ChatType.PRIVATE
    return Outbox(bot, message.chat.id, topic(message), message.message_id if group else None)


class TelegramChat:
    """PTB callbacks bound to one `ChatService` and the adapter's settings."""

    def __init__(self, service: ChatService, settings: TelegramSettings) -> None:
        self.service, self.settings = service, settings
        self.recent: deque[int] = deque(maxlen=RECENT_UPDATES)

    @property
    def limits(self) -> Limits:
        """The core's file limits, within what Telegram's getFile serves."""
        limits = self.service.settings.limits
        return dataclasses.replace(limits, max_bytes=min(limits.max_bytes, media.GET_FILE_LIMIT))

    async def gate(self, update: Update, context: Context) -> None:
        """Runs first: drops redeliveries, bots (ourselves included) and unlisted users."""
        user = update.effective_user
        if update.update_id in self.recent:  # a webhook retry or a re-fetch: answered already
            raise ApplicationHandlerStop
        self.recent.append(update.update_id)
        if user is None or user.is_bot or not self.settings.allows(user.id, user.username):
            if user is not None and not user.is_bot:
                log.info("ignored telegram user %s (not in TELEGRAM_ALLOWED_USERS)", user.id)
            raise ApplicationHandlerStop

    async def on_text(self, update: Update, context: Context) -> None:
        if update.effective_message is not None and update.effective_message.text is not None:
            await self._reply(update, context)

    async def on_file(self, update: Update, context: Context) -> None:
        """A photo, voice note, audio, round video or document, with its caption as the text."""
        message = update.effective_message
        file = media.wanted(message, self.limits.max_bytes) if message is not None else None
        if file is not None:
            await self._reply(update, context, remote(context.bot, file))

    async def _reply(self, update: Update, context: Context, *files: Remote) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        bot = context.bot
        text = self._addressed(message, bot)
        if text is None:
            return
        session, box = session_key(update, self.settings.shared_groups), outbox(message, bot)
        turn = Turn(session, speaker(user), text, turn_id=f"{message.chat.id}:{message.message_id}")
        stream = self._fetched(turn, files) if files else self.service.events(turn)
        await deliver(box, self.settings.edit_interval, stream, question=message.message_id,
                      asker=user.id, where=f"telegram session={session}")

    async def _fetched(self, turn: Turn, files: tuple[Remote, ...]
                       ) -> AsyncGenerator[Piece, None]:
        """The turn's answer once its files are downloaded; a refused or failed download ends
        the stream with its error, so the user hears of it on the one failure path (`answer`)."""
        uploads = await fetch(files, self.limits)
        stream = self.service.events(dataclasses.replace(turn, uploads=uploads))
        async with contextlib.aclosing(stream):
            async for piece in stream:
                yield piece

    def _addressed(self, message: Message, bot: Bot) -> str | None:
        """The text (or caption) meant for the bot, or None when a group message is not for it."""
        text = message.text or message.caption or ""
        if message.chat.type == ChatType.PRIVATE or _replies_to_bot(message, bot):
            return text
        mentions = _mentions(message, bot)
        for mention in mentions:
            text = text.replace(mention, " ")
        return " ".join(text.split()) if mentions else None

    async def on_other(self, update: Update, context: Context) -> None:
        """Stickers, videos, locations…: say what can be read (in groups, only if asked)."""
        message = update.effective_message
        if message is None:
            return
        private = message.chat.type == ChatType.PRIVATE
        if private or _replies_to_bot(message, context.bot) or _mentions(message, context.bot):
            await outbox(message, context.bot).say(NOT_TEXT)

    @staticmethod
    def saying(text: str) -> Callable[[Update, Context], Coroutine[Any, Any, None]]:
        """A callback that answers with a fixed notice (help, unknown command)."""
        async def say(update: Update, context: Context) -> None:
            if update.effective_message is not None:
                await outbox(update.effective_message, context.bot).say(text)
        return say

    async def on_reset(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        session = session_key(update, self.settings.shared_groups)
        said = await commands.outcome(commands.reset(self.service, session, user_key(user)),
                                      where=f"telegram session={session}")
        if said:
            await outbox(message, context.bot).say(said)

    async def on_forget(self, update: Update, context: Context) -> None:
        """`/forget yes` erases at once; `/forget` asks, with buttons only the asker may use."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        box = outbox(message, context.bot)
        if [a.lower() for a in context.args or []] == ["yes"]:
            return await box.say(await self._erase(user))
        buttons = InlineKeyboardMarkup([[
            InlineKeyboardButton("Yes, erase everything", callback_data=f"forget:yes:{user.id}"),
            InlineKeyboardButton("Cancel", callback_data=f"forget:no:{user.id}")]])
        await box.say(ASK_FORGET, reply_markup=buttons)

    async def on_forget_button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None or query.data is None:
            return
        _, choice, owner = query.data.split(":")
        if int(owner) != query.from_user.id:
            await query.answer(NOT_YOURS, show_alert=True)
            return
        outcome = await self._erase(query.from_user) if choice == "yes" else KEPT
        await query.answer()
        with contextlib.suppress(TelegramError):
            await query.edit_message_text(outcome)

    async def _erase(self, user: User) -> str:
        said = await commands.outcome(commands.forget(self.service, user_key(user)),
                                      where=f"telegram forget user={user.id}")
        return said or KEPT

    async def on_error(self, update: object, context: Context) -> None:
        # PTB's own errors (network, bad requests); logged without the update's contents.
        log.error("telegram error: %s", type(context.error).__name__, exc_info=context.error)

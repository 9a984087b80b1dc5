"""Telegram messages to core turns: who may talk, which conversation, what the bot was asked."""

from __future__ import annotations

import dataclasses
import logging

from telegram import Bot, CallbackQuery, Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, ContextTypes

from adapters import answers
from adapters.answers import Presser
from adapters.files import Remote, answered, fetch
from adapters.telegram import media
from adapters.telegram.answer import Chat, Pressed
from adapters.telegram.outbox import for_message, topic
from adapters.telegram.people import PLATFORM, People, user_key
from adapters.telegram.settings import TelegramSettings
from core.attachments import Limits
from core.keys import SessionKey
from core.service import ChatService, Turn

log = logging.getLogger("switchboard.telegram")
Context = ContextTypes.DEFAULT_TYPE
NOT_TEXT = ("Sorry, I can't read that kind of message. Send text, photos, voice notes, "
            "PDFs or text files.")


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


def addressed(message: Message, bot: Bot) -> str | None:
    """The text (or caption) meant for the bot, or None when a group message is not for it."""
    text = message.text or message.caption or ""
    if message.chat.type == ChatType.PRIVATE or _replies_to_bot(message, bot):
        return text
    mentions = _mentions(message, bot)
    for mention in mentions:
        text = text.replace(mention, " ")
    return " ".join(text.split()) if mentions else None


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


async def press_of(update: Update) -> tuple[CallbackQuery, Message, str] | None:
    """A button press, the message it is on and the data it carries; None (the press answered)
    when Telegram no longer shows the bot that message (too old) or it carries nothing."""
    query = update.callback_query
    if query is not None and query.data and isinstance(query.message, Message):
        return query, query.message, query.data
    if query is not None:
        await query.answer()
    return None


def remote(bot: Bot, file: media.Wanted) -> Remote:
    """A file to fetch through getFile, once `adapters.files.fetch` has checked its size."""
    async def download() -> bytes:
        return bytes(await (await bot.get_file(file.file_id)).download_as_bytearray())
    return Remote(file.name, file.claimed_type, file.size, download)


class TelegramChat:
    """PTB callbacks for messages, bound to one `ChatService` and the adapter's settings."""

    def __init__(self, service: ChatService, settings: TelegramSettings, people: People) -> None:
        self.service, self.settings, self.people = service, settings, people
        limits = service.settings.limits  # within what Telegram's getFile serves
        self.limits: Limits = dataclasses.replace(
            limits, max_bytes=min(limits.max_bytes, media.GET_FILE_LIMIT))

    async def gate(self, update: Update, context: Context) -> None:
        """Runs before the handlers: drops bots (ourselves included) and unlisted users."""
        user = update.effective_user
        if user is None or user.is_bot or not self.settings.allows(user.id, user.username):
            if user is not None and not user.is_bot:
                log.info("ignored telegram user %s (not in TELEGRAM_ALLOWED_USERS)", user.id)
            raise ApplicationHandlerStop

    async def on_message(self, update: Update, context: Context) -> None:
        """Text, or a photo, voice note, audio, round video or document with its caption."""
        message, user = update.effective_message, update.effective_user
        text = addressed(message, context.bot) if message is not None else None
        if message is None or user is None or text is None:
            return
        file = media.wanted(message, self.limits.max_bytes)
        files = [remote(context.bot, file)] if file else []
        session = session_key(update, self.settings.shared_groups)
        who = await self.people.speaker(message.chat, user)
        turn = Turn(session, who, text, f"{message.chat.id}:{message.message_id}")
        fetched = (lambda: fetch(files, self.limits)) if files else None
        await answers.reply(Chat(for_message(message, context.bot), self.settings.edit_interval),
                            answered(self.service, turn, fetched),
                            question=str(message.message_id), asker=str(user.id),
                            where=f"telegram session={session}")

    async def on_press(self, update: Update, context: Context) -> None:
        """A button under an answer (Regenerate, Approve, Deny), answered by the shared flow."""
        pressed = await press_of(update)
        if pressed is None:
            return
        query, message, data = pressed
        user = query.from_user
        who = Presser(str(user.id), session_key(update, self.settings.shared_groups),
                      lambda: self.people.speaker(message.chat, user))
        await answers.pressed(self.service, data, who,
                              Pressed(query, message, context.bot, self.settings.edit_interval),
                              where="telegram")

    async def on_other(self, update: Update, context: Context) -> None:
        """Stickers, videos, locations…: say what can be read (in groups, only if asked)."""
        message = update.effective_message
        if message is not None and addressed(message, context.bot) is not None:
            await for_message(message, context.bot).say(NOT_TEXT)

    async def on_error(self, update: object, context: Context) -> None:
        # PTB's own errors (network, bad requests); logged without the update's contents.
        log.error("telegram error: %s", type(context.error).__name__, exc_info=context.error)

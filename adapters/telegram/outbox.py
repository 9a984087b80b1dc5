"""One chat's side of a reply: messages as text + entities (never a parse_mode), drafts, notices."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import Bot, InlineKeyboardMarkup, Message, MessageEntity, ReplyParameters
from telegram.constants import ChatAction, ChatType
from telegram.error import BadRequest, TelegramError

from adapters.render import TelegramPart

log = logging.getLogger("switchboard.telegram")
TYPING_EVERY = 4.5  # Telegram shows "typing…" for about 5 s
# Only an answer slow to show gets "typing…": each request counts against the flood limits,
# and with many chats answering at once a typing request would delay their first words.
TYPING_AFTER = 0.5
T = TypeVar("T")
Entities = list[MessageEntity] | None


def entities(part: TelegramPart) -> Entities:
    return [MessageEntity(e.type, e.offset, e.length, url=e.url, language=e.language)
            for e in part.entities] or None


async def _formatted(part: TelegramPart, request: Callable[[Entities], Awaitable[T]]) -> T:
    """Make `request` with the part's entities; text without them if Telegram refuses them.

    The renderer only makes entities Telegram documents as valid, so a refusal is a renderer
    bug: the answer still arrives, unformatted, and the log says so.
    """
    try:
        return await request(entities(part))
    except BadRequest as exc:
        if not part.entities or "can't parse entities" not in exc.message.lower():
            raise
        log.warning("telegram refused a message's entities; sent as plain text")
        return await request(None)


class Outbox:
    """Where a reply goes: one chat (and forum topic), quoting the message it answers in groups.

    It is also the shared pager's platform (send, edit, delete). Flood control is the bot's
    rate limiter's job (adapters/telegram/flood.py): every request waits its turn there.
    """

    def __init__(self, bot: Bot, chat_id: int, thread_id: int | None,
                 quote: int | None) -> None:
        self.bot, self.chat_id, self.thread_id, self.quote = bot, chat_id, thread_id, quote

    @property
    def private(self) -> bool:
        return self.chat_id > 0  # Telegram gives groups and channels negative ids

    async def send(self, part: TelegramPart, **extra: Any) -> int:
        """Send a new message; only the first message of a reply quotes the question."""
        reply = ReplyParameters(self.quote, allow_sending_without_reply=True) \
            if self.quote else None
        self.quote = None
        message = await _formatted(part, lambda found: self.bot.send_message(
            self.chat_id, part.text, entities=found, message_thread_id=self.thread_id,
            reply_parameters=reply, **extra))
        return message.message_id

    async def say(self, text: str, **extra: Any) -> None:
        """A notice (help, rate limit, error), as plain text; a notice that fails is dropped."""
        try:
            await self.send(TelegramPart(text, ()), **extra)
        except TelegramError as exc:  # logged without the text: it may quote the user
            log.warning("notice not sent (%s)", type(exc).__name__)

    async def document(self, name: str, data: bytes, caption: str) -> None:
        """Send a file (an export) as a document, with a plain caption."""
        await self.bot.send_document(self.chat_id, data, filename=name, caption=caption,
                                     message_thread_id=self.thread_id)

    async def edit(self, message_id: int, part: TelegramPart) -> None:
        """Replace a message's text and entities; an edit that changes nothing is no error."""
        try:
            await _formatted(part, lambda found: self.bot.edit_message_text(
                part.text, self.chat_id, message_id, entities=found))
        except BadRequest as exc:
            if "message is not modified" not in exc.message.lower():
                raise

    async def markup(self, message_id: int, markup: InlineKeyboardMarkup | None) -> None:
        """Put a keyboard on a message (None removes it); cosmetic, so a refusal is logged."""
        try:
            await self.bot.edit_message_reply_markup(self.chat_id, message_id,
                                                     reply_markup=markup)
        except TelegramError as exc:
            log.warning("buttons not %s (%s)", "set" if markup else "removed",
                        type(exc).__name__)

    async def delete(self, message_id: int) -> None:
        with contextlib.suppress(TelegramError):  # already gone, or too old to delete
            await self.bot.delete_message(self.chat_id, message_id)

    async def draft(self, draft_id: int, part: TelegramPart) -> None:
        """Show `part` as the chat's message draft (private chats only)."""
        await _formatted(part, lambda found: self.bot.send_message_draft(
            self.chat_id, draft_id, part.text, message_thread_id=self.thread_id,
            entities=found))

    async def typing(self) -> None:
        """Show "typing…" from `TYPING_AFTER` seconds on, until cancelled."""
        await asyncio.sleep(TYPING_AFTER)
        while True:
            with contextlib.suppress(Exception):  # cosmetic: never fail a reply over it
                await self.bot.send_chat_action(self.chat_id, ChatAction.TYPING,
                                                message_thread_id=self.thread_id)
            await asyncio.sleep(TYPING_EVERY)


def topic(message: Message) -> int | None:
    """The forum topic a message belongs to; plain reply threads are not topics."""
    return message.message_thread_id if message.is_topic_message else None


def for_message(message: Message, bot: Bot, quote: int | None = None) -> Outbox:
    """Replies to `message`'s chat (and topic); in groups the first one quotes the question."""
    group = message.chat.type != ChatType.PRIVATE
    return Outbox(bot, message.chat.id, topic(message), (quote or message.message_id)
                  if group else None)

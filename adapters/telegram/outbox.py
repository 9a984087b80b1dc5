"""One chat's side of a reply: send, edit, delete, draft and "typing…", HTML or plain text."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from telegram import Bot, Message, ReplyParameters
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, TelegramError

from adapters.telegram.render import to_html

log = logging.getLogger("switchboard.telegram")
TYPING_EVERY = 4.5  # Telegram shows "typing…" for about 5 s


def _unparsable(exc: BadRequest) -> bool:
    return "can't parse entities" in exc.message.lower()


def _unchanged(exc: BadRequest) -> bool:
    return "message is not modified" in exc.message.lower()


class Outbox:
    """Where a reply goes: one chat (and forum topic), quoting the message it answers in groups.

    Flood control is the bot's rate limiter's job (adapters/telegram/flood.py): every request
    here waits its turn there, and a 429 is waited out and retried there.
    """

    def __init__(self, bot: Bot, chat_id: int, thread_id: int | None,
                 quote: int | None) -> None:
        self.bot, self.chat_id, self.thread_id, self.quote = bot, chat_id, thread_id, quote

    @property
    def private(self) -> bool:
        return self.chat_id > 0  # Telegram gives groups and channels negative ids

    async def send(self, text: str, html: bool = False, **extra: Any) -> Message:
        """Send a new message; HTML that Telegram cannot parse is sent again as plain text."""
        reply = ReplyParameters(self.quote, allow_sending_without_reply=True) \
            if self.quote else None
        self.quote = None  # only the first message of a reply quotes the question

        async def attempt(body: str, mode: str | None) -> Message:
            return await self.bot.send_message(
                self.chat_id, body, parse_mode=mode, message_thread_id=self.thread_id,
                reply_parameters=reply, **extra)
        if not html:
            return await attempt(text, None)
        try:
            return await attempt(to_html(text), ParseMode.HTML)
        except BadRequest as exc:
            if not _unparsable(exc):
                raise
            log.warning("HTML rejected by Telegram; sending plain text")
            return await attempt(text, None)

    async def edit(self, message_id: int, text: str, html: bool = False) -> None:
        """Replace a message's text; identical text is not an error, bad HTML falls back."""
        async def attempt(body: str, mode: str | None) -> None:
            await self.bot.edit_message_text(body, self.chat_id, message_id, parse_mode=mode)
        try:
            await attempt(to_html(text) if html else text, ParseMode.HTML if html else None)
        except BadRequest as exc:
            if _unchanged(exc):
                return
            if not (html and _unparsable(exc)):
                raise
            log.warning("HTML rejected by Telegram; editing as plain text")
            with contextlib.suppress(BadRequest):
                await attempt(text, None)

    async def delete(self, message_id: int) -> None:
        with contextlib.suppress(TelegramError):  # already gone, or too old to delete
            await self.bot.delete_message(self.chat_id, message_id)

    async def draft(self, draft_id: int, text: str) -> None:
        """Show `text` as the chat's message draft (private chats only), as plain text."""
        await self.bot.send_message_draft(self.chat_id, draft_id, text,
                                          message_thread_id=self.thread_id)

    async def typing(self) -> None:
        """Show "typing…" until cancelled."""
        while True:
            with contextlib.suppress(Exception):  # cosmetic: never fail a reply over it
                await self.bot.send_chat_action(self.chat_id, ChatAction.TYPING,
                                                message_thread_id=self.thread_id)
            await asyncio.sleep(TYPING_EVERY)

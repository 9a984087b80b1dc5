"""Sending to one chat: flood-control retries, throttled streamed edits, HTML or plain text."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import logging
import math
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from html import escape
from typing import Any, TypeVar

from telegram import Bot, Message, ReplyParameters
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from adapters.telegram.render import pieces, to_html

log = logging.getLogger("switchboard.telegram")
T = TypeVar("T")
MAX_RETRIES = 3
TYPING_EVERY = 4.5  # Telegram shows "typing…" for about 5 s


def retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the int form will become a timedelta
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def call(request: Callable[[], Awaitable[T]]) -> T:
    """Run one Bot API request, waiting out Telegram's flood control (429) a few times."""
    for attempt in range(MAX_RETRIES + 1):
        try:
            return await request()
        except RetryAfter as exc:
            if attempt == MAX_RETRIES:
                raise
            wait = retry_seconds(exc)
            log.warning("flood control: retrying in %.1fs", wait)
            await asyncio.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


def _unparsable(exc: BadRequest) -> bool:
    return "can't parse entities" in exc.message.lower()


def _unchanged(exc: BadRequest) -> bool:
    return "message is not modified" in exc.message.lower()


class Outbox:
    """Where a reply goes: one chat (and forum topic), quoting the message it answers in groups."""

    def __init__(self, bot: Bot, chat_id: int, thread_id: int | None,
                 quote: int | None) -> None:
        self.bot, self.chat_id, self.thread_id, self.quote = bot, chat_id, thread_id, quote

    async def send(self, text: str, html: bool = False, **extra: Any) -> Message:
        """Send a new message; HTML that Telegram cannot parse is sent again as plain text."""
        reply = ReplyParameters(self.quote, allow_sending_without_reply=True) \
            if self.quote else None
        self.quote = None  # only the first message of a reply quotes the question

        async def attempt(body: str, mode: str | None) -> Message:
            return await call(lambda: self.bot.send_message(
                self.chat_id, body, parse_mode=mode, message_thread_id=self.thread_id,
                reply_parameters=reply, **extra))
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
            await call(lambda: self.bot.edit_message_text(
                body, self.chat_id, message_id, parse_mode=mode))
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
            await call(lambda: self.bot.delete_message(self.chat_id, message_id))

    async def typing(self) -> None:
        """Show "typing…" until cancelled."""
        while True:
            with contextlib.suppress(Exception):  # cosmetic: never fail a reply over it
                await self.bot.send_chat_action(self.chat_id, ChatAction.TYPING,
                                                message_thread_id=self.thread_id)
            await asyncio.sleep(TYPING_EVERY)


class StreamedReply:
    """One answer shown while it grows, in as many messages as it needs.

    While the answer streams, finished messages get their final (HTML) form and the last one
    grows as plain text; at the end each message gets its final form. Every step updates only
    the first message that is out of date, one request per `interval`, so the pace stays within
    Telegram's flood limits and text moving to the next message is never shown twice.
    """

    def __init__(self, outbox: Outbox, interval: float) -> None:
        self.outbox, self.interval = outbox, interval
        self.ids: list[int] = []
        self.shown: list[str] = []  # what each message shows, as the equivalent Telegram HTML
        self.last = -math.inf

    async def run(self, stream: AsyncIterator[str]) -> None:
        """Consume the core's stream, showing it as it grows, then format every message."""
        typing = asyncio.create_task(self.outbox.typing())
        text = ""
        try:
            async for piece in stream:
                text += piece
                if time.monotonic() - self.last >= self.interval:
                    await self._step(text, final=False)
                    if self.ids:
                        typing.cancel()
        finally:
            typing.cancel()
        while await self._step(text, final=True):
            pass
        await self._drop_extra(len(pieces(text)))

    async def _step(self, text: str, final: bool) -> bool:
        """Bring the first out-of-date message up to date; False when none is."""
        parts = pieces(text)
        for index, part in enumerate(parts):
            formatted = final or index < len(parts) - 1
            looks = to_html(part) if formatted else escape(part, quote=False)
            if index < len(self.shown) and self.shown[index] == looks:
                continue  # Telegram refuses an edit that changes nothing
            if final:  # the formatting pass keeps to the streaming pace
                await asyncio.sleep(max(0.0, self.last + self.interval - time.monotonic()))
            await self._put(index, part, formatted)
            self.shown[index:index + 1] = [looks]
            self.last = time.monotonic()
            return True
        return False

    async def _put(self, index: int, text: str, formatted: bool) -> None:
        if index < len(self.ids):
            await self.outbox.edit(self.ids[index], text, html=formatted)
        else:
            self.ids.append((await self.outbox.send(text, html=formatted)).message_id)

    async def _drop_extra(self, needed: int) -> None:
        # Re-splitting a grown answer can, rarely, need fewer messages than were streamed.
        for message_id in self.ids[needed:]:
            await self.outbox.delete(message_id)
        del self.ids[needed:], self.shown[needed:]

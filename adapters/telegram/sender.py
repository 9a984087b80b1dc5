"""Sending to one chat: flood-control retries, throttled streamed edits, HTML or plain text."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import logging
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from telegram import Bot, Message, ReplyParameters
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, RetryAfter
from telegram.warnings import PTBDeprecationWarning

from adapters.telegram.render import pieces, preview, to_html

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

    async def typing(self) -> None:
        """Show "typing…" until cancelled."""
        while True:
            with contextlib.suppress(Exception):  # cosmetic: never fail a reply over it
                await self.bot.send_chat_action(self.chat_id, ChatAction.TYPING,
                                                message_thread_id=self.thread_id)
            await asyncio.sleep(TYPING_EVERY)


class StreamedReply:
    """One answer shown while it grows: a message edited at most once per `interval`."""

    def __init__(self, outbox: Outbox, interval: float) -> None:
        self.outbox, self.interval = outbox, interval
        self.message_id: int | None = None
        self.shown = ""
        self.last = 0.0

    async def run(self, stream: AsyncIterator[str]) -> None:
        """Consume the core's stream, then send the finished answer as formatted messages."""
        typing = asyncio.create_task(self.outbox.typing())
        text = ""
        try:
            async for piece in stream:
                text += piece
                if time.monotonic() - self.last >= self.interval:
                    await self._show(preview(text))
                    typing.cancel()
        finally:
            typing.cancel()
        await self._finish(text)

    async def _show(self, text: str) -> None:
        if not text.strip() or text == self.shown:
            return
        if self.message_id is None:
            self.message_id = (await self.outbox.send(text)).message_id
        else:
            await self.outbox.edit(self.message_id, text)
        self.shown, self.last = text, time.monotonic()

    async def _finish(self, text: str) -> None:
        for index, part in enumerate(pieces(text)):
            if index == 0 and self.message_id is not None:
                if part == self.shown and to_html(part) == part:
                    continue  # the last edit already shows exactly this
                # The formatted edit keeps to the same pace as the streamed ones.
                await asyncio.sleep(max(0.0, self.last + self.interval - time.monotonic()))
                await self.outbox.edit(self.message_id, part, html=True)
            else:
                await self.outbox.send(part, html=True)

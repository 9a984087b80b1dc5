"""Streaming an answer into a chat: native drafts in private chats, paced edits in groups."""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import time
from collections.abc import AsyncIterator
from html import escape
from typing import Protocol

from telegram.error import TelegramError

from adapters.telegram.outbox import Outbox
from adapters.telegram.render import pieces, to_html

log = logging.getLogger("switchboard.telegram")


class Reply(Protocol):
    """How one answer reaches the chat, one request per step."""

    @property
    def shown_any(self) -> bool:
        """Whether the chat shows any of the answer yet (then "typing…" stops)."""

    async def step(self, text: str, final: bool) -> bool:
        """Make the first request that brings the chat closer to `text`; False when none is."""


class _Answer:
    """The answer so far, read from the core in its own task: Telegram's pace (flood limits)
    never holds up the model stream or its deadline."""

    def __init__(self) -> None:
        self.text = ""
        self.grew = asyncio.Event()

    async def read(self, stream: AsyncIterator[str]) -> None:
        try:
            async for piece in stream:
                self.text += piece
                self.grew.set()
        finally:
            self.grew.set()


async def deliver(box: Outbox, stream: AsyncIterator[str], interval: float) -> None:
    """Show the answer while it grows, at most one request per `interval`, then its final form."""
    reply: Reply = DraftReply(box) if box.private else StreamedReply(box)
    answer = _Answer()
    reader = asyncio.create_task(answer.read(stream))
    typing = asyncio.create_task(box.typing())
    last = -math.inf
    try:
        while await _grown(answer, reader):
            await asyncio.sleep(max(0.0, last + interval - time.monotonic()))
            if not reader.done() and await reply.step(answer.text, final=False):
                last = time.monotonic()
            if reply.shown_any:
                typing.cancel()
        reader.result()  # the model's error, if it failed midway
    finally:
        typing.cancel()
        await _stop(reader)
    while await _paced(reply, answer.text, last, interval):
        last = time.monotonic()


async def _grown(answer: _Answer, reader: asyncio.Task[None]) -> bool:
    """Wait until the answer grew (True) or the stream ended (False)."""
    waiter = asyncio.create_task(answer.grew.wait())
    await asyncio.wait([reader, waiter], return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    answer.grew.clear()
    return not reader.done()


async def _stop(reader: asyncio.Task[None]) -> None:
    # asyncio.wait, not `await reader`: our own cancellation must still propagate.
    reader.cancel()
    await asyncio.wait([reader])
    if not reader.cancelled():
        reader.exception()  # retrieved: reader.result() or the step's error already reports it


async def _paced(reply: Reply, text: str, last: float, interval: float) -> bool:
    await asyncio.sleep(max(0.0, last + interval - time.monotonic()))
    return await reply.step(text, final=True)


class StreamedReply:
    """Groups: one answer in as many messages as it needs, edited while it grows.

    Finished messages get their final (HTML) form and the last one grows as plain text; at
    the end each message gets its final form. Every step updates only the first message that
    is out of date, so text moving to the next message is never shown twice.
    """

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.ids: list[int] = []
        self.shown: list[str] = []  # what each message shows, as the equivalent Telegram HTML

    @property
    def shown_any(self) -> bool:
        return bool(self.ids)

    async def step(self, text: str, final: bool) -> bool:
        parts = pieces(text)
        for index, part in enumerate(parts):
            formatted = final or index < len(parts) - 1
            looks = to_html(part) if formatted else escape(part, quote=False)
            if index < len(self.shown) and self.shown[index] == looks:
                continue  # Telegram refuses an edit that changes nothing
            await self.put(index, part, formatted)
            self.shown[index:index + 1] = [looks]
            return True
        return final and await self._drop_extra(len(parts))

    async def put(self, index: int, text: str, formatted: bool) -> None:
        if index < len(self.ids):
            await self.outbox.edit(self.ids[index], text, html=formatted)
        else:
            self.ids.append((await self.outbox.send(text, html=formatted)).message_id)

    async def _drop_extra(self, needed: int) -> bool:
        # Re-splitting a grown answer can, rarely, need fewer messages than were streamed.
        if len(self.ids) <= needed:
            return False
        await self.outbox.delete(self.ids.pop())
        del self.shown[len(self.ids):]
        return True


class DraftReply:
    """Private chats: the growing message is a native draft (`sendMessageDraft`), which has no
    edit limits; each message is sent once, in its final form, when it is complete."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.edits = StreamedReply(outbox)  # the messages sent, should a re-split change one
        self.drafted = ""
        self.draft_id = _draft_id()
        self.drafting = True  # off once Telegram refuses a draft: the answer still arrives

    @property
    def shown_any(self) -> bool:
        return bool(self.drafted) or self.edits.shown_any

    async def step(self, text: str, final: bool) -> bool:
        parts = pieces(text)
        done = len(self.edits.ids)
        if done < len(parts) - (0 if final else 1):  # a complete message: sent once, formatted
            await self.edits.put(done, parts[done], formatted=True)
            self.edits.shown.append(to_html(parts[done]))
            self.drafted, self.draft_id = "", _draft_id()  # the next message drafts afresh
            return True
        if final:  # all sent; only a re-split that changed a sent message needs a request
            return await self.edits.step(text, final=True)
        return await self._draft(parts[-1] if len(parts) > done else "")

    async def _draft(self, text: str) -> bool:
        if not self.drafting or not text.strip() or text == self.drafted:
            return False  # an empty or unchanged draft is never sent
        try:
            await self.outbox.draft(self.draft_id, text)
        except TelegramError as exc:
            log.warning("message draft refused (%s); the answer comes as one message",
                        type(exc).__name__)
            self.drafting = False
            return False
        self.drafted = text
        return True


def _draft_id() -> int:
    return secrets.randbelow(2**31 - 2) + 1  # non-zero, fits Telegram's Integer

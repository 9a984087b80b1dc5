"""Streaming an answer into a chat on the shared pager: drafts in private chats, edits in groups."""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from html import escape

from telegram.error import TelegramError

from adapters.paging import Pace, Pager, Render, Rendered, wait
from adapters.telegram.outbox import Outbox
from adapters.telegram.render import LIMIT, to_html
from adapters.textsplit import split, utf16_len

log = logging.getLogger("switchboard.telegram")


@dataclass(frozen=True, slots=True)
class Part:
    """One Telegram message as the pager sees it; two parts are equal when they look the same,
    so a finished message that reads as it did while growing is never edited."""

    looks: str  # what the chat shows, as the equivalent Telegram HTML
    source: str = field(compare=False)  # the Markdown; sent as plain text if HTML is refused
    html: bool = field(compare=False)  # sent formatted, or as plain text (while growing)


def render(text: str, limit: int = LIMIT) -> list[Rendered[Part]]:
    """The answer as Telegram messages: formatted once finished, plain text while growing.

    The one call to swap for another renderer (e.g. text + entities).
    """
    return [Rendered(done=Part(to_html(piece), piece, html=True),
                     growing=Part(escape(piece, quote=False), piece, html=False))
            for piece in split(text, limit, utf16_len)]


class Chat:
    """The pager's platform: one chat's messages, through the outbox."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    async def send(self, part: Part) -> int:
        return (await self.outbox.send(part.source, html=part.html)).message_id

    async def edit(self, message_id: int, part: Part) -> None:
        await self.outbox.edit(message_id, part.source, html=part.html)

    async def delete(self, message_id: int) -> None:
        await self.outbox.delete(message_id)


class Edited:
    """Groups: messages sent and edited as the answer grows, one request per interval."""

    def __init__(self, outbox: Outbox, interval: float,
                 pages: Render[Part] = render) -> None:
        self.pager = Pager(Chat(outbox), pages, limit=LIMIT, pace=Pace(interval))

    @property
    def shown_any(self) -> bool:
        return bool(self.pager.message_ids)

    def wait(self) -> float:
        return wait(self.pager.sent, self.pager.pace, time.monotonic())

    async def show(self, text: str) -> None:
        await self.pager.show(text)

    async def finish(self, text: str) -> None:
        await self.pager.finish(text)


class Drafted(Edited):
    """Private chats: the growing message is a native draft (`sendMessageDraft`), which has no
    edit limits; each message is sent once, formatted, when it is complete."""

    def __init__(self, outbox: Outbox, interval: float) -> None:
        super().__init__(outbox, interval, self._complete)  # the pager: finished messages only
        self.outbox, self.interval, self.finished = outbox, interval, False
        self.drafted, self.draft_id, self.drafting = "", _draft_id(), True
        self.last = -math.inf  # when the last draft went out: drafts keep the same pace

    @property
    def shown_any(self) -> bool:
        return bool(self.drafted) or super().shown_any

    def _complete(self, text: str, limit: int) -> Sequence[Rendered[Part]]:
        parts = render(text, limit)
        if self.finished:
            return parts
        return [Rendered(r.done, r.done) for r in parts[:-1]]  # the last one is the draft

    def wait(self) -> float:
        return max(super().wait(), self.last + self.interval - time.monotonic())

    async def show(self, text: str) -> None:
        """One request: a message that is complete, else the draft of the growing one."""
        sent = len(self.pager.message_ids)
        await self.pager.show(text)
        if len(self.pager.message_ids) > sent:
            self.drafted, self.draft_id = "", _draft_id()  # the next message drafts afresh
            return
        parts = split(text, LIMIT, utf16_len)
        if len(parts) > sent:
            await self._draft(parts[-1])

    async def finish(self, text: str) -> None:
        self.finished = True
        await self.pager.finish(text)

    async def _draft(self, text: str) -> None:
        if not self.drafting or not text.strip() or text == self.drafted:
            return  # an empty or unchanged draft is never sent
        try:
            await self.outbox.draft(self.draft_id, text)
        except TelegramError as exc:  # the answer still arrives, as one message at the end
            log.warning("message draft refused (%s); sending the answer when complete",
                        type(exc).__name__)
            self.drafting = False
            return
        self.drafted, self.last = text, time.monotonic()


def _draft_id() -> int:
    return secrets.randbelow(2**31 - 2) + 1  # non-zero, fits Telegram's Integer


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
    """Show the answer while it grows, within the pace, then give every message its final form."""
    reply = Drafted(box, interval) if box.private else Edited(box, interval)
    answer = _Answer()
    reader = asyncio.create_task(answer.read(stream))
    typing = asyncio.create_task(box.typing())
    try:
        while await _grown(answer, reader):
            await asyncio.sleep(max(0.0, reply.wait()))
            await reply.show(answer.text)
            if reply.shown_any:
                typing.cancel()
        reader.result()  # the model's error, if it failed midway
    finally:
        typing.cancel()
        await _stop(reader)
    await reply.finish(answer.text)


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

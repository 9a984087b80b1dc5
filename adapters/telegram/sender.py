"""Streaming an answer into a chat on the shared pager: drafts in private chats, edits in groups."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, TypeVar

from telegram.error import TelegramError

from adapters import render
from adapters.paging import Pace, Pager, Platform, Render, Rendered, plain, wait
from adapters.render import TelegramPart
from adapters.telegram.outbox import Outbox

log = logging.getLogger("switchboard.telegram")
LIMIT = render.TELEGRAM_LIMIT
P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class Part:
    """A private chat's message as the pager sees it: a draft until it is `final`."""

    shown: TelegramPart
    final: bool


def edited(text: str, limit: int) -> list[Rendered[TelegramPart]]:
    """Groups: each message shows its share of the answer rendered so far, edited as it grows."""
    return plain(render.telegram(text, limit))


def drafted(text: str, limit: int) -> list[Rendered[Part]]:
    """Private chats: the same messages, the growing one a draft until it is complete."""
    return [Rendered(done=Part(part, final=True), growing=Part(part, final=False))
            for part in render.telegram(text, limit)]


class Drafts:
    """A private chat as the pager's platform: the growing message is a native draft
    (`sendMessageDraft`, which has no edit limits), sent as a message once complete.

    The pager knows each message by its draft id; `sent` maps it to the message it became.
    """

    def __init__(self, box: Outbox) -> None:
        self.box, self.drafting = box, True
        self.sent: dict[int, int] = {}

    async def send(self, part: Part) -> int:
        draft_id = secrets.randbelow(2**31 - 2) + 1  # non-zero, fits Telegram's Integer
        await self.edit(draft_id, part)
        return draft_id

    async def edit(self, draft_id: int, part: Part) -> None:
        if draft_id in self.sent:  # a finished message that a re-render changed
            await self.box.edit(self.sent[draft_id], part.shown)
        elif part.final:
            self.sent[draft_id] = await self.box.send(part.shown)
        elif self.drafting:
            await self._draft(draft_id, part.shown)

    async def delete(self, draft_id: int) -> None:
        if draft_id in self.sent:  # a draft needs no deleting: the next one replaces it
            await self.box.delete(self.sent.pop(draft_id))

    async def _draft(self, draft_id: int, part: TelegramPart) -> None:
        try:
            await self.box.draft(draft_id, part)
        except TelegramError as exc:  # the answer still arrives, each message when complete
            log.warning("message draft refused (%s); sending the answer when complete",
                        type(exc).__name__)
            self.drafting = False


class Streamed(Pager[P, int]):
    """The shared pager, reading the model in its own task: Telegram's pace (flood limits)
    never holds up the model stream or its deadline. "typing…" shows until a message does."""

    def __init__(self, platform: Platform[P, int], pages: Render[P], box: Outbox,
                 interval: float) -> None:
        super().__init__(platform, pages, limit=LIMIT, pace=Pace(interval))
        self.box = box

    async def run(self, stream: AsyncIterator[str]) -> str:
        """Show the answer while it grows, within the pace, then give it its final form."""
        answer = _Answer()
        reader = asyncio.create_task(answer.read(stream))
        typing = asyncio.create_task(self.box.typing())
        try:
            while await answer.grown(reader):
                await self.sleep(max(0.0, wait(self.sent, self.pace, self.clock())))
                await self.show(answer.text)
                if self.box.shown:
                    typing.cancel()
            reader.result()  # the model's error, if it failed midway
        finally:
            typing.cancel()
            await _stop(reader)
        await self.finish(answer.text)
        return answer.text


def pager(box: Outbox, interval: float) -> Streamed[Any]:
    """Drafts in private chats (Telegram has them only there), edits in groups."""
    if box.private:
        return Streamed(Drafts(box), drafted, box, interval)
    return Streamed(box, edited, box, interval)


class _Answer:
    """The answer so far, as the reader task received it; `grew` is also set when it ends."""

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

    async def grown(self, reader: asyncio.Task[None]) -> bool:
        """Wait until the answer grew (True) or the reader ended (False)."""
        await self.grew.wait()
        self.grew.clear()
        return not reader.done()


async def _stop(reader: asyncio.Task[None]) -> None:
    # asyncio.wait, not `await reader`: our own cancellation must still propagate.
    reader.cancel()
    await asyncio.wait([reader])
    if not reader.cancelled():
        reader.exception()  # retrieved: reader.result() or the step's error already reports it

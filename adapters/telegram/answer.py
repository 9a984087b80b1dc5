"""How an answer shows in a Telegram chat: drafts in private chats, edits in groups, and the
inline buttons under it; the chat as the shared answer flow's `Surface`.

Buttons go on the answer's last message once it is complete (and stored), with an
`editMessageReplyMarkup` afterwards, so the pager, drafts and edits stay as they are.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import TelegramError

from adapters import render
from adapters.answers import Button, Last
from adapters.failures import Notice
from adapters.pager import Pager, Piece
from adapters.paging import Pace, Rendered, plain
from adapters.render import TelegramPart
from adapters.telegram.outbox import Outbox, for_message

log = logging.getLogger("switchboard.telegram")
LIMIT = render.TELEGRAM_LIMIT
ALERT_LIMIT = 200  # an answer to a press shows at most 200 characters


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


def pager(box: Outbox, interval: float) -> Pager[Any, int]:
    """Drafts in private chats (Telegram has them only there), edits in groups; "typing…"
    shows until a message does."""
    if box.private:
        return Pager(Drafts(box), drafted, limit=LIMIT, pace=Pace(interval), busy=box.typing)
    return Pager(box, edited, limit=LIMIT, pace=Pace(interval), busy=box.typing)


def keyboard(rows: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup | None:
    """Buttons in rows (None: no keyboard, which removes one from a message)."""
    shown = [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in rows]
    return InlineKeyboardMarkup(shown) if any(shown) else None


class Chat:
    """Where one answer goes: `box`'s chat, paced at one request per `interval` seconds."""

    def __init__(self, box: Outbox, interval: float) -> None:
        self.box, self.interval = box, interval

    async def show(self, pieces: AsyncGenerator[Piece, None], /) -> Last | None:
        paged = pager(self.box, self.interval)
        await paged.run(pieces)
        last = paged.last_message()
        if last is None or not isinstance(paged.platform, Drafts):
            return last
        sent = paged.platform.sent.get(last[0])  # the draft's id → the message it became
        return None if sent is None else (sent, last[1])

    async def say(self, said: Notice, /) -> None:
        await self.box.say(said.text)

    async def mark(self, last: Last, buttons: Sequence[Button], /) -> None:
        await self.box.markup(last[0], keyboard([buttons]))


class Pressed:
    """One callback query on a message that Telegram still shows the bot. Telegram takes one
    answer per query, given within seconds: anything the presser is told after it goes into
    the chat instead."""

    keep_partial = False

    def __init__(self, query: CallbackQuery, message: Message, bot: Bot,
                 interval: float) -> None:
        self.query, self.message, self.bot, self.interval = query, message, bot, interval
        self.answered = False

    async def alert(self, text: str, /) -> None:
        if not self.answered:
            await self._answer(text)
        elif text:
            await for_message(self.message, self.bot).say(text)

    async def ack(self) -> None:
        await self._answer("")  # Telegram shows a spinner until then

    async def _answer(self, text: str) -> None:
        self.answered = True
        try:
            await self.query.answer(render.clipped(text, ALERT_LIMIT) or None,
                                    show_alert=bool(text))
        except TelegramError as exc:  # too late: the press shows no spinner any more
            log.info("press not answered (%s)", type(exc).__name__)

    async def unmark(self) -> None:
        await for_message(self.message, self.bot).markup(self.message.message_id, None)

    def turn_id(self, target: str) -> str:
        return f"{self.message.chat.id}:{target}"  # as `handlers` names a message's turn

    def surface(self, question: str | None, /) -> Chat:
        quote = int(question) if question else None
        return Chat(for_message(self.message, self.bot, quote), self.interval)

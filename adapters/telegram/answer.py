"""A Telegram chat as the shared answer flow's `Surface`: the pager, notices and inline buttons.

Buttons go on the answer's last message once it is complete (and stored), with an
`editMessageReplyMarkup` afterwards, so the pager, drafts and edits stay as they are.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from adapters.answers import Button, Last
from adapters.failures import Notice
from adapters.pager import Piece
from adapters.telegram.outbox import Outbox
from adapters.telegram.sender import Drafts, pager

log = logging.getLogger("switchboard.telegram")


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

"""One answer delivered on the shared pager, then given its "↻ Regenerate" button.

The button goes on the answer's last message once the answer is complete (and stored): an
`editMessageReplyMarkup` afterwards, so the pager, drafts and edits stay as they are. A failed
answer gets none: nothing was stored, so there is nothing to regenerate. Its data is
`adapters.regenerate.Press` for the question's message id (the turn id is `"{chat}:{id}"`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError

from adapters import regenerate
from adapters.pager import Piece, Watched, shown
from adapters.regenerate import Press
from adapters.telegram.outbox import Outbox
from adapters.telegram.sender import Drafts, pager

log = logging.getLogger("switchboard.telegram")
LABEL = f"↻ {regenerate.LABEL}"


def button(question: int, asker: int) -> InlineKeyboardMarkup:
    """A fresh Regenerate button for the answer to message `question`."""
    data = Press.fresh(question, asker).data
    return InlineKeyboardMarkup([[InlineKeyboardButton(LABEL, callback_data=data)]])


async def deliver(box: Outbox, interval: float, stream: AsyncGenerator[Piece, None], *,
                  question: int, asker: int, where: str) -> Watched:
    """Show one answer on the shared pager (a failure ends it with its notice); once it is
    complete, put a Regenerate button on its last message."""
    paged = pager(box, interval)
    watched = await shown(paged, stream, box.say, where=where)
    ids = paged.message_ids
    last = ids[-1] if ids else None
    if isinstance(paged.platform, Drafts) and last is not None:
        last = paged.platform.sent.get(last)  # the draft's id → the message it became
    if watched.done and last is not None:
        await set_button(box, last, button(question, asker))
    return watched


async def set_button(box: Outbox, message_id: int, markup: InlineKeyboardMarkup | None) -> None:
    """Put a keyboard on a message (None removes it); cosmetic, so a refusal is only logged."""
    try:
        await box.bot.edit_message_reply_markup(box.chat_id, message_id, reply_markup=markup)
    except TelegramError as exc:
        log.warning("regenerate button not %s (%s)", "set" if markup else "removed",
                    type(exc).__name__)

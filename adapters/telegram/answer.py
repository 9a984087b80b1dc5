"""One answer delivered on the shared pager, then given its buttons.

The buttons go on the answer's last message once the answer is complete (and stored): an
`editMessageReplyMarkup` afterwards, so the pager, drafts and edits stay as they are. A failed
answer gets none: nothing was stored. An answer that asks to run a write tool gets Approve and
Deny (`adapters.confirm`); any other gets "↻ Regenerate", whose data is
`adapters.regenerate.Press` for the question's message id (the turn id is `"{chat}:{id}"`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError

from adapters import confirm, regenerate
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


def buttons(watched: Watched, question: int | None, asker: int) -> InlineKeyboardMarkup | None:
    """Approve and Deny when the answer asks to run a write tool, else Regenerate (for an
    answer to a message: a confirmed tool's answer is not one)."""
    if watched.asked is not None:
        return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.data)
                                      for b in confirm.buttons(watched.asked)]])
    return button(question, asker) if question is not None else None


async def deliver(box: Outbox, interval: float, stream: AsyncGenerator[Piece, None], *,
                  question: int | None, asker: int, where: str) -> Watched:
    """Show one answer on the shared pager (a failure ends it with its notice); once it is
    complete, put its buttons on its last message."""
    paged = pager(box, interval)
    watched = await shown(paged, stream, box.say, where=where)
    ids = paged.message_ids
    last = ids[-1] if ids else None
    if isinstance(paged.platform, Drafts) and last is not None:
        last = paged.platform.sent.get(last)  # the draft's id → the message it became
    markup = buttons(watched, question, asker) if watched.done else None
    if markup is not None and last is not None:
        await set_button(box, last, markup)
    return watched


async def set_button(box: Outbox, message_id: int, markup: InlineKeyboardMarkup | None) -> None:
    """Put a keyboard on a message (None removes it); cosmetic, so a refusal is only logged."""
    try:
        await box.bot.edit_message_reply_markup(box.chat_id, message_id, reply_markup=markup)
    except TelegramError as exc:
        log.warning("regenerate button not %s (%s)", "set" if markup else "removed",
                    type(exc).__name__)

"""One answer delivered on the shared pager, then given its "↻ Regenerate" button.

The button goes on the answer's last message once the answer is complete (and stored): an
`editMessageReplyMarkup` afterwards, so the pager, drafts and edits stay as they are. A failed
answer gets none: nothing was stored, so there is nothing to regenerate.

Its callback data is `re:<question message id>:<asker, hex>:<nonce>`. The question's id makes
the turn id (`"{chat}:{message}"`, the chat being the button's); the nonce is made with the
button, so pressing one button twice is one press, while the button of a regenerated answer
is a new one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError

from adapters import commands
from adapters.pager import Piece, Watched, answer
from adapters.telegram.outbox import Outbox
from adapters.telegram.sender import Drafts, pager

log = logging.getLogger("switchboard.telegram")
LABEL = f"↻ {commands.REGENERATE}"
BUTTON = r"^re:\d{1,19}:[0-9a-f]{1,16}:[a-z2-7]{6}$"
_BUTTON = re.compile(BUTTON)


@dataclass(frozen=True, slots=True)
class Press:
    """What a Regenerate button carries."""

    question: int  # the message id of the question whose answer it replaces
    asker: int  # the user who asked it: in groups, the only one who may press
    nonce: str  # made with the button: one button pressed twice is one press

    @property
    def data(self) -> str:
        data = f"re:{self.question}:{self.asker:x}:{self.nonce}"
        if len(data.encode()) > 64:
            raise ValueError("callback data over Telegram's 64 bytes")
        return data

    @classmethod
    def parse(cls, data: str) -> Press | None:
        if not _BUTTON.match(data):
            return None
        _, question, asker, nonce = data.split(":")
        return cls(int(question), int(asker, 16), nonce)


def button(question: int, asker: int) -> InlineKeyboardMarkup:
    """A fresh Regenerate button for the answer to message `question`."""
    press = Press(question, asker, commands.press_id())
    return InlineKeyboardMarkup([[InlineKeyboardButton(LABEL, callback_data=press.data)]])


async def deliver(box: Outbox, interval: float, stream: AsyncGenerator[Piece, None], *,
                  question: int, asker: int, where: str) -> bool:
    """Show one answer on the shared pager (a failure ends it with its notice); once it is
    complete, put a Regenerate button on its last message. True if the answer completed."""
    shown, watched = pager(box, interval), Watched(stream)
    await answer(shown, watched.pieces(), box.say, where=where)
    done = watched.done
    ids = shown.message_ids
    last = ids[-1] if ids else None
    if isinstance(shown.platform, Drafts) and last is not None:
        last = shown.platform.sent.get(last)  # the draft's id → the message it became
    if done and last is not None:
        await set_button(box, last, button(question, asker))
    return done


async def set_button(box: Outbox, message_id: int, markup: InlineKeyboardMarkup | None) -> None:
    """Put a keyboard on a message (None removes it); cosmetic, so a refusal is only logged."""
    try:
        await box.bot.edit_message_reply_markup(box.chat_id, message_id, reply_markup=markup)
    except TelegramError as exc:
        log.warning("regenerate button not %s (%s)", "set" if markup else "removed",
                    type(exc).__name__)

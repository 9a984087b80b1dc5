"""The buttons under an answer, pressed: "↻ Regenerate", and Approve or Deny for a write tool.

A regenerated answer is sent as new messages (quoting the question in groups) rather than
edited into the old ones: an answer may span several messages, and a fresh one goes through the
shared pager like any answer, drafts included. The old answer stays, without its button; the
stored history keeps only the new one (the core replaces it). Only the member who asked may
press. Approve and Deny are checked by the core (the presser asked, in time, once); a refusal
is an alert to the presser alone. Either way the query is answered at once, and what goes wrong
after comes as a message on the one failure path; a second press is silent (`DuplicateTurn`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from telegram import CallbackQuery, Message, Update
from telegram.ext import ContextTypes

from adapters import confirm, regenerate
from adapters.regenerate import Press
from adapters.telegram.answer import deliver, set_button
from adapters.telegram.handlers import outbox, session_key
from adapters.telegram.people import FACT, People
from adapters.telegram.settings import TelegramSettings
from core.keys import SessionKey, Speaker
from core.service import ChatService

Context = ContextTypes.DEFAULT_TYPE
T = TypeVar("T")
Pressed = tuple[CallbackQuery, Message, T]


class Presses:
    """The PTB callbacks for the buttons under answers."""

    def __init__(self, service: ChatService, settings: TelegramSettings) -> None:
        self.service, self.settings = service, settings
        self.people = People(service.catalog.roles.asks(FACT))

    async def on_regenerate(self, update: Update, context: Context) -> None:
        found = await _pressed(update, Press.parse)
        if found is None:
            return
        query, message, press = found
        if press.asker != str(query.from_user.id):
            await query.answer(regenerate.NOT_YOURS, show_alert=True)
            return
        await query.answer()  # at once: Telegram shows a spinner until then
        session, who = await self._who(update, context, message, query)
        box = outbox(message, context.bot, quote=int(press.target))
        again = self.service.regenerate(session, who, f"{message.chat.id}:{press.target}",
                                        press.nonce)
        watched = await deliver(box, self.settings.edit_interval, again,
                                question=int(press.target), asker=query.from_user.id,
                                where=f"telegram regenerate session={session}")
        if regenerate.retire(watched):  # replaced, or never replaceable again
            await set_button(box, message.message_id, None)

    async def on_confirm(self, update: Update, context: Context) -> None:
        found = await _pressed(update, confirm.parse_press)
        if found is None:
            return
        query, message, press = found
        session, who = await self._who(update, context, message, query)
        pressed = await confirm.confirmed(self.service, session, who, *press, query.id)
        if pressed.answer is None:  # not theirs, expired, or answered already (silent)
            await query.answer(pressed.refusal or None, show_alert=bool(pressed.refusal))
            return
        await query.answer()
        box = outbox(message, context.bot)
        await set_button(box, message.message_id, None)
        await deliver(box, self.settings.edit_interval, pressed.answer, question=None,
                      asker=query.from_user.id, where=f"telegram confirm session={session}")

    async def _who(self, update: Update, context: Context, message: Message,
                   query: CallbackQuery) -> tuple[SessionKey, Speaker]:
        session = session_key(update, self.settings.shared_groups)
        return session, await self.people.speaker(context.bot, message.chat, query.from_user)


async def _pressed(update: Update, parse: Callable[[str], T | None]) -> Pressed[T] | None:
    """The query, the message its button is on and what the button carries; None (the query
    answered) when it is not ours or Telegram no longer shows the message to the bot."""
    query = update.callback_query
    data = parse(query.data) if query is not None and query.data else None
    if query is None or data is None or not isinstance(query.message, Message):
        if query is not None:
            await query.answer()
        return None
    return query, query.message, data

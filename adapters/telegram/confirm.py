"""Approve and Deny under an answer that asks to run a write tool: the press, answered.

The core checks that the presser asked, in time, once; a refusal is an alert to the presser
alone. Once pressed, the buttons go and the answer goes on as a new message.
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import ContextTypes

from adapters import confirm
from adapters.telegram.answer import deliver, set_button
from adapters.telegram.handlers import outbox, session_key
from adapters.telegram.people import FACT, People
from adapters.telegram.settings import TelegramSettings
from core.service import ChatService

Context = ContextTypes.DEFAULT_TYPE


class Confirm:
    """The PTB callback for Approve and Deny buttons."""

    def __init__(self, service: ChatService, settings: TelegramSettings) -> None:
        self.service, self.settings = service, settings
        self.people = People(service.catalog.roles.asks(FACT))

    async def on_button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        press = confirm.parse_press(query.data) if query is not None and query.data else None
        if query is None or press is None or not isinstance(query.message, Message):
            if query is not None:
                await query.answer()  # too old for Telegram to show the message to the bot
            return
        message, session = query.message, session_key(update, self.settings.shared_groups)
        who = await self.people.speaker(context.bot, message.chat, query.from_user)
        pressed = await confirm.confirmed(self.service, session, who, *press, query.id)
        if pressed.answer is None:  # not theirs, expired, or answered already (silent)
            await query.answer(pressed.refusal or None, show_alert=bool(pressed.refusal))
            return
        await query.answer()
        box = outbox(message, context.bot)
        await set_button(box, message.message_id, None)
        await deliver(box, self.settings.edit_interval, pressed.answer, question=None,
                      asker=query.from_user.id, where=f"telegram confirm session={session}")

"""A press of a button under a Telegram answer, handed to the shared flow (`adapters.answers`).

A regenerated answer is sent as new messages (quoting the question in groups) rather than
edited into the old ones: an answer may span several messages, and a fresh one goes through the
shared pager like any answer, drafts included. Refusals are alerts to the presser alone.
"""

from __future__ import annotations

from telegram import Bot, CallbackQuery, Message, Update
from telegram.ext import ContextTypes

from adapters import answers
from adapters.answers import Presser
from adapters.telegram.answer import Chat
from adapters.telegram.handlers import outbox, session_key
from adapters.telegram.people import FACT, People
from adapters.telegram.settings import TelegramSettings
from core.service import ChatService

Context = ContextTypes.DEFAULT_TYPE


class Pressed:
    """One callback query on a message that Telegram still shows the bot."""

    keep_partial = False

    def __init__(self, query: CallbackQuery, message: Message, bot: Bot,
                 interval: float) -> None:
        self.query, self.message, self.bot, self.interval = query, message, bot, interval

    async def alert(self, text: str, /) -> None:
        await self.query.answer(text or None, show_alert=bool(text))

    async def ack(self) -> None:
        await self.query.answer()  # at once: Telegram shows a spinner until then

    async def unmark(self) -> None:
        await outbox(self.message, self.bot).markup(self.message.message_id, None)

    def turn_id(self, target: str) -> str:
        return f"{self.message.chat.id}:{target}"  # as `handlers` names a message's turn

    def surface(self, question: str | None, /) -> Chat:
        quote = int(question) if question else None
        return Chat(outbox(self.message, self.bot, quote=quote), self.interval)


class Presses:
    """The PTB callback for the buttons under answers (Regenerate, Approve, Deny)."""

    def __init__(self, service: ChatService, settings: TelegramSettings) -> None:
        self.service, self.settings = service, settings
        self.people = People(service.catalog.roles.asks(FACT))

    async def on_press(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None or not query.data or not isinstance(query.message, Message):
            if query is not None:
                await query.answer()  # too old for Telegram to show the message to the bot
            return
        message, user = query.message, query.from_user
        who = Presser(str(user.id), await self.people.speaker(context.bot, message.chat, user),
                      session_key(update, self.settings.shared_groups))
        await answers.pressed(self.service, query.data, who,
                              Pressed(query, message, context.bot, self.settings.edit_interval),
                              where="telegram")

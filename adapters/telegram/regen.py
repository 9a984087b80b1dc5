"""The "↻ Regenerate" button under an answer: the question answered again, as a new message.

The new answer is sent as new messages (quoting the question in groups) rather than edited
into the old ones: an answer may span several messages, and a fresh one goes through the
shared pager like any answer, drafts included. The old answer stays, without its button; the
stored history keeps only the new one (the core replaces it). Only the member who asked may
press. The query is answered at once; what goes wrong after comes as a message on the one
failure path, and a second press of the same button is silent (`DuplicateTurn`).
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import ContextTypes

from adapters import regenerate
from adapters.regenerate import Press
from adapters.telegram.answer import deliver, set_button
from adapters.telegram.handlers import outbox, session_key
from adapters.telegram.people import FACT, People
from adapters.telegram.settings import TelegramSettings
from core.service import ChatService

Context = ContextTypes.DEFAULT_TYPE


class Regenerate:
    """The PTB callback for Regenerate buttons."""

    def __init__(self, service: ChatService, settings: TelegramSettings) -> None:
        self.service, self.settings = service, settings
        self.people = People(service.catalog.roles.asks(FACT))

    async def on_button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        press = Press.parse(query.data) if query is not None and query.data else None
        if query is None or press is None or not isinstance(query.message, Message):
            if query is not None:
                await query.answer()  # too old for Telegram to show the message to the bot
            return
        if press.asker != str(query.from_user.id):
            await query.answer(regenerate.NOT_YOURS, show_alert=True)
            return
        await query.answer()  # at once: Telegram shows a spinner until then
        message, session = query.message, session_key(update, self.settings.shared_groups)
        box = outbox(message, context.bot, quote=int(press.target))
        who = await self.people.speaker(context.bot, message.chat, query.from_user)
        again = self.service.regenerate(session, who,
                                        f"{message.chat.id}:{press.target}", press.nonce)
        watched = await deliver(box, self.settings.edit_interval, again,
                                question=int(press.target), asker=query.from_user.id,
                                where=f"telegram regenerate session={session}")
        if regenerate.retire(watched):  # replaced, or never replaceable again
            await set_button(box, message.message_id, None)

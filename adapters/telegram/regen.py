"""The "↻ Regenerate" button under an answer: the question answered again, as a new message.

The new answer is sent as new messages (quoting the question in groups) rather than edited
into the old ones: an answer may span several messages, and a fresh one goes through the
shared pager like any answer, drafts included. The old answer stays, without its button; the
stored history keeps only the new one (the core replaces it). Who may press: in a private
chat its user; in a group only the member who asked (others get `NOT_YOURS`), shared groups
included. The query is answered at once; what goes wrong after (`NotLastAnswer`, the rate
limit, a model failure) comes as a message on the one failure path, and a second press of
the same button is silent (`DuplicateTurn`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from adapters.telegram.answer import Press, deliver, set_button
from adapters.telegram.handlers import NOT_YOURS, session_key, speaker, topic
from adapters.telegram.outbox import Outbox
from adapters.telegram.settings import TelegramSettings
from core.errors import NotLastAnswer
from core.service import ChatService

Context = ContextTypes.DEFAULT_TYPE


class Regenerate:
    """The PTB callback for Regenerate buttons."""

    def __init__(self, service: ChatService, settings: TelegramSettings) -> None:
        self.service, self.settings = service, settings

    async def on_button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        press = Press.parse(query.data) if query is not None and query.data else None
        if query is None or press is None:
            return
        message = query.message
        if not isinstance(message, Message):  # too old for Telegram to show it to the bot
            await query.answer()
            return
        group = message.chat.type != ChatType.PRIVATE
        if press.asker != query.from_user.id:
            await query.answer(NOT_YOURS, show_alert=True)
            return
        await query.answer()  # at once: Telegram shows a spinner until then
        session = session_key(update, self.settings.shared_groups)
        box = Outbox(context.bot, message.chat.id, topic(message),
                     press.question if group else None)
        stale = False

        async def again() -> AsyncGenerator[str, None]:
            nonlocal stale
            stream = self.service.regenerate(session, speaker(query.from_user),
                                             f"{message.chat.id}:{press.question}", press.nonce)
            try:
                async with contextlib.aclosing(stream):
                    async for piece in stream:
                        yield piece
            except NotLastAnswer:
                stale = True
                raise

        done = await deliver(box, self.settings.edit_interval, again(),
                             question=press.question, asker=press.asker,
                             where=f"telegram regenerate session={session}")
        if done or stale:  # replaced, or never replaceable again: the old button goes
            await set_button(box, message.message_id, None)

"""Telegram's commands and their buttons: the shared `adapters.commands` and `adapters.menus`.

Who may change a shared group's conversation (`TELEGRAM_SHARED_GROUPS`): its administrators.
A button's data names its asker in hex, so that it fits Telegram's 64 bytes.
"""

from __future__ import annotations

import contextlib

from telegram import BotCommand, Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from adapters import commands, menus, regenerate
from adapters.telegram.answer import keyboard
from adapters.telegram.handlers import session_key
from adapters.telegram.outbox import Outbox, for_message
from adapters.telegram.people import FACT, People, is_admin
from adapters.telegram.settings import TelegramSettings
from core.export import ExportFile
from core.keys import SessionKey
from core.service import ChatService

Context = ContextTypes.DEFAULT_TYPE
COMMANDS = (BotCommand("start", "What this bot does"), BotCommand("help", "How to use it"),
            *(BotCommand(c.name, c.description) for c in commands.COMMANDS if c.name != "help"))
HELP = ("Hi! I'm an AI assistant. Send me a message and I'll answer; I remember our "
        "conversation. I also read photos, voice notes, PDFs and text files.\n"
        "In groups, mention me or reply to one of my messages.\n"
        f"{commands.listing()}\n"
        f"{regenerate.LABEL} under my latest answer asks me for another one.")
ADMINS = "the group's administrators"
STYLE = commands.Style(HELP, ADMINS, ask_first=True)
UPLOAD_LIMIT = 50_000_000  # the Bot API takes uploads of up to 50 MB


class Commands:
    """PTB callbacks for every command and for the buttons under their answers."""

    def __init__(self, service: ChatService, settings: TelegramSettings) -> None:
        self.service, self.settings = service, settings
        self.people = People(service.catalog.roles.asks(FACT))

    async def on_command(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or not message.text:
            return
        name = message.text.split()[0][1:].partition("@")[0].lower()
        asker, session = await self._asker(update, context)
        said = await commands.run(self.service, name, " ".join(context.args or []), asker,
                                  session, STYLE, _admin(context, message.chat.id, user.id))
        box = for_message(message, context.bot)
        if said.file is not None and asker.private:
            await _document(box, said.file, said.text)
            return
        await box.say(said.text, reply_markup=keyboard(menus.rows(said, f"{user.id:x}")))

    async def on_button(self, update: Update, context: Context) -> None:
        """A button under a command's answer: its outcome replaces that answer, or an alert
        tells the presser alone why not."""
        query = update.callback_query
        if query is None or query.data is None or not isinstance(query.message, Message):
            if query is not None:
                await query.answer()  # too old for Telegram to show the message to the bot
            return
        asker, session = await self._asker(update, context)
        user = query.from_user
        chosen = await menus.pressed(self.service, query.data, asker, f"{user.id:x}", session,
                                     STYLE, _admin(context, query.message.chat.id, user.id))
        await query.answer(chosen.alert or None, show_alert=bool(chosen.alert))
        if chosen.text:
            with contextlib.suppress(TelegramError):
                await query.edit_message_text(chosen.text)

    async def _asker(self, update: Update, context: Context
                     ) -> tuple[commands.Asker, SessionKey]:
        user, message = update.effective_user, update.effective_message
        assert user is not None and message is not None  # both set for commands and buttons
        who = await self.people.speaker(context.bot, message.chat, user)
        private = message.chat.type == ChatType.PRIVATE
        return (commands.Asker(who.user, who.roles, private),
                session_key(update, self.settings.shared_groups))


def _admin(context: Context, chat_id: int, user_id: int) -> commands.Allowed:
    """Whether they may change a shared group's conversation: its administrators may."""
    return lambda: is_admin(context.bot, chat_id, user_id)


async def _document(box: Outbox, file: ExportFile, caption: str) -> None:
    """An export as a document in the private chat; what went wrong instead, if it cannot be."""
    instead = await commands.upload(file, UPLOAD_LIMIT,
                                    lambda: box.document(file.name, file.data, caption),
                                    where="telegram export")
    if instead:
        await box.say(instead)

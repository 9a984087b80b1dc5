"""Telegram's commands and their buttons: the shared `adapters.commands` and `adapters.menus`.

Who may change a shared group's conversation (`TELEGRAM_SHARED_GROUPS`): its administrators.
A button's data names its asker in hex, so that it fits Telegram's 64 bytes.
"""

from __future__ import annotations

import contextlib

from telegram import BotCommand, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from adapters import answers, commands, exports, menus, regenerate, render
from adapters.telegram.answer import Pressed, keyboard
from adapters.telegram.handlers import press_of, session_key
from adapters.telegram.outbox import for_message
from adapters.telegram.people import People, is_admin
from adapters.telegram.settings import TelegramSettings
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
STYLE = commands.Style(HELP, ADMINS, ask_first=True, limit=render.TELEGRAM_LIMIT)
UPLOAD_LIMIT = 50_000_000  # the Bot API takes uploads of up to 50 MB


class Commands:
    """PTB callbacks for every command and for the buttons under their answers."""

    def __init__(self, service: ChatService, settings: TelegramSettings, people: People) -> None:
        self.service, self.settings, self.people = service, settings, people

    async def on_command(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or not message.text:
            return
        name = message.text.split()[0][1:].partition("@")[0].lower()
        asker, session = await self._asker(update, context)
        said = await commands.run(self.service, name, " ".join(context.args or []), asker,
                                  session, STYLE, _admin(context, message.chat.id, user.id))
        box = for_message(message, context.bot)
        await exports.send(
            said, lambda shown: box.say(shown.text, reply_markup=keyboard(
                menus.rows(shown, f"{user.id:x}"))),
            lambda file, caption: box.document(file.name, file.data, caption),
            limit=UPLOAD_LIMIT, where="telegram export")

    async def on_button(self, update: Update, context: Context) -> None:
        """A button under a command's answer: its outcome replaces that answer, or an alert
        tells the presser alone why not (the press answered first if the command is slow)."""
        pressed = await press_of(update)
        if pressed is None:
            return
        query, message, data = pressed
        press = Pressed(query, message, context.bot, self.settings.edit_interval)
        _, chosen = await answers.within(self._chosen(update, context, query.from_user.id,
                                                      message.chat.id, data), press)
        await press.alert(chosen.alert)  # '' only answers the press, if nothing did yet
        if chosen.text:
            with contextlib.suppress(TelegramError):
                await query.edit_message_text(chosen.text)

    async def _chosen(self, update: Update, context: Context, user: int, chat: int,
                      data: str) -> menus.Chosen:
        asker, session = await self._asker(update, context)
        return await menus.pressed(self.service, data, asker, f"{user:x}", session, STYLE,
                                   _admin(context, chat, user))

    async def _asker(self, update: Update, context: Context
                     ) -> tuple[commands.Asker, SessionKey]:
        user, message = update.effective_user, update.effective_message
        assert user is not None and message is not None  # both set for commands and buttons
        who = await self.people.speaker(message.chat, user)
        private = message.chat.type == ChatType.PRIVATE
        return (commands.Asker(who.user, who.roles, private),
                session_key(update, self.settings.shared_groups))


def _admin(context: Context, chat_id: int, user_id: int) -> commands.Allowed:
    """Whether they may change a shared group's conversation: its administrators may."""
    return lambda: is_admin(context.bot, chat_id, user_id)


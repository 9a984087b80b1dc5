"""Telegram's commands and their buttons: the shared `adapters.commands`, shown with keyboards.

Who may change a shared group's conversation (`TELEGRAM_SHARED_GROUPS`): its administrators.
A button answers only the member it was shown to; its data is `<command>:<argument>:<asker>`,
names of at most 40 ASCII characters and the asker in hex, within Telegram's 64 bytes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from adapters import commands, regenerate
from adapters.commands import Said
from adapters.telegram.handlers import outbox, session_key
from adapters.telegram.outbox import Outbox
from adapters.telegram.people import FACT, People, is_admin
from adapters.telegram.settings import TelegramSettings
from core.export import ExportFile
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
BUTTON = r"^(model|persona|forget):[A-Za-z0-9_.-]{1,40}:[0-9a-f]{1,16}$"
MAX_BUTTONS = 100  # Telegram's limit for one inline keyboard
UPLOAD_LIMIT = 50_000_000  # the Bot API takes uploads of up to 50 MB


def button(label: str, name: str, arg: str, asker: int) -> InlineKeyboardButton:
    data = f"{name}:{arg}:{asker:x}"
    if len(data.encode()) > 64:
        raise ValueError("callback data over Telegram's 64 bytes")
    return InlineKeyboardButton(label, callback_data=data)


def keyboard(said: Said, asker: int) -> InlineKeyboardMarkup | None:
    """The buttons under a command's answer: a menu's choices, or forget's yes and no."""
    if said.confirm:
        return InlineKeyboardMarkup([[button("Yes, erase everything", "forget", "yes", asker),
                                      button("Cancel", "forget", "no", asker)]])
    menu = said.menu
    if menu is None or not menu.options:
        return None
    return InlineKeyboardMarkup([[button(f"✓ {o.name}" if o.name == menu.chosen else o.name,
                                         menu.kind, o.name, asker)]
                                 for o in menu.options[:MAX_BUTTONS]])


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
        said = await self._run(update, context, name, context.args or [])
        box = outbox(message, context.bot)
        if said.file is not None and message.chat.type == ChatType.PRIVATE:
            await _document(box, said.file, said.text)
            return
        markup = keyboard(said, user.id)
        await box.say(said.text, **({"reply_markup": markup} if markup else {}))

    async def on_button(self, update: Update, context: Context) -> None:
        """A button under an answer: run its command, then show the outcome in its place."""
        query = update.callback_query
        if query is None or query.data is None or not isinstance(query.message, Message):
            if query is not None:
                await query.answer()  # too old for Telegram to show the message to the bot
            return
        name, arg, asker = query.data.split(":")
        shared = self._shared(query.message) and name != "forget"  # anyone in it may choose
        if not shared and int(asker, 16) != query.from_user.id:
            await query.answer(commands.NOT_YOURS, show_alert=True)
            return
        said = await self._run(update, context, name, [arg])
        if said.text == commands.refusal(name, ADMINS):
            await query.answer(said.text, show_alert=True)
            return
        await query.answer()
        with contextlib.suppress(TelegramError):
            await query.edit_message_text(said.text)

    async def _run(self, update: Update, context: Context, name: str,
                   args: Sequence[str]) -> Said:
        user, message = update.effective_user, update.effective_message
        assert user is not None and message is not None  # both set for commands and buttons
        session = session_key(update, self.settings.shared_groups)
        who = await self.people.speaker(context.bot, message.chat, user)
        asker = commands.Asker(who.user, who.roles, message.chat.type == ChatType.PRIVATE)
        return await commands.run(self.service, name, " ".join(args), asker, session, STYLE,
                                  lambda: is_admin(context.bot, message.chat.id, user.id))

    def _shared(self, message: Message) -> bool:
        return self.settings.shared_groups and message.chat.id < 0


async def _document(box: Outbox, file: ExportFile, caption: str) -> None:
    """An export as a document in the private chat; what went wrong instead, if it cannot be."""
    instead = await commands.upload(file, UPLOAD_LIMIT,
                                    lambda: box.document(file.name, file.data, caption),
                                    where="telegram export")
    if instead:
        await box.say(instead)

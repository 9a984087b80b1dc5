"""The PTB `Application` for Switchboard: which updates go to which callback."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    AIORateLimiter,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from adapters import commands, confirm, menus, regenerate
from adapters.telegram import flood
from adapters.telegram.commands import Commands
from adapters.telegram.delivery import Redelivered, TelegramApp, builder, running
from adapters.telegram.handlers import TelegramChat
from adapters.telegram.inbox import Inbox
from adapters.telegram.people import FACT, People
from adapters.telegram.settings import TelegramSettings
from core.service import ChatService

__all__ = ["TelegramApp", "build_application", "running"]
_MESSAGES = filters.UpdateType.MESSAGE  # edits of old messages are not new questions
# What the core reads (see adapters/telegram/media.py); stickers, videos… get `on_other`.
FILES = filters.PHOTO | filters.Document.ALL | filters.VOICE | filters.AUDIO | filters.VIDEO_NOTE
NAMES = ("start", *(c.name for c in commands.COMMANDS))


def build_application(service: ChatService, settings: TelegramSettings, *,
                      inbox: Inbox | None = None,
                      limiter: AIORateLimiter | None = None) -> TelegramApp:
    """A PTB application wired to the core; nothing connects until it is initialized.

    With an `inbox`, updates survive a crash (see adapters/telegram/inbox.py). `limiter` keeps
    Telegram's flood limits (default: `flood.limiter()`, Telegram's numbers).
    """
    app: TelegramApp = builder(settings, inbox, limiter or flood.limiter()).build()
    people = People(app.bot, service.catalog.roles.asks(FACT))
    chat, said = TelegramChat(service, settings, people), Commands(service, settings, people)
    # PTB runs one handler per group, lowest group first: each check has a group of its own.
    app.add_handler(TypeHandler(Update, Redelivered()), group=-3)
    app.add_handler(TypeHandler(Update, chat.gate), group=-1)
    app.add_handlers([
        CommandHandler(NAMES, said.on_command),
        CallbackQueryHandler(said.on_button, pattern=menus.PATTERN),
        CallbackQueryHandler(chat.on_press, pattern=f"{regenerate.PATTERN}|{confirm.PATTERN}"),
        MessageHandler(_MESSAGES & filters.COMMAND & filters.ChatType.PRIVATE, said.on_command),
        MessageHandler(_MESSAGES & ((filters.TEXT & ~filters.COMMAND) | FILES), chat.on_message),
        MessageHandler(_MESSAGES & filters.ATTACHMENT, chat.on_other),
    ])
    app.add_error_handler(chat.on_error)
    return app

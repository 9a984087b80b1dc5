"""The PTB `Application` for Switchboard: handlers wired, then polling or webhook."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from adapters.telegram import flood
from adapters.telegram.answer import BUTTON as REGENERATE
from adapters.telegram.choices import BUTTON, Choices
from adapters.telegram.handlers import COMMANDS, HELP, UNKNOWN, TelegramChat
from adapters.telegram.inbox import (
    REPLAY_AFTER,
    Inbox,
    InboxBot,
    InboxProcessor,
    replaying,
)
from adapters.telegram.regen import Regenerate
from adapters.telegram.settings import TelegramSettings
from core.service import ChatService

log = logging.getLogger("switchboard.telegram")
TelegramApp = Application[Any, Any, Any, Any, Any, Any]
_MESSAGES = filters.UpdateType.MESSAGE  # edits of old messages are not new questions
# What the core reads (see adapters/telegram/media.py); stickers, videos… get `on_other`.
FILES = filters.PHOTO | filters.Document.ALL | filters.VOICE | filters.AUDIO | filters.VIDEO_NOTE


def build_application(service: ChatService, settings: TelegramSettings, *,
                      inbox: Inbox | None = None,
                      limiter: AIORateLimiter | None = None) -> TelegramApp:
    """A PTB application wired to the core; nothing connects until it is initialized.

    With an `inbox`, updates survive a crash (see adapters/telegram/inbox.py). `limiter` keeps
    Telegram's flood limits (default: `flood.limiter()`, Telegram's numbers).
    """
    builder = _builder(settings, inbox, limiter or flood.limiter())
    if settings.webhook_url:
        builder = builder.updater(None)  # the HTTP app feeds updates in webhook mode
    app: TelegramApp = builder.build()
    chat, choices = TelegramChat(service, settings), Choices(service, settings)
    app.add_handler(TypeHandler(Update, chat.gate), group=-1)
    app.add_handlers([
        CommandHandler(("start", "help"), chat.saying(HELP)),
        CommandHandler("reset", chat.on_reset),
        CommandHandler("forget", chat.on_forget),
        CallbackQueryHandler(chat.on_forget_button, pattern=r"^forget:(yes|no):\d+$"),
        CommandHandler("model", choices.command("model")),
        CommandHandler("persona", choices.command("persona")),
        CallbackQueryHandler(choices.on_button, pattern=BUTTON),
        CallbackQueryHandler(Regenerate(service, settings).on_button, pattern=REGENERATE),
        MessageHandler(_MESSAGES & filters.TEXT & ~filters.COMMAND, chat.on_text),
        MessageHandler(_MESSAGES & filters.COMMAND & filters.ChatType.PRIVATE,
                       chat.saying(UNKNOWN)),
        MessageHandler(_MESSAGES & FILES, chat.on_file),
        MessageHandler(_MESSAGES & filters.ATTACHMENT, chat.on_other),
    ])
    app.add_error_handler(chat.on_error)
    return app


def _builder(settings: TelegramSettings, inbox: Inbox | None, limiter: AIORateLimiter) -> Any:
    token = settings.token.get_secret_value()
    if inbox is None:
        return ApplicationBuilder().token(token).base_url(settings.api_url) \
            .base_file_url(settings.files_url).rate_limiter(limiter).concurrent_updates(True)
    # Updates are kept in the inbox before Telegram may count them delivered, and acked once
    # handled; see adapters/telegram/inbox.py.
    bot = InboxBot(inbox, token, settings.api_url, limiter, settings.files_url)
    return ApplicationBuilder().bot(bot).concurrent_updates(InboxProcessor(inbox))


@contextlib.asynccontextmanager
async def running(app: TelegramApp, settings: TelegramSettings,
                  replay_after: float = REPLAY_AFTER) -> AsyncIterator[TelegramApp]:
    """Start the bot: commands registered, unfinished updates replayed, then updates received."""
    async with app:
        try:
            await app.bot.set_my_commands(COMMANDS)
        except TelegramError as exc:  # only the command menu is missing; chats still work
            log.warning("setMyCommands failed: %s", type(exc).__name__)
        await app.start()
        try:
            async with replaying(app, replay_after):  # what a crashed run left unanswered
                await _receive(app, settings)
                log.info("telegram bot @%s running (%s)", app.bot.username,
                         "webhook" if settings.webhook_url else "long polling")
                yield app
        finally:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            await app.stop()


async def _receive(app: TelegramApp, settings: TelegramSettings) -> None:
    if settings.webhook_url and settings.webhook_secret is not None:
        secret = settings.webhook_secret.get_secret_value()
        await app.bot.set_webhook(settings.webhook_url or "", secret_token=secret,
                                  allowed_updates=Update.ALL_TYPES)
    elif app.updater is not None:
        await app.updater.start_polling(timeout=settings.poll_timeout,
                                        allowed_updates=Update.ALL_TYPES)

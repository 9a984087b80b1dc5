"""Delivery plumbing: the bot with its flood limiter and inbox, redeliveries dropped, replay at
start, polling."""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ApplicationHandlerStop

from adapters.telegram.commands import COMMANDS
from adapters.telegram.inbox import REPLAY_AFTER, Inbox, InboxBot, InboxProcessor, replaying
from adapters.telegram.settings import TelegramSettings

log = logging.getLogger("switchboard.telegram")
TelegramApp = Application[Any, Any, Any, Any, Any, Any]
RECENT_UPDATES = 1024


class Redelivered:
    """The first handler: drops an update this process took already (a webhook retry, a
    re-fetch), commands included. Turns are also deduplicated durably by the core (their turn
    id), which covers restarts and other replicas."""

    def __init__(self, size: int = RECENT_UPDATES) -> None:
        self.recent: deque[int] = deque(maxlen=size)

    async def __call__(self, update: Update, context: Any) -> None:
        if update.update_id in self.recent:
            raise ApplicationHandlerStop
        self.recent.append(update.update_id)


def builder(settings: TelegramSettings, inbox: Inbox | None, limiter: AIORateLimiter) -> Any:
    """PTB's builder: concurrent updates, and with an `inbox` updates kept until handled."""
    token = settings.token.get_secret_value()
    if inbox is None:
        built: Any = ApplicationBuilder().token(token).base_url(settings.api_url) \
            .base_file_url(settings.files_url).rate_limiter(limiter).concurrent_updates(True)
    else:
        # Updates are kept in the inbox before Telegram may count them delivered, and acked
        # once handled; see adapters/telegram/inbox.py.
        bot = InboxBot(inbox, token, settings.api_url, limiter, settings.files_url)
        built = ApplicationBuilder().bot(bot).concurrent_updates(InboxProcessor(inbox))
    return built.updater(None) if settings.webhook_url else built  # the HTTP app feeds webhooks


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

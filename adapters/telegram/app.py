"""The PTB `Application` for Switchboard: polling or webhook, plus the FastAPI webhook route."""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, Header, HTTPException, Request
from pydantic import SecretStr
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
from adapters.telegram.handlers import COMMANDS, HELP, UNKNOWN, TelegramChat
from adapters.telegram.inbox import (
    REPLAY_AFTER,
    Inbox,
    InboxBot,
    InboxProcessor,
    inbox_of,
    replaying,
)
from adapters.telegram.settings import TelegramSettings
from core.errors import StoreUnavailable
from core.service import ChatService

log = logging.getLogger("switchboard.telegram")
TelegramApp = Application[Any, Any, Any, Any, Any, Any]
WEBHOOK_PATH = "/telegram/webhook"
_MESSAGES = filters.UpdateType.MESSAGE  # edits of old messages are not new questions


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
    chat = TelegramChat(service, settings)
    app.add_handler(TypeHandler(Update, chat.gate), group=-1)
    app.add_handlers([
        CommandHandler(("start", "help"), chat.saying(HELP)),
        CommandHandler("reset", chat.on_reset),
        CommandHandler("forget", chat.on_forget),
        CallbackQueryHandler(chat.on_forget_button, pattern=r"^forget:(yes|no):\d+$"),
        MessageHandler(_MESSAGES & filters.TEXT & ~filters.COMMAND, chat.on_text),
        MessageHandler(_MESSAGES & filters.COMMAND & filters.ChatType.PRIVATE,
                       chat.saying(UNKNOWN)),
        MessageHandler(_MESSAGES & filters.ATTACHMENT, chat.on_other),
    ])
    app.add_error_handler(chat.on_error)
    return app


def _builder(settings: TelegramSettings, inbox: Inbox | None, limiter: AIORateLimiter) -> Any:
    token = settings.token.get_secret_value()
    if inbox is None:
        return ApplicationBuilder().token(token).base_url(settings.api_url) \
            .rate_limiter(limiter).concurrent_updates(True)
    # Updates are kept in the inbox before Telegram may count them delivered, and acked once
    # handled; see adapters/telegram/inbox.py.
    bot = InboxBot(inbox, token, settings.api_url, limiter)
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


def webhook_router(secret: SecretStr,
                   application: Callable[[], TelegramApp | None]) -> APIRouter:
    """`POST /telegram/webhook`: 403 without the right secret header, 503 while the bot is down.

    Each update is written to the inbox before the 200 (503 if that fails, so Telegram
    retries), then queued, so Telegram gets its answer at once and chats run concurrently.
    """
    router = APIRouter()
    expected = secret.get_secret_value().encode()

    @router.post(WEBHOOK_PATH, include_in_schema=False)
    async def telegram_webhook(request: Request, x_telegram_bot_api_secret_token: str | None
                               = Header(None)) -> dict[str, bool]:
        given = (x_telegram_bot_api_secret_token or "").encode()
        if not hmac.compare_digest(given, expected):
            raise HTTPException(403, "wrong or missing secret token")
        app = application()
        if app is None or not app.running:
            raise HTTPException(503, "telegram bot not running")  # Telegram retries later
        raw = await request.body()
        update = _parse(raw, app)
        await _keep(app, update, raw)
        await app.update_queue.put(update)
        return {"ok": True}

    return router


def _parse(raw: bytes, app: TelegramApp) -> Update:
    try:
        update = Update.de_json(json.loads(raw), app.bot)
    except (ValueError, TypeError, KeyError):  # UnicodeDecodeError is a ValueError
        raise HTTPException(400, "not a Telegram update") from None
    if update is None:
        raise HTTPException(400, "not a Telegram update")
    return update


async def _keep(app: TelegramApp, update: Update, raw: bytes) -> None:
    """Persist before confirming: after our 200, Telegram never sends this update again."""
    inbox = inbox_of(app)
    if inbox is None:
        return
    try:
        await inbox.put(str(update.update_id), raw.decode())
    except StoreUnavailable as exc:
        log.warning("telegram update %s refused, inbox unavailable: %s", update.update_id, exc)
        raise HTTPException(503, "inbox unavailable") from None

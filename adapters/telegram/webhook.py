"""The webhook route: each update is kept in the inbox before Telegram gets its 200."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable

from fastapi import APIRouter, Header, HTTPException, Request
from pydantic import SecretStr
from telegram import Update

from adapters.telegram.delivery import TelegramApp
from adapters.telegram.inbox import inbox_of
from core.errors import StoreUnavailable

log = logging.getLogger("switchboard.telegram")
WEBHOOK_PATH = "/telegram/webhook"


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

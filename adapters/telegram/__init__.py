"""Telegram adapter (python-telegram-bot): settings, session keys, streaming, webhook route."""

from adapters.telegram.app import build_application, running
from adapters.telegram.handlers import session_key
from adapters.telegram.settings import TelegramSettings
from adapters.telegram.webhook import webhook_router

__all__ = ["TelegramSettings", "build_application", "running", "session_key", "webhook_router"]

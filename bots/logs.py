"""Logging for the bot processes: one line per event, secrets masked, chatty libraries quiet."""

from __future__ import annotations

import logging
import re

# Tokens of OpenAI, Slack, Telegram (in URLs) and bearer headers.
_SECRET = re.compile(
    r"(sk-[\w-]{6,}|xox[abposr]-[\w-]+|xapp-[\w-]+|bot\d+:[\w-]+|Bearer\s+[\w.-]+"
    r"|[MN][\w-]{23,27}\.[\w-]{6,7}\.[\w-]{27,})")


class RedactSecrets(logging.Filter):
    """Masks anything shaped like a token before a record is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _SECRET.search(message):
            record.msg, record.args = _SECRET.sub("[redacted]", message), None
        return True


def setup(level: str) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RedactSecrets())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # httpx logs every request URL at INFO, and Telegram's URLs carry the bot token.
    # discord.http and discord.gateway log message bodies at DEBUG.
    for noisy in ("httpx", "httpcore", "openai", "discord.http", "discord.gateway",
                  "telegram.ext"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

"""Logging for the bot processes: one line per event, and never a conversation or a secret.

What a log line may carry is decided here, at the one handler every record passes through:
- Switchboard's own loggers (`switchboard.*`) log ids, counts and outcomes, never text.
- Every other library is capped: below WARNING nothing is written, whatever the level (the
  platform SDKs, httpx and openai log request and response bodies at DEBUG and INFO), and
  what it writes at WARNING and above has quoted strings and `{...}` bodies blanked, since
  those are where payloads appear (slack-bolt's "Unhandled request ({...})", say).
- Exception texts are blanked the same way for everyone: an SDK error may quote the payload.
- Anything shaped like a token is masked in every line.
"""

from __future__ import annotations

import logging
import re
from typing import IO

OURS = "switchboard"
# Tokens of OpenAI, Slack, Telegram (in URLs) and bearer headers, JWTs, Discord bot tokens.
_SECRET = re.compile(
    r"(sk-[\w-]{6,}|xox[abposre]-[\w-]+|xapp-[\w-]+|bot\d+:[\w-]+|\d{5,}:[\w-]{16,}"
    r"|Bearer\s+[\w.~+/=-]+|eyJ[\w-]+\.[\w-]+\.[\w-]*|[MN][\w-]{23,27}\.[\w-]{6,7}\.[\w-]{27,})")
# Quoted strings (a payload in a repr) and brace bodies (dicts, JSON), innermost first.
_QUOTED = re.compile(r"""'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*\"""")
_BRACES = re.compile(r"\{[^{}]*\}")


def scrub(text: str) -> str:
    """`text` with quoted strings and `{...}` bodies blanked out."""
    text = _QUOTED.sub("'…'", text)
    while True:
        blanked = _BRACES.sub("<…>", text)
        if blanked == text:
            return blanked.replace("<…>", "{…}")
        text = blanked


def redact(text: str) -> str:
    return _SECRET.sub("[redacted]", text)


class ContentGuard(logging.Filter):
    """Drops or blanks what could carry message text, file content or a secret (see above)."""

    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__()
        self.formatter = formatter

    def filter(self, record: logging.LogRecord) -> bool:
        ours = record.name == OURS or record.name.startswith(f"{OURS}.")
        if not ours and record.levelno < logging.WARNING:
            return False
        message = record.getMessage()
        record.msg, record.args = redact(message if ours else scrub(message)), None
        if record.exc_info:  # formatted once here, blanked, then kept as the cached text
            record.exc_text = self.formatter.formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(scrub(record.exc_text))
        record.stack_info = None
        return True


def setup(level: str, stream: IO[str] | None = None) -> None:
    """Send every record through one guarded handler on standard error (or `stream`)."""
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(ContentGuard(formatter))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # Not needed for privacy (the guard drops them), but spares building the records.
    for noisy in ("httpx", "httpcore", "openai", "discord", "telegram", "slack_sdk",
                  "slack_bolt", "aiohttp", "asyncio", "uvicorn", "websockets", "hpack"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

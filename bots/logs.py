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


class Guard(logging.Formatter):
    """Formats a copy of each record with payloads blanked and secrets masked (see above).

    A copy, so that other handlers (a test's capture, say) still see the record as it was.
    """

    def format(self, record: logging.LogRecord) -> str:
        clone = logging.makeLogRecord(record.__dict__)
        message = record.getMessage()
        clone.msg, clone.args = redact(message if _ours(record) else scrub(message)), None
        if record.exc_info and not clone.exc_text:
            clone.exc_text = self.formatException(record.exc_info)
        clone.exc_info, clone.stack_info = None, None
        if clone.exc_text:
            clone.exc_text = redact(scrub(clone.exc_text))
        return super().format(clone)


def _ours(record: logging.LogRecord) -> bool:
    return record.name == OURS or record.name.startswith(f"{OURS}.")


def _kept(record: logging.LogRecord) -> bool:
    """Other libraries write nothing below WARNING, whatever their own level says."""
    return _ours(record) or record.levelno >= logging.WARNING


def handler(stream: IO[str] | None = None) -> logging.Handler:
    """The one handler every record goes through: standard error (or `stream`), guarded."""
    guarded = logging.StreamHandler(stream)
    guarded.setFormatter(Guard("%(asctime)s %(levelname)s %(name)s %(message)s"))
    guarded.addFilter(_kept)
    return guarded


def setup(level: str, stream: IO[str] | None = None) -> None:
    logging.basicConfig(level=level, handlers=[handler(stream)], force=True)
    # Not needed for privacy (the guard drops them), but spares building the records.
    for noisy in ("httpx", "httpcore", "openai", "discord", "telegram", "slack_sdk",
                  "slack_bolt", "aiohttp", "asyncio", "uvicorn", "websockets", "hpack"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

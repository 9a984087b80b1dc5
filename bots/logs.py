"""Logging for the bot processes: one line per event, and never a conversation or a secret.

What a log line may carry is decided here, at the one handler every record passes through:
- Switchboard's own loggers (`switchboard.*`) log ids, counts and outcomes, never text.
- Every other library is capped: below WARNING nothing is written, whatever the level (the
  platform SDKs, httpx and openai log request and response bodies at DEBUG and INFO), and
  what it writes at WARNING and above has quoted strings and `{...}` bodies blanked, since
  those are where payloads appear (slack-bolt's "Unhandled request ({...})", say).
- Exception texts are blanked the same way for everyone: an SDK error may quote the payload.
- Anything shaped like a token is masked in every line.
- Conversation ids become a short hash (`session=3f9a…`): they hold platform user and chat ids
  (a Telegram private chat's id is the person's id; an HTTP one holds the token's subject), and
  a log file outlives an erase. The hash still follows one conversation through the log.

`SWITCHBOARD_LOG_FORMAT=json` writes the same guarded records as one JSON object per line,
with the structured fields our own loggers pass as `extra=` (an allowlist, `FIELDS`).
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, datetime
from typing import IO, Literal

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

OURS = "switchboard"
# Tokens of OpenAI, Slack, Telegram (in URLs) and bearer headers, JWTs, Discord bot tokens.
_SECRET = re.compile(
    r"(sk-[\w-]{6,}|xox[abposre]-[\w-]+|xapp-[\w-]+|bot\d+:[\w-]+|\d{5,}:[\w-]{16,}"
    r"|Bearer\s+[\w.~+/=-]+|eyJ[\w-]+\.[\w-]+\.[\w-]*|[MN][\w-]{23,27}\.[\w-]{6,7}\.[\w-]{27,})")
# Quoted strings (a payload in a repr) and brace bodies (dicts, JSON), innermost first.
_QUOTED = re.compile(r"""'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*\"""")
_BRACES = re.compile(r"\{[^{}]*\}")
# The id runs to a space, comma, semicolon or parenthesis; a colon there ends a sentence.
_SESSION = re.compile(r"\bsession=([^\s,;)]+?)(?=:?(?:[\s,;)]|$))")
# The `extra=` fields a JSON line may carry, from our own loggers only: ids, counts, outcomes.
# `session` is among them only to be replaced by `session_hash`.
FIELDS = frozenset({"request_id", "platform", "session", "outcome", "latency_ms", "tokens",
                    "method", "path", "status"})
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
Format = Literal["text", "json"]


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


def session_hash(session: str) -> str:
    """12 hex digits of the id's SHA-256: `printf %s ID | sha256sum | cut -c1-12` finds it."""
    return hashlib.sha256(session.encode()).hexdigest()[:12]


def pseudonymize(text: str) -> str:
    """`text` with every `session=<id>` made `session=<hash>`."""
    return _SESSION.sub(lambda found: f"session={session_hash(found.group(1))}", text)


def guarded(record: logging.LogRecord, formatter: logging.Formatter) -> logging.LogRecord:
    """A copy of `record` fit to write (see above): other handlers still see the original."""
    ours = _ours(record)
    clone = logging.makeLogRecord({key: value for key, value in record.__dict__.items()
                                   if key in _STANDARD or (ours and key in FIELDS)})
    session = clone.__dict__.pop("session", None)
    if isinstance(session, str):
        clone.session_hash = session_hash(session)
    message = record.getMessage()
    clone.msg, clone.args = redact(pseudonymize(message if ours else scrub(message))), None
    if record.exc_info and not clone.exc_text:
        clone.exc_text = formatter.formatException(record.exc_info)
    clone.exc_info, clone.stack_info = None, None
    if clone.exc_text:
        clone.exc_text = redact(pseudonymize(scrub(clone.exc_text)))
    return clone


class Guard(logging.Formatter):
    """One text line per record: time, level, logger, the guarded message."""

    def format(self, record: logging.LogRecord) -> str:
        return super().format(guarded(record, self))


class JsonGuard(JsonFormatter):
    """One JSON object per record: time (UTC), level, logger, message and the allowed fields."""

    def __init__(self) -> None:
        super().__init__("{asctime}{levelname}{name}{message}", style="{",
                         rename_fields={"asctime": "time", "levelname": "level",
                                        "name": "logger", "exc_info": "exception"},
                         reserved_attrs=[*RESERVED_ATTRS, "taskName"])

    def format(self, record: logging.LogRecord) -> str:
        return super().format(guarded(record, self))

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


def _ours(record: logging.LogRecord) -> bool:
    return record.name == OURS or record.name.startswith(f"{OURS}.")


def _kept(record: logging.LogRecord) -> bool:
    """Other libraries write nothing below WARNING, whatever their own level says."""
    return _ours(record) or record.levelno >= logging.WARNING


def handler(stream: IO[str] | None = None, form: Format = "text") -> logging.Handler:
    """The one handler every record goes through: standard error (or `stream`), guarded."""
    written = logging.StreamHandler(stream)
    written.setFormatter(JsonGuard() if form == "json" else
                         Guard("%(asctime)s %(levelname)s %(name)s %(message)s"))
    written.addFilter(_kept)
    return written


def setup(level: str, stream: IO[str] | None = None, form: Format = "text") -> None:
    logging.basicConfig(level=level, handlers=[handler(stream, form)], force=True)
    # Not needed for privacy (the guard drops them), but spares building the records.
    for noisy in ("httpx", "httpcore", "openai", "discord", "telegram", "slack_sdk",
                  "slack_bolt", "aiohttp", "asyncio", "uvicorn", "websockets", "hpack"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

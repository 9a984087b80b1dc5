"""Linking codes: their form and limits, and what a redeemed code's answer stands for.

Made and redeemed by `Links` (core/links.py) with the LINK_CODE and LINK_CLAIM scripts.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.errors import CodeExpired, LinkLocked, OwnCode, TooManyCodes, WrongCode

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or typed from a phone
CODE_LENGTH = 8
CODE_SECONDS = 600  # a code works for 10 minutes, once
KEEP_MS = 2 * CODE_SECONDS * 1000  # kept past expiry, to say "expired" rather than "wrong"
MAX_TRIES, LOCK_SECONDS = 5, 3600  # five wrong codes lock linking for that person for an hour
CODES_PER_WINDOW, CODE_WINDOW_MS = 5, 600_000  # codes one person may make per 10 minutes
ATTEMPTS_PER_MINUTE = 600  # codes made or tried by everyone: guessing 32**8 stays hopeless


@dataclass(frozen=True, slots=True)
class Code:
    """A one-time linking code and when it stops working."""

    code: str
    expires_at: datetime


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize(text: str) -> str | None:
    """The code as typed (any case, spaces or dashes between), or None if it can't be one."""
    code = "".join(text.split()).replace("-", "").upper()
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def claimed(answer: list[Any], now_ms: int) -> str:
    """The maker of a redeemed code, or the error LINK_CLAIM's answer stands for."""
    kind = str(answer[0])
    if kind == "ok":
        return str(answer[1])
    if kind == "locked":
        return _raise(LinkLocked(from_ms(int(answer[1])), (int(answer[1]) - now_ms) / 1000))
    if kind == "busy":
        return _raise(TooManyCodes(int(answer[1]) / 1000))
    errors = {"expired": CodeExpired, "own": OwnCode}
    return _raise(errors[kind]() if kind in errors else WrongCode(int(answer[1])))


def _raise(exc: Exception) -> str:
    raise exc


def from_ms(ms: int) -> datetime:
    """A time in epoch milliseconds, as the scripts keep it."""
    return datetime.fromtimestamp(ms / 1000, UTC)

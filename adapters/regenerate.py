"""The Regenerate button under a finished answer, on every chat platform: what it carries.

A button's data is `re:<target>:<asker>:<nonce>`: the question it answers again (a message id,
or a turn id that may itself hold colons), the one person who may press it, and a nonce made
with the button. The nonce names the press to the core, so one button pressed twice is one
press, while the button under a regenerated answer is a new one. All of it fits Telegram's 64
bytes for a numeric target, and needs nothing kept in memory, so buttons outlive a restart.
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass

from adapters.pager import Watched
from core.errors import NotLastAnswer

LABEL = "↻ Regenerate"  # the same on every chat platform
NOT_YOURS = "Only the person who asked can regenerate this answer."
PATTERN = r"^re:[^\s]{1,80}:[0-9A-Za-z]{1,20}:[a-z2-7]{6}$"  # for a platform's handler table
_PRESS = re.compile(PATTERN)


def press_id() -> str:
    """A button's own nonce: six base32 characters (30 bits)."""
    return base64.b32encode(secrets.token_bytes(5)).decode().lower()[:6]


@dataclass(frozen=True, slots=True)
class Press:
    """What a Regenerate button carries."""

    target: str  # what the platform makes the question's turn id from
    asker: str  # the only person who may press it
    nonce: str

    @classmethod
    def fresh(cls, target: str | int, asker: str | int) -> Press:
        """The press of a new button under the answer to `target`."""
        return cls(str(target), str(asker), press_id())

    @property
    def data(self) -> str:
        return f"re:{self.target}:{self.asker}:{self.nonce}"

    @classmethod
    def parse(cls, data: str) -> Press | None:
        if not _PRESS.match(data):
            return None
        target, asker, nonce = data[3:].rsplit(":", 2)
        return cls(target, asker, nonce)


def retire(watched: Watched) -> bool:
    """Whether the pressed answer's button goes: it was replaced, or can never be again."""
    return watched.done or isinstance(watched.error, NotLastAnswer)

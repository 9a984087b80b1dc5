"""What the core accepts as a user message: non-empty, bounded, printable text."""

from __future__ import annotations

import re

from core.errors import EmptyMessage, InvalidText, MessageTooLong

# Unicode categories Cc (NUL, escapes, DEL, C1) and Cs (lone surrogates left by undecodable
# bytes), except tab and newline: one regex scan instead of a lookup per character.
_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(text: str, limit: int) -> str:
    """Return the message stripped of outer whitespace, or raise a `UserError` saying why not."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise EmptyMessage()
    if len(text) > limit:
        raise MessageTooLong(limit)
    if _FORBIDDEN.search(text):
        raise InvalidText()
    return text

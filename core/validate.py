"""What the core accepts as a user message: non-empty, bounded, printable text."""

from __future__ import annotations

import unicodedata

from core.errors import EmptyMessage, InvalidText, MessageTooLong

_ALLOWED_CONTROLS = frozenset("\n\t")


def clean_text(text: str, limit: int) -> str:
    """Return the message stripped of outer whitespace, or raise a `UserError` saying why not."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise EmptyMessage()
    if len(text) > limit:
        raise MessageTooLong(limit)
    # Cc: NUL, escapes, DEL; Cs: lone surrogates left by undecodable bytes.
    if any(unicodedata.category(c) in ("Cc", "Cs") and c not in _ALLOWED_CONTROLS for c in text):
        raise InvalidText()
    return text

"""Which messages the core accepts, and the short reason when it does not."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import EmptyMessage, InvalidText, MessageTooLong
from core.validate import clean_text


def test_every_code_point_is_judged_by_its_category() -> None:
    for c in map(chr, range(0x110000)):
        forbidden = unicodedata.category(c) in ("Cc", "Cs") and c not in "\n\t\r"
        if forbidden:
            with pytest.raises(InvalidText):
                clean_text(f"a{c}b", 10)
        else:
            clean_text(f"a{c}b", 10)


@given(st.text(max_size=50))
def test_accepted_text_is_stripped_and_bounded(text: str) -> None:
    try:
        cleaned = clean_text(text, 40)
    except (EmptyMessage, MessageTooLong, InvalidText):
        return
    assert cleaned == cleaned.strip() and 0 < len(cleaned) <= 40 and "\r" not in cleaned

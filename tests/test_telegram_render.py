"""Telegram parts the Bot API accepts, and streaming steps, offline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters import render
from adapters.render import TelegramPart, utf16_len
from adapters.telegram import answer, outbox
from tests.fakes.telegram_api import check_entities

WORD = st.text(alphabet="ab<&>*😀é ", min_size=1, max_size=12)
LINE = st.lists(WORD, min_size=1, max_size=8).map(" ".join)
PARAGRAPH = st.lists(LINE, min_size=1, max_size=4).map("\n".join)
CODE = st.lists(LINE, min_size=0, max_size=12).map(lambda ls: "```py\n" + "\n".join(ls) + "\n```")


MARKED = st.lists(st.text(alphabet="ab<*_`~[]()|#-😀 ", min_size=1, max_size=10), min_size=1,
                  max_size=6).map(" ".join)  # every Markdown mark, in any order
ANSWER = st.lists(st.one_of(MARKED, CODE, MARKED.map("> {}".format), MARKED.map("- {}".format),
                            st.just("| a | b |\n|---|---|\n| 1 | 😀 |")),
                  min_size=1, max_size=6).map("\n\n".join)


def accepted(part: TelegramPart, limit: int = 4096) -> bool:
    """Telegram takes the part: entities inside the text and nested, not blank, within limit."""
    check_entities(part.text, [e.to_dict() for e in part.entities])  # raises if refused
    return 0 < utf16_len(part.text) <= limit and bool(part.text.strip())


@settings(max_examples=60, deadline=None)
@given(ANSWER, st.integers(60, 400))
def test_every_prefix_of_an_answer_renders_to_parts_telegram_accepts(text: str,
                                                                     limit: int) -> None:
    # Mid-stream, any prefix is shown: a half-written construct must never be refused.
    for end in {*range(1, len(text), max(1, len(text) // 12)), len(text)}:
        assert all(accepted(part, limit) for part in render.telegram(text[:end], limit))


def test_stray_markup_is_text_not_formatting() -> None:
    [part] = render.telegram("a <b>not bold</b> & 2 * 3 < 4 **unclosed")
    assert part.text == "a <b>not bold</b> & 2 * 3 < 4 **unclosed" and part.entities == ()


def test_the_fake_refuses_entities_telegram_refuses() -> None:
    with pytest.raises(ValueError, match="outside"):
        check_entities("a😀", [{"type": "bold", "offset": 1, "length": 3}])  # 😀 is 2 units
    with pytest.raises(ValueError, match="unsupported"):
        check_entities("abc", [{"type": "shout", "offset": 0, "length": 1}])
    with pytest.raises(ValueError, match="overlap"):
        check_entities("abcd", [{"type": "bold", "offset": 0, "length": 3},
                                {"type": "italic", "offset": 2, "length": 2}])
    with pytest.raises(ValueError, match="overlap"):
        check_entities("abcd", [{"type": "pre", "offset": 0, "length": 4},
                                {"type": "bold", "offset": 1, "length": 1}])
    with pytest.raises(ValueError, match="overlap"):  # documented as invalid nesting
        check_entities("ab", [{"type": "text_link", "offset": 0, "length": 2, "url": "x"},
                              {"type": "code", "offset": 0, "length": 1}])
    check_entities("a😀", [{"type": "bold", "offset": 1, "length": 2},
                          {"type": "italic", "offset": 0, "length": 3},
                          {"type": "blockquote", "offset": 0, "length": 3},
                          {"type": "text_link", "offset": 1, "length": 2, "url": "x"}])
    check_entities("ab", [{"type": "blockquote", "offset": 0, "length": 2},
                          {"type": "pre", "offset": 0, "length": 2, "language": "py"}])


class _Recorder(outbox.Outbox):
    """An outbox that records what would be sent, with no Bot API behind it."""

    def __init__(self) -> None:
        super().__init__(None, -1, None, None)  # type: ignore[arg-type]  # a group: edits
        self.log: list[tuple[Any, ...]] = []

    async def send(self, part: TelegramPart, **extra: Any) -> int:
        self.log.append(("send", part.text))
        return len(self.log)

    async def edit(self, message_id: int, part: TelegramPart) -> None:
        self.log.append(("edit", message_id, part.text))

    async def delete(self, message_id: int) -> None:
        self.log.append(("delete", message_id))

    async def typing(self) -> None:
        await asyncio.sleep(3600)


async def test_a_resplit_needing_fewer_messages_deletes_the_extra_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def two_then_one(text: str, limit: int) -> list[TelegramPart]:
        texts = ["x", "y"] if len(text) < 3 else ["xy"]
        return [TelegramPart(t, ()) for t in texts]
    monkeypatch.setattr(answer.render, "telegram", two_then_one)

    async def stream() -> AsyncIterator[str]:
        for piece in "123":
            yield piece
            await asyncio.sleep(0.02)  # each piece its own step
    box = _Recorder()
    await answer.pager(box, 0).run(stream())
    # The extra message goes first, so "y" is never shown twice.
    assert box.log == [("send", "x"), ("send", "y"), ("delete", 2), ("edit", 1, "xy")]

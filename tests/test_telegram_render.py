"""The platform-neutral splitter, Telegram's HTML rendering and streaming steps, offline."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.telegram import outbox, sender
from adapters.telegram.render import pieces, to_html
from adapters.textsplit import split, utf16_len
from tests.fakes.telegram_api import visible

WORD = st.text(alphabet="ab<&>*😀é ", min_size=1, max_size=12)
LINE = st.lists(WORD, min_size=1, max_size=8).map(" ".join)
PARAGRAPH = st.lists(LINE, min_size=1, max_size=4).map("\n".join)
CODE = st.lists(LINE, min_size=0, max_size=12).map(lambda ls: "```py\n" + "\n".join(ls) + "\n```")


def test_utf16_counts_astral_emoji_twice() -> None:
    assert utf16_len("a😀é") == 4


def test_short_text_is_one_piece_unchanged() -> None:
    text = "Hi\n\n```py\nx = 1\n\ny = 2\n```\nafter\n\n\nend"
    assert split(text, 1000) == [text]
    assert split("   ", 10_000) == []


def test_split_prefers_paragraphs_and_refences_code() -> None:
    code = "```python\n" + "\n".join(f"x = {i}  # 😀" for i in range(60)) + "\n```"
    parts = split(f"intro\n\n{code}\n\noutro", 200, utf16_len)
    assert parts[0] == "intro" and parts[-1].endswith("outro")
    assert all(utf16_len(p) <= 200 for p in parts)
    assert all(p.startswith("```python\n") and p.count("```") == 2 for p in parts[1:-1])


def test_unbreakable_words_are_cut_hard() -> None:
    assert split("a" * 50, 20) == ["a" * 20, "a" * 20, "a" * 10]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(PARAGRAPH, CODE), min_size=1, max_size=12), st.integers(40, 300))
def test_split_keeps_limits_fences_and_every_character(blocks: list[str], limit: int) -> None:
    text = "\n\n".join(blocks)
    parts = split(text, limit, utf16_len)
    assert all(utf16_len(p) <= limit for p in parts)
    assert all(sum(1 for ln in p.split("\n") if ln.startswith("```")) % 2 == 0 for p in parts)
    fences = re.compile(r"^```\w*$", re.MULTILINE)
    # Hard cuts may split a word; no character may be lost, added or reordered.
    assert "".join(fences.sub("", "\n".join(parts)).split()) == \
        "".join(fences.sub("", text).split())


def test_html_converts_the_simple_subset_and_escapes_the_rest() -> None:
    source = "**bold** & `x<y` <b>not a tag</b> *single*\n```py\nif a < b && c:\n```"
    assert to_html(source) == (
        "<b>bold</b> &amp; <code>x&lt;y</code> &lt;b&gt;not a tag&lt;/b&gt; *single*\n"
        '<pre><code class="language-py">if a &lt; b &amp;&amp; c:</code></pre>')
    assert to_html("```\nunterminated <") == "<pre>unterminated &lt;</pre>"
    assert to_html('```"><script>\nx\n```') == "<pre>x</pre>"  # odd language: no attribute


@given(st.text(max_size=300))
def test_any_text_renders_to_html_telegram_accepts(text: str) -> None:
    for part in pieces(text):
        assert utf16_len(visible(to_html(part), "HTML")) <= 4096


class _Recorder(outbox.Outbox):
    """An outbox that records what would be sent, with no Bot API behind it."""

    def __init__(self) -> None:
        super().__init__(None, -1, None, None)  # type: ignore[arg-type]  # a group: edits
        self.log: list[tuple[Any, ...]] = []

    async def send(self, text: str, html: bool = False, **extra: Any) -> Any:
        self.log.append(("send", text, html))
        return type("Sent", (), {"message_id": len(self.log)})()

    async def edit(self, message_id: int, text: str, html: bool = False) -> None:
        self.log.append(("edit", message_id, text, html))

    async def delete(self, message_id: int) -> None:
        self.log.append(("delete", message_id))

    async def typing(self) -> None:
        await asyncio.sleep(3600)


async def test_a_resplit_needing_fewer_messages_deletes_the_extra_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sender, "split",
                        lambda t, limit, length: ["x", "y"] if len(t) < 3 else ["xy"])

    async def stream() -> AsyncIterator[str]:
        for piece in "123":
            yield piece
            await asyncio.sleep(0.02)  # each piece its own step
    box = _Recorder()
    await sender.deliver(box, stream(), 0)
    # The extra message goes first, so "y" is never shown twice.
    assert box.log == [("send", "x", True), ("send", "y", False), ("delete", 2),
                       ("edit", 1, "xy", True)]

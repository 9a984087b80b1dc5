"""Golden answers through the real PTB: what Telegram receives is exactly `render.telegram`."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from adapters import render
from core.service import ChatService
from tests.fakes.common import wait_for
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.telegram_api import (
    FakeTelegram,
    chat_of,
    fake_telegram,
    shown_parts,
    telegram_bot,
    user,
)

GOLDEN = {
    "table": "Prices:\n\n| item | price |\n|:-----|------:|\n| tea | 2 |\n| cake | 3.50 |",
    "list": "Steps:\n\n1. **Boil** the water\n2. Add *leaves*\n   - green, or\n   - black\n3. Wait",
    "link": "See [the docs](https://example.com/a_(b)?q=1&r=2) or <https://example.org>.",
    "code": "Run `pip install x` then:\n\n```python\nif a < b and c > d:\n    print('*ok*')\n```",
    "quote": "> **Note:** quotes keep *their* formatting\n> over two lines\n\nAfter the quote.",
    "stray": "Use <b>bold</b> tags? No: 2 * 3 < 4, a lone ** and `x < y` & <i>",
    "emoji": "Rocket 🚀, family 👨‍👩‍👧 and **bold 😀 text**, ~~gone~~ _it_ 🇳🇴",
    "heading": "# Title\n\nText under it.\n\n## Sub heading",
    "long": "\n\n".join(f"Paragraph {i} 🚀 with **bold** and `code`. " + "words " * 80
                      for i in range(12)),
}
NAMES = list(GOLDEN)


def sent_as(markdown: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """What the chat must show: each part's text and entities, as the Bot API JSON has them."""
    return [(p.text, [e.to_dict() for e in p.entities]) for p in render.telegram(markdown)]


def pieces(text: str) -> list[str]:
    """How the fake model streams an answer: six pieces, so every answer is seen growing."""
    size = len(text) // 6 + 1
    return [text[i:i + size] for i in range(0, len(text), size)]


def so_far(markdown: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """Every message the answer may show while it streams: each streamed prefix, rendered."""
    ends = itertools.accumulate(len(piece) for piece in pieces(markdown))
    return [shown for end in ends for shown in sent_as(markdown[:end])]


def test_the_long_answer_needs_two_messages() -> None:
    assert len(render.telegram(GOLDEN["long"])) == 2


def chats(kind: str) -> list[dict[str, Any]]:
    """One chat per golden answer: private chats with users 201…, or groups -1001…."""
    if kind == "private":
        return [chat_of(user(201 + i, f"User{i}")) for i in range(len(NAMES))]
    return [{"id": -1001 - i, "type": "supergroup", "title": f"G{i}"} for i in range(len(NAMES))]


async def ask_all(tg: FakeTelegram, kind: str) -> None:
    for i, chat in enumerate(chats(kind)):
        asker = user(201 + i, f"User{i}")
        text = NAMES[i] if kind == "private" else f"@switchboard_test_bot {NAMES[i]}"
        await tg.send_text(chat, asker, text)


@pytest.mark.parametrize("kind", ["private", "group"])
async def test_golden_answers_reach_telegram_exactly_as_rendered(
        kind: str, llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    openai_fake.answer = lambda body: GOLDEN[body["messages"][-1]["content"]]  # asked by name
    openai_fake.chunks = pieces
    openai_fake.chunk_delay = 0.03
    ids = [chat["id"] for chat in chats(kind)]
    want = {chat_id: sent_as(GOLDEN[name]) for chat_id, name in zip(ids, NAMES, strict=True)}
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        await ask_all(tg, kind)
        await wait_for(lambda: all(shown_parts(tg, c) == want[c] for c in ids), timeout=20)
    assert not [c for c in tg.calls if "parse_mode" in c.params]
    assert tg.refused == []  # no draft, send or edit of a growing answer was refused
    growing = {d.chat_id for d in tg.drafts} if kind == "private" else \
        {p["chat_id"] for p in tg.called("editMessageText")}
    assert growing == set(ids)  # drafts in private chats, edits in groups, while streaming
    for chat_id, name in zip(ids, NAMES, strict=True):  # each update: the answer so far
        updates = [(d.text, d.entities) for d in tg.drafts if d.chat_id == chat_id] + \
            [(c.text, c.entities) for c in tg.changes if c.chat_id == chat_id]
        assert all(update in so_far(GOLDEN[name]) for update in updates)
    if kind == "private":
        assert not tg.called("editMessageText")  # each message sent once, when complete

"""Private chats stream as native drafts (sendMessageDraft); groups keep throttled edits."""

from __future__ import annotations

import itertools
from typing import Any

from core.service import ChatService
from tests.fakes.common import wait_for
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.telegram_api import FakeTelegram, chat_of, fake_telegram, shown, telegram_bot, user

ALICE = user(11, "Alice")
GROUP: dict[str, Any] = {"id": -100123, "type": "supergroup", "title": "Team"}


def streamed(openai: FakeOpenAI, answer: str, size: int = 20) -> None:
    openai.answer = lambda body: answer
    openai.chunks = lambda text: [text[i:i + size] for i in range(0, len(text), size)]
    openai.chunk_delay = 0.02


def showing(tg: FakeTelegram, chat_id: int, answer: str) -> bool:
    """The chat shows the whole answer, formatted (bold markers gone)."""
    return " ".join(shown(tg, chat_id)).split() == answer.replace("**", "").split()


def assert_sane_drafts(tg: FakeTelegram, answer: str) -> None:
    """Every draft has text, shows a prefix of the answer (rendered so far: a `**` may still be
    open), and differs from the one before."""
    assert tg.drafts and all(d.text.strip() and d.chat_id == 11 for d in tg.drafts)
    assert all((a.text, a.entities) != (b.text, b.entities)
               for a, b in itertools.pairwise(tg.drafts))
    seen = " ".join(answer.replace("**", "").split())
    assert all(" ".join(d.text.replace("**", "").split()) in seen for d in tg.drafts)


async def test_private_answer_streams_as_drafts_then_one_final_message(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    answer = "Here is **the** plan: " + "step by step, " * 20
    streamed(openai_fake, answer)
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        await tg.send_text(chat_of(ALICE), ALICE, "plan?")
        await wait_for(lambda: showing(tg, 11, answer))
    assert_sane_drafts(tg, answer)
    assert len({d.draft_id for d in tg.drafts}) == 1  # one message: one animated draft
    [final] = tg.called("sendMessage")
    assert "parse_mode" not in final and final["text"].startswith("Here is the plan")
    assert final["entities"] == [{"type": "bold", "offset": 8, "length": 3}]
    assert not tg.called("editMessageText")
    assert max(d.at for d in tg.drafts) < tg.changes[0].at  # drafts first, then the message


async def test_a_long_private_answer_sends_each_message_once(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    answer = "\n\n".join(f"Paragraph {i}. " + "words " * 60 for i in range(25))  # ~9,500 chars
    streamed(openai_fake, answer, size=300)
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        await tg.send_text(chat_of(ALICE), ALICE, "long")
        await wait_for(lambda: showing(tg, 11, answer), timeout=15)
    assert_sane_drafts(tg, answer)
    assert len(tg.called("sendMessage")) == len(shown(tg, 11)) == 3
    assert not tg.called("editMessageText") and not tg.called("deleteMessage")
    assert len({d.draft_id for d in tg.drafts}) >= 2  # each message had its own draft


async def test_group_answers_stream_by_edits_not_drafts(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    answer = "a grown group answer " * 10
    streamed(openai_fake, answer)
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        await tg.send_text(GROUP, ALICE, "@switchboard_test_bot go")
        await wait_for(lambda: showing(tg, GROUP["id"], answer))
    assert tg.called("editMessageText") and not tg.called("sendMessageDraft")


async def test_a_refused_draft_still_delivers_the_answer(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    answer = "drafts are not for everyone " * 8
    streamed(openai_fake, answer)
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        tg.fail("sendMessageDraft", 400, "Bad Request: method is not available")
        await tg.send_text(chat_of(ALICE), ALICE, "hi")
        await wait_for(lambda: showing(tg, 11, answer))
    assert len(tg.called("sendMessageDraft")) == 1 and tg.drafts == []  # tried once only
    assert len(tg.called("sendMessage")) == 1 and not tg.called("editMessageText")

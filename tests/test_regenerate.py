"""Regenerate: the last answer replaced atomically, once per press, never racing a new turn."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from core.errors import DuplicateTurn, NotLastAnswer
from core.keys import SessionKey, Speaker, UserKey
from core.service import ChatService, Turn
from tests.fakes.http_api import served
from tests.fakes.openai_server import FakeOpenAI

ANA = UserKey.of("telegram", 11)
SPEAKER = Speaker(ANA, "Ana", "Telegram")
SESSION = SessionKey.direct(ANA)


def turn(text: str, turn_id: str) -> Turn:
    return Turn(SESSION, SPEAKER, text, turn_id)


async def redo(service: ChatService, target: str | None, press: str) -> str:
    return "".join([p async for p in service.regenerate(SESSION, SPEAKER, target, press)])


def numbered(fake: FakeOpenAI) -> None:
    """Answer each request with its number, so every take differs."""
    def answer(body: dict[str, Any]) -> str:
        return f"take {len(fake.requests)}"
    fake.answer = answer


async def test_the_last_answer_is_replaced_and_the_question_asked_again(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    numbered(openai_fake)
    await llm_service.reply(turn("name a colour", "t1"))
    assert await redo(llm_service, "t1", "press-1") == "take 2"
    asked = openai_fake.requests[-1]["messages"]
    assert asked[-1]["content"] == "name a colour" and "take 1" not in str(asked)
    assert [m.text for m in await llm_service.history(SESSION)] == ["name a colour", "take 2"]
    assert await redo(llm_service, None, "press-2") == "take 3", "None: the last answer"
    assert (await llm_service.info(SESSION)).messages == 2  # type: ignore[union-attr]


async def test_the_same_press_twice_is_answered_once(llm_service: ChatService,
                                                     openai_fake: FakeOpenAI) -> None:
    numbered(openai_fake)
    await llm_service.reply(turn("hi", "t1"))
    results = await asyncio.gather(redo(llm_service, "t1", "p"), redo(llm_service, "t1", "p"),
                                   return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["DuplicateTurn", "str"]
    assert len(openai_fake.requests) == 2
    with pytest.raises(DuplicateTurn):
        await redo(llm_service, "t1", "p")


async def test_an_older_answer_or_an_empty_conversation_cannot_be_regenerated(
        service: ChatService) -> None:
    with pytest.raises(NotLastAnswer):
        await redo(service, None, "p0")
    await service.reply(turn("one", "t1"))
    await service.reply(turn("two", "t2"))
    with pytest.raises(NotLastAnswer):
        await redo(service, "t1", "p1")
    assert len(await service.history(SESSION)) == 4


async def test_a_regenerate_racing_a_new_message_never_loses_or_doubles_a_turn(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    numbered(openai_fake)
    for round_ in range(5):
        target = f"q{round_}"
        await llm_service.reply(turn(f"question {round_}", target))
        both = await asyncio.gather(redo(llm_service, target, f"p{round_}"),
                                    llm_service.reply(turn(f"next {round_}", f"n{round_}")),
                                    return_exceptions=True)
        assert not isinstance(both[1], BaseException)
        assert isinstance(both[0], str | NotLastAnswer)
    texts = [m.text for m in await llm_service.history(SESSION, 100)]
    humans = [t for t in texts[::2]]
    assert humans == [t for r in range(5) for t in (f"question {r}", f"next {r}")]
    assert all(t.startswith("take") for t in texts[1::2]) and len(texts) == 20


async def test_the_api_regenerates_once_per_key_and_409s_an_empty_conversation(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    numbered(openai_fake)
    async with served(llm_service) as api:
        sid = (await api.post("/v1/chat", json={"message": "hi"})).json()["session_id"]
        path = f"/v1/sessions/{sid}/regenerate"
        again = await api.post(path, headers={"Idempotency-Key": "k1"})
        assert again.status_code == 200 and again.json()["reply"] == "take 2"
        twice = await api.post(path, headers={"Idempotency-Key": "k1"})
        assert twice.status_code == 409 and len(openai_fake.requests) == 2
        missing = await api.post("/v1/sessions/nothing-here/regenerate")
        assert missing.status_code == 404
        history = (await api.get(f"/v1/sessions/{sid}/messages")).json()["messages"]
        assert [m["text"] for m in history] == ["hi", "take 2"]

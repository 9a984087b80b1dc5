"""Discord redeliveries and shutdown: replays answered once, across resumes and processes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from redis.asyncio import Redis

from adapters.discord_bot import inflight
from core.service import ChatService
from tests.fakes.common import wait_for
from tests.fakes.discord_api import CHANNEL, FakeDiscord, fake_discord
from tests.fakes.openai_server import FakeOpenAI
from tests.test_discord import ALICE, BOB, DM_BOB, running, start


@pytest.fixture
async def discord_api() -> AsyncIterator[FakeDiscord]:
    async with fake_discord() as fake:
        yield fake


@pytest.fixture
async def second_process(redis_url: str, make_llm_service: Callable[..., Awaitable[ChatService]]
                         ) -> AsyncIterator[ChatService]:
    """Another bot process's core: its own Redis connection, the same key prefix."""
    redis = Redis.from_url(redis_url, decode_responses=True)
    try:
        yield await make_llm_service(redis)
    finally:
        await redis.aclose()


async def test_a_message_dispatched_again_is_answered_once(
        discord_api: FakeDiscord, llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    openai_fake.chunk_delay = 0.01
    async with running(discord_api, llm_service) as api:
        mid = await api.say(ALICE, "once please", mention=True)
        await api.say(ALICE, "once please", mention=True, message_id=mid)  # while in flight
        await wait_for(lambda: api.texts(CHANNEL) == ["echo: once please"])
        await api.say(ALICE, "once please", mention=True, message_id=mid)  # after
        await api.say(ALICE, "next", mention=True)
        await wait_for(lambda: len(api.texts(CHANNEL)) == 2)
    assert api.texts(CHANNEL) == ["echo: once please", "echo: next"]
    assert len(openai_fake.requests) == 2


async def test_events_replayed_by_a_resume_are_answered_once(
        discord_api: FakeDiscord, llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    openai_fake.hang_next(0.5)  # the first answer is still being written during the resume
    async with running(discord_api, llm_service) as api:
        before = api.last_seq
        await api.say(ALICE, "once please", mention=True)
        await wait_for(lambda: openai_fake.requests)
        await api.reconnect(replay_from=before)  # RECONNECT, RESUME, the message again
        assert api.texts(CHANNEL) == []
        await wait_for(lambda: api.texts(CHANNEL) == ["echo: once please"])
        await api.reconnect(replay_from=before)  # and once more after it was answered
        await api.say(ALICE, "next", mention=True)
        await wait_for(lambda: len(api.texts(CHANNEL)) == 2)
    assert api.texts(CHANNEL) == ["echo: once please", "echo: next"]
    assert len(openai_fake.requests) == 2
    assert len(api.identifies) == 1 and len(api.resumes) == 2  # resumed, not a new session
    assert api.resumes[0]["session_id"] == "session" and api.resumes[0]["seq"] > before


async def test_two_processes_sharing_redis_answer_a_message_once(
        discord_api: FakeDiscord, llm_service: ChatService, second_process: ChatService,
        openai_fake: FakeOpenAI) -> None:
    async with running(discord_api, llm_service) as api, running(api, second_process):
        await api.say(ALICE, "hello both", mention=True)  # delivered to both processes
        await api.say(BOB, "and a dm", channel=DM_BOB, guild=False)
        await wait_for(lambda: api.texts(CHANNEL) and api.texts(DM_BOB))
    # Both stopped only after their replies in flight finished: nothing more can come.
    assert api.texts(CHANNEL) == ["echo: hello both"] and api.texts(DM_BOB) == ["echo: and a dm"]
    assert len(openai_fake.requests) == 2
    assert len(api.identifies) == 2


async def test_stop_finishes_replies_in_flight_and_takes_no_new_messages(
        discord_api: FakeDiscord, llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    openai_fake.hang_next(0.4)
    task, stop = await start(discord_api, llm_service)
    await discord_api.say(ALICE, "finish me", mention=True)
    await wait_for(lambda: openai_fake.requests)
    stop.set()
    await asyncio.sleep(0.05)  # the bot sees the stop
    await discord_api.say(ALICE, "too late", mention=True)
    await asyncio.wait_for(task, 10)
    assert discord_api.texts(CHANNEL) == ["echo: finish me"]
    assert len(openai_fake.requests) == 1


async def test_stop_cancels_replies_still_running_after_the_drain(
        discord_api: FakeDiscord, llm_service: ChatService, openai_fake: FakeOpenAI,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inflight, "DRAIN_SECONDS", 0.2)
    openai_fake.hang_next(5)
    task, stop = await start(discord_api, llm_service)
    await discord_api.say(ALICE, "a slow one", mention=True)
    await wait_for(lambda: openai_fake.requests)
    began = time.monotonic()
    stop.set()
    await asyncio.wait_for(task, 10)
    assert time.monotonic() - began < 2
    assert await llm_service.drain(0.5)  # the core's drain, next at shutdown, has nothing left

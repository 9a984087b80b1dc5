"""A message is counted once by the rate limit, however long it waits for its conversation."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from redis.asyncio import Redis

from core.errors import RateLimited
from core.keys import SessionKey, Speaker, UserKey
from core.redis_store import RedisStore
from core.service import ChatService, Turn
from core.settings import CoreSettings
from tests.fakes.models import CountingModel

ROOT = Path(__file__).resolve().parents[1]
ANA = Speaker(UserKey.of("slack", "T1", "ana"), "ana", "slack")


async def _service(redis: Redis, settings: CoreSettings, model: CountingModel) -> ChatService:
    store = RedisStore(redis, settings.redis_prefix, settings.history_ttl,
                       settings.history_max_messages)
    await store.scripts.load(redis)
    return ChatService(store, model, settings)


async def test_queued_messages_in_one_process_get_exactly_the_limit(
        redis: Redis, make_settings: Callable[..., CoreSettings]) -> None:
    model = CountingModel(delay=0.02)
    service = await _service(redis, make_settings(SWITCHBOARD_RATE_LIMIT="5/minute"), model)
    session = SessionKey.direct(ANA.user)
    results = await asyncio.gather(*(service.reply(Turn(session, ANA, f"m{i}"))
                                     for i in range(40)), return_exceptions=True)
    answered = [r for r in results if isinstance(r, str)]
    limited = [r for r in results if isinstance(r, RateLimited)]
    assert (len(answered), len(limited)) == (5, 35)
    assert model.calls == 5
    assert len(await service.history(session, 100)) == 10


async def test_an_admitted_message_is_never_refused_while_it_waits(
        redis: Redis, make_settings: Callable[..., CoreSettings]) -> None:
    settings = make_settings(SWITCHBOARD_RATE_LIMIT="2/minute")
    store = RedisStore(redis, settings.redis_prefix, settings.history_ttl, 200)
    await store.scripts.load(redis)
    rate, session = settings.rate_limit, SessionKey.direct(ANA.user)
    first = await store.open_turn(session, ANA.user, "a", rate, 40)  # holds the lock
    waiting = asyncio.create_task(store.open_turn(session, ANA.user, "b", rate, 40))
    await asyncio.sleep(0.3)  # "b" was counted and now retries the lock
    with pytest.raises(RateLimited):  # the budget is spent: a third message is refused...
        await store.admit(ANA.user, "c", rate)
    await store.release(session, first.lock_token)
    opened = await asyncio.wait_for(waiting, 5)  # ...but "b", admitted earlier, goes through
    await store.release(session, opened.lock_token)


async def test_a_redelivered_message_is_counted_once(
        redis: Redis, make_settings: Callable[..., CoreSettings]) -> None:
    settings = make_settings(SWITCHBOARD_RATE_LIMIT="2/minute")
    store = RedisStore(redis, settings.redis_prefix, settings.history_ttl, 200)
    await store.scripts.load(redis)
    for _ in range(5):  # another process, a Slack retry, a replayed Telegram update
        await store.admit(ANA.user, "same-event", settings.rate_limit)
    await store.admit(ANA.user, "second", settings.rate_limit)
    with pytest.raises(RateLimited):
        await store.admit(ANA.user, "third", settings.rate_limit)


async def _worker(redis_url: str, prefix: str, tag: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.turn_worker", redis_url, prefix, "5/minute", "20",
        tag, cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE)
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 30)
    assert line.strip() == b"ready"
    return process


async def test_queued_messages_across_two_processes_get_exactly_the_limit(
        redis_url: str, redis: Redis, prefix: str) -> None:
    workers = [await _worker(redis_url, prefix, tag) for tag in ("p1", "p2")]
    await redis.set(f"{prefix}go", 1, ex=60)
    outcomes = []
    for process in workers:
        out, _ = await asyncio.wait_for(process.communicate(), 60)
        outcomes.append(json.loads(out.decode().splitlines()[-1]))
    assert [o["other"] for o in outcomes] == [[], []]
    assert sum(o["answered"] for o in outcomes) == 5
    assert sum(o["limited"] for o in outcomes) == 35
    history = await redis.llen(RedisStore(redis, prefix, 60, 200).keys.session(
        str(SessionKey.direct(ANA.user))).history)
    assert history == 10

"""Limits of the HTTP API: body size before parsing, message length, rate, and error shapes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
from redis.asyncio import Redis

from core.redis_store import RedisStore
from core.service import ChatService
from core.settings import CoreSettings
from tests.fakes.common import wait_for
from tests.fakes.http_api import served
from tests.fakes.models import CountingModel


async def test_body_over_the_limit_is_413_before_parsing(service: ChatService) -> None:
    # A body may hold 64 KiB of text and fields, plus each allowed file base64-encoded.
    service.settings.max_attachments, service.settings.max_attachment_bytes = 1, 1
    async with served(service) as api:
        big = b'{"message": "' + b"a" * (66 * 1024) + b'"}'
        declared = await api.post("/v1/chat", content=big,
                                  headers={"Content-Type": "application/json"})
        assert declared.status_code == 413 and list(declared.json()) == ["error"]

        async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
            for _ in range(80):
                yield b"x" * 1024
        streamed = await api.post("/v1/chat", content=chunked(),
                                  headers={"Content-Type": "application/json"})
        assert streamed.status_code == 413
        not_json = await api.post("/v1/chat", content=b"{", headers={
            "Content-Type": "application/json"})
        assert not_json.status_code == 422 and list(not_json.json()) == ["error"]


async def test_message_over_the_limit_is_422(make_settings: object, service: ChatService) -> None:
    service.settings = service.settings.model_copy(update={"max_input_chars": 50})
    async with served(service) as api:
        long = await api.post("/v1/chat", json={"message": "a" * 51})
        assert long.status_code == 422 and "50 characters" in long.json()["error"]
        streamed = await api.post("/v1/chat/stream", json={"message": "a" * 51})
        assert streamed.status_code == 422
        assert (await api.post("/v1/chat", json={"message": "a" * 50})).status_code == 200
        extra = await api.post("/v1/chat", json={"message": "hi", "surprise": 1})
        wrong_id = await api.post("/v1/chat", json={"message": "hi", "session_id": "../x"})
        assert (extra.status_code, wrong_id.status_code) == (422, 422)


async def test_rate_limited_is_429_with_retry_after(service: ChatService) -> None:
    from core.settings import Rate

    service.settings = service.settings.model_copy(update={"rate_limit": Rate(2, 60.0)})
    async with served(service) as api:
        codes = [(await api.post("/v1/chat", json={"message": f"m{i}"})).status_code
                 for i in range(2)]
        limited = await api.post("/v1/chat", json={"message": "too many"})
        streamed = await api.post("/v1/chat/stream", json={"message": "too many"})
        assert codes == [200, 200] and limited.status_code == streamed.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert "too fast" in limited.json()["error"] or "fast" in limited.json()["error"]
        metrics = (await api.get("/metrics")).text
        assert 'switchboard_rate_limited_turns_total{platform="api"} 2.0' in metrics


async def test_bad_text_is_422_not_500(service: ChatService) -> None:
    async with served(service) as api:
        for text in ("", "   ", "nul\x00byte", "esc\x1b[31m"):
            response = await api.post("/v1/chat", json={"message": text})
            assert response.status_code == 422, text
            assert list(response.json()) == ["error"]


async def test_error_bodies_never_carry_tracebacks(service: ChatService) -> None:
    async with served(service) as api:
        response = await api.post("/v1/chat", json=["not", "an", "object"])
        assert response.status_code == 422 and "Traceback" not in response.text
        assert len(response.text) < 200
        assert isinstance(response, httpx.Response)


async def test_a_full_waiting_line_is_503_with_retry_after(
        redis: Redis, make_settings: Callable[..., CoreSettings]) -> None:
    settings = make_settings(SWITCHBOARD_MAX_TURNS="1", SWITCHBOARD_MAX_WAITING="0")
    store = RedisStore(redis, settings.redis_prefix, settings.history_ttl,
                       settings.history_max_messages)
    await store.scripts.load(redis)
    model = CountingModel(delay=0.5)
    async with served(ChatService(store, model, settings)) as api:
        first = asyncio.create_task(api.post("/v1/chat", json={"message": "slow one"}))
        await wait_for(lambda: model.calls == 1)
        refused = await api.post("/v1/chat", json={"message": "me too"})
        assert refused.status_code == 503 and refused.headers["retry-after"] == "30"
        assert refused.json() == {"error": "I'm answering a lot of people right now. Please "
                                           "send that again in a minute."}
        streamed = await api.post("/v1/chat/stream", json={"message": "me too"})
        assert streamed.status_code == 503 and streamed.headers["retry-after"] == "30"
        metrics = (await api.get("/metrics")).text
        assert "switchboard_turns_in_flight 1.0" in metrics
        assert 'switchboard_turns_total{outcome="Overloaded",platform="api"} 2.0' in metrics
        assert (await first).status_code == 200
        assert "switchboard_turns_in_flight 0.0" in (await api.get("/metrics")).text

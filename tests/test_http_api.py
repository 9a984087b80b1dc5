"""The `/v1` API over real HTTP on loopback with a real Redis: chat, sessions, erasure, probes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis

from core.service import ChatService
from tests.fakes.http_api import auth, served


@pytest.fixture
async def api(service: ChatService) -> AsyncIterator[httpx.AsyncClient]:
    async with served(service) as client:
        yield client


async def test_chat_starts_and_continues_a_conversation(api: httpx.AsyncClient) -> None:
    first = await api.post("/v1/chat", json={"message": "my name is Ana"})
    assert first.status_code == 200, first.text
    sid = first.json()["session_id"]
    assert first.json()["turn_count"] == 1 and "my name is Ana" in first.json()["reply"]
    second = await api.post("/v1/chat", json={"message": "who am I?", "session_id": sid})
    assert second.json()["session_id"] == sid and second.json()["turn_count"] == 2
    assert "“my name is Ana”" in second.json()["reply"]
    other = await api.post("/v1/chat", json={"message": "hello"})
    assert other.json()["session_id"] != sid and other.json()["turn_count"] == 1


async def test_sessions_messages_and_delete(api: httpx.AsyncClient) -> None:
    sid = (await api.post("/v1/chat", json={"message": "first words"})).json()["session_id"]
    listed = (await api.get("/v1/sessions")).json()["sessions"]
    assert [(s["session_id"], s["title"], s["messages"]) for s in listed] == \
        [(sid, "first words", 2)]
    history = (await api.get(f"/v1/sessions/{sid}/messages")).json()
    assert [m["role"] for m in history["messages"]] == ["human", "ai"]
    assert history["messages"][0]["text"] == "first words"
    assert (await api.delete(f"/v1/sessions/{sid}")).status_code == 204
    gone = await api.get(f"/v1/sessions/{sid}/messages")
    assert gone.status_code == 404 and gone.json() == {"error": "no such conversation"}
    assert (await api.delete(f"/v1/sessions/{sid}")).status_code == 404
    assert (await api.get("/v1/sessions")).json()["sessions"] == []


async def test_another_user_gets_404_never_content(api: httpx.AsyncClient) -> None:
    sid = (await api.post("/v1/chat", json={"message": "ana's secret"})).json()["session_id"]
    bob = auth("bob")
    peek = await api.get(f"/v1/sessions/{sid}/messages", headers=bob)
    assert peek.status_code == 404 and "secret" not in peek.text
    assert (await api.delete(f"/v1/sessions/{sid}", headers=bob)).status_code == 404
    assert (await api.get("/v1/sessions", headers=bob)).json()["sessions"] == []
    # Bob writing to Ana's session id creates Bob's own conversation, not a view of Ana's.
    reply = await api.post("/v1/chat", json={"message": "hi", "session_id": sid}, headers=bob)
    assert "secret" not in reply.text and reply.json()["turn_count"] == 1
    assert len((await api.get(f"/v1/sessions/{sid}/messages")).json()["messages"]) == 2


async def test_sessions_lists_only_api_conversations(service: ChatService,
                                                     api: httpx.AsyncClient) -> None:
    from core.keys import SessionKey, Speaker, UserKey
    from core.service import Turn

    ana = UserKey.of("api", "ana")
    await service.reply(Turn(SessionKey.direct(ana), Speaker(ana, "Ana", "x"), "not via api"))
    sid = (await api.post("/v1/chat", json={"message": "via api"})).json()["session_id"]
    assert [s["session_id"] for s in (await api.get("/v1/sessions")).json()["sessions"]] == [sid]


async def test_delete_me_erases_every_key_of_the_caller_only(
        api: httpx.AsyncClient, redis: Redis, prefix: str) -> None:
    await api.post("/v1/chat", json={"message": "I am bob"}, headers=auth("bob"))
    bobs = {k for k in [k async for k in redis.scan_iter(match=f"{prefix}*")]}
    before = {k: await redis.lrange(k, 0, -1) for k in bobs if k.endswith(":h")}
    for text in ("I am ana", "still ana"):
        assert (await api.post("/v1/chat", json={"message": text})).status_code == 200
    assert len({k async for k in redis.scan_iter(match=f"{prefix}*")}) > len(bobs)
    erased = await api.delete("/v1/me")
    assert erased.status_code == 200 and erased.json() == {"erased": 2}
    # Exactly Bob's keys are left, with Bob's history unchanged: nothing of Ana's remains.
    assert {k async for k in redis.scan_iter(match=f"{prefix}*")} == bobs
    assert {k: await redis.lrange(k, 0, -1) for k in before} == before
    assert (await api.get("/v1/sessions")).json()["sessions"] == []
    assert len((await api.get("/v1/sessions", headers=auth("bob"))).json()["sessions"]) == 1


async def test_idempotency_key_answers_a_retry_once(api: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "retry-42"}
    first = await api.post("/v1/chat", json={"message": "once"}, headers=headers)
    again = await api.post("/v1/chat", json={"message": "once"}, headers=headers)
    assert first.status_code == 200 and again.status_code == 409
    assert "Idempotency-Key" in again.json()["error"]
    sid = first.json()["session_id"]
    assert len((await api.get(f"/v1/sessions/{sid}/messages")).json()["messages"]) == 2
    bad = await api.post("/v1/chat", json={"message": "x"}, headers={"Idempotency-Key": "a b"})
    assert bad.status_code == 422


async def test_probes_and_metrics(api: httpx.AsyncClient) -> None:
    assert (await api.get("/healthz")).json() == {"status": "ok", "checks": {}}
    ready = await api.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"model": "offline", "redis": "ok"}
    await api.post("/v1/chat", json={"message": "count me"})
    text = (await api.get("/metrics")).text
    assert 'switchboard_turns_total{outcome="ok",platform="api"} 1.0' in text
    assert 'switchboard_reply_seconds_count{platform="api"} 1.0' in text
    assert "switchboard_tokens_total" in text and "switchboard_failed_turns" in text


async def test_readyz_fails_when_redis_is_gone(service: ChatService) -> None:
    from core.connect import client_for
    from core.redis_store import RedisStore

    dead = client_for("redis://127.0.0.1:1/0")
    service.store = RedisStore(dead, "sbtest:dead:", 60, 10)
    async with served(service) as client:
        ready = await client.get("/readyz")
    await dead.aclose()
    assert ready.status_code == 503 and ready.json()["checks"]["redis"] == "unreachable"


async def test_unknown_routes_and_methods_are_short_json(api: httpx.AsyncClient) -> None:
    missing = await api.get("/v1/nope")
    assert missing.status_code == 404 and missing.json() == {"error": "not found"}
    wrong = await api.put("/v1/chat", json={})
    assert wrong.status_code == 405 and list(wrong.json()) == ["error"]
    page = await api.get("/")
    assert page.status_code == 200 and "script-src 'self'" in page.headers[
        "content-security-policy"]
    assert (await api.get("/openapi.json")).json()["info"]["title"] == "Switchboard"


async def test_docs_page_needs_no_internet(api: httpx.AsyncClient) -> None:
    docs = await api.get("/docs")
    assert docs.status_code == 200 and "default-src 'none'" in docs.headers[
        "content-security-policy"]
    assert "://" not in docs.text  # every asset comes from this server: no CDN
    assert (await api.get("/static/docs.js")).status_code == 200
    assert (await api.get("/redoc")).status_code == 404

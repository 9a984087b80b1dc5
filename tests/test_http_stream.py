"""`POST /v1/chat/stream`: SSE framing, failures mid-way, and a disconnect that saves nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from adapters.http.render_web import web
from core.service import ChatService, TurnRecord
from tests.fakes.common import wait_for
from tests.fakes.http_api import BrokenStreamModel, CountedChunks, parse_sse, served
from tests.fakes.openai_server import FakeOpenAI

TRICKY = 'line one\nline two\n\n"quoted" \\ back\r\n🎉 émoji 中文 \u2028 data: event: x'


async def test_stream_framing_survives_newlines_quotes_and_emoji(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    openai_fake.answer = lambda body: TRICKY
    async with served(llm_service) as api:
        response = await api.post("/v1/chat/stream", json={"message": "say something odd"})
        assert response.headers["content-type"].startswith("text/event-stream")
        events = parse_sse(response.text)
        names = [name for name, _ in events]
        assert names[0] == "session" and names[-1] == "done" and set(names[1:-1]) == {"token"}
        sid = events[0][1]["session_id"]
        assert "".join(data["text"] for name, data in events if name == "token") == TRICKY
        assert events[-1][1] == {"session_id": sid, "reply": TRICKY, "turn_count": 1,
                                 "rendered": web(TRICKY)}
        stored = (await api.get(f"/v1/sessions/{sid}/messages")).json()["messages"]
        assert stored[1]["text"] == TRICKY and stored[1]["rendered"] == web(TRICKY)
        assert stored[0]["rendered"] is None  # the user's own words are shown as typed


async def test_stream_continues_a_session(llm_service: ChatService) -> None:
    async with served(llm_service) as api:
        sid = (await api.post("/v1/chat", json={"message": "one"})).json()["session_id"]
        body = (await api.post("/v1/chat/stream", json={"message": "two", "session_id": sid})).text
        assert parse_sse(body)[-1][1]["turn_count"] == 2


async def test_failure_mid_stream_is_an_error_event_and_saves_nothing(
        service: ChatService) -> None:
    service.model = BrokenStreamModel()
    async with served(service) as api:
        events = parse_sse((await api.post("/v1/chat/stream", json={"message": "hi"})).text)
        assert [n for n, _ in events] == ["session", "token", "token", "error"]
        assert events[-1][1] == {"error": "The language model didn't answer. Please try again "
                                          "in a minute."}
        assert (await api.get("/v1/sessions")).json()["sessions"] == []


async def test_errors_before_the_stream_are_json_with_status(llm_service: ChatService) -> None:
    async with served(llm_service) as api:
        empty = await api.post("/v1/chat/stream", json={"message": "   "})
        assert empty.status_code == 422 and "empty" in empty.json()["error"]
        assert empty.headers["content-type"] == "application/json"


async def test_client_disconnect_stops_generation_and_saves_nothing(
        llm_service: ChatService, openai_fake: FakeOpenAI,
        monkeypatch: pytest.MonkeyPatch) -> None:
    pieces = CountedChunks(["word "] * 500)  # 10 s of reply at 20 ms a piece
    monkeypatch.setattr(openai_fake, "chunks", lambda text: pieces)
    openai_fake.chunk_delay = 0.02
    records: list[TurnRecord] = []
    llm_service.observers.append(records.append)
    async with served(llm_service) as api:
        async with api.stream("POST", "/v1/chat/stream", json={"message": "go"}) as response:
            lines = response.aiter_lines()
            seen: list[str] = []
            async for line in lines:
                seen.append(line)
                if line.startswith("event: token"):
                    break
            sid = parse_sse("\n".join(seen[:2]) + "\n\n")[0][1]["session_id"]
        # Leaving the block closes the connection mid-reply.
        await wait_for(lambda: records, timeout=5)
        assert records[0].outcome == "cancelled"
        # The model's stream was closed too: the fake server stops being read and stops sending.
        await asyncio.sleep(0.1)
        sent = pieces.sent
        await asyncio.sleep(0.3)
        assert pieces.sent == sent < 50 and len(openai_fake.requests) == 1
        assert (await api.get(f"/v1/sessions/{sid}/messages")).status_code == 404
        # The conversation's lock was given back: the next message is answered at once.
        monkeypatch.setattr(openai_fake, "chunks", lambda text: [text])
        openai_fake.answer, openai_fake.chunk_delay = (lambda body: "fresh"), 0.0
        again = await asyncio.wait_for(api.post("/v1/chat", json={
            "message": "again", "session_id": sid}), timeout=5)
        assert again.json()["reply"] == "fresh" and again.json()["turn_count"] == 1


async def test_stream_counts_in_metrics(llm_service: ChatService) -> None:
    async with served(llm_service) as api:
        await api.post("/v1/chat/stream", json={"message": "hi"})
        metrics: Any = (await api.get("/metrics")).text
        assert 'switchboard_turns_total{outcome="ok",platform="api"} 1.0' in metrics
        assert 'switchboard_tokens_total{platform="api"} 1' in metrics

"""Files on the HTTP API: JSON with base64 and multipart/form-data, statuses for bad files."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from core.service import ChatService
from tests import media
from tests.fakes.http_api import parse_sse, served
from tests.fakes.openai_server import FakeOpenAI, heard, image_parts


def attached(name: str, data: bytes, content_type: str = "") -> dict[str, str]:
    return {"filename": name, "content_type": content_type,
            "data": base64.b64encode(data).decode()}


async def test_json_attachments_reach_the_model_and_stay_for_the_next_question(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    async with served(llm_service) as api:
        first = await api.post("/v1/chat", json={
            "message": "What is this?", "attachments": [attached("p.jpg", media.jpeg(800, 600))]})
        assert first.status_code == 200, first.text
        [part] = image_parts(openai_fake.requests[-1])
        sid = first.json()["session_id"]
        again = await api.post("/v1/chat", json={"message": "Which colour?", "session_id": sid})
        assert again.status_code == 200 and image_parts(openai_fake.requests[-1]) == [part]


async def test_multipart_files_and_a_streamed_voice_note(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    note = media.ogg_opus(1.0)
    async with served(llm_service) as api:
        sent = await api.post("/v1/chat", data={"message": "read these"}, files=[
            ("files", ("notes.pdf", media.pdf_with_text("Budget is 40k"), "application/pdf")),
            ("files", ("shot.png", media.png(), "image/png"))])
        assert sent.status_code == 200, sent.text
        assert "Budget is 40k" in str(openai_fake.requests[-1]["messages"])
        assert len(image_parts(openai_fake.requests[-1])) == 1
        sid = sent.json()["session_id"]
        [asked, _] = (await api.get(f"/v1/sessions/{sid}/messages")).json()["messages"]
        assert (asked["text"], asked["files"], asked["images"]) == ("read these", ["notes.pdf"], 1)
        streamed = await api.post("/v1/chat/stream", data={"message": ""},
                                  files={"files": ("voice.ogg", note, "audio/ogg")})
        tokens = "".join(data["text"] for event, data in parse_sse(streamed.text)
                         if event == "token")
        assert tokens.startswith(f"> 🎤 {heard(note)}\n\n")


@pytest.mark.parametrize(("files", "status", "says"), [
    ([attached("photo.png", media.zip_named_png(), "image/png")], 415, ".zip"),
    ([attached("cut.jpg", media.truncated(media.jpeg(400, 300)))], 422, "damaged"),
    ([attached("a.png", media.png())] * 5, 413, "at most 4"),
    ([{"filename": "x.png", "data": "not base64!"}], 422, "attachments.0.data"),
])
async def test_bad_files_get_a_status_and_a_json_error_and_nothing_is_stored(
        service: ChatService, files: list[dict[str, Any]], status: int, says: str) -> None:
    async with served(service) as api:
        response = await api.post("/v1/chat", json={"message": "hi", "attachments": files})
        assert response.status_code == status and says in response.json()["error"]
        assert (await api.get("/v1/sessions")).json()["sessions"] == []


async def test_a_file_over_the_size_limit_is_413_in_both_forms(
        make_llm_service: Callable[..., Awaitable[ChatService]]) -> None:
    service = await make_llm_service(SWITCHBOARD_MAX_ATTACHMENT_BYTES="2000")
    big = media.jpeg(400, 300)
    async with served(service) as api:
        as_json = await api.post("/v1/chat", json={"message": "x",
                                                   "attachments": [attached("b.jpg", big)]})
        as_form = await api.post("/v1/chat", data={"message": "x"},
                                 files={"files": ("b.jpg", big, "image/jpeg")})
    assert as_json.status_code == as_form.status_code == 413
    assert "too large" in as_form.json()["error"]


async def test_other_content_types_are_415_and_the_schema_shows_both_forms(
        service: ChatService) -> None:
    async with served(service) as api:
        text = await api.post("/v1/chat", content=b"hello", headers={"Content-Type": "text/plain"})
        assert text.status_code == 415 and list(text.json()) == ["error"]
        schema = (await api.get("/openapi.json")).json()
    body = schema["paths"]["/v1/chat"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "multipart/form-data"}
    assert "attachments" in schema["components"]["schemas"]["ChatIn"]["properties"]

"""Voice notes to text: the OpenAI transcription endpoint, its failures, and the offline refusal."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from core.attachments import Audio, Limits, Upload, read
from core.errors import ModelError, NoTranscriber
from core.settings import CoreSettings
from core.transcribe import OfflineTranscriber, OpenAITranscriber, build_transcriber
from tests import media
from tests.fakes.common import start_aiohttp


class FakeTranscriptions:
    """`POST /v1/audio/transcriptions`: records the multipart form, answers or fails."""

    def __init__(self) -> None:
        self.forms: list[dict[str, Any]] = []
        self.fail_with = 0

    async def handle(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form["file"]
        assert isinstance(upload, web.FileField)
        self.forms.append({"model": form["model"], "filename": upload.filename,
                           "content_type": upload.content_type, "data": upload.file.read(),
                           "auth": request.headers.get("Authorization")})
        if self.fail_with:
            return web.json_response({"error": {"message": "boom", "type": "server_error"}},
                                     status=self.fail_with)
        return web.json_response({"text": " Hello from the voice note. "})


@contextlib.asynccontextmanager
async def transcription_server() -> AsyncIterator[tuple[FakeTranscriptions, str]]:
    fake = FakeTranscriptions()
    app = web.Application()
    app.router.add_post("/v1/audio/transcriptions", fake.handle)
    runner, port = await start_aiohttp(app)
    try:
        yield fake, f"http://127.0.0.1:{port}/v1"
    finally:
        await runner.cleanup()


def settings(base_url: str, **extra: Any) -> CoreSettings:
    return CoreSettings(_env_file=None, OPENAI_API_KEY="sk-test-key", OPENAI_BASE_URL=base_url,
                        SWITCHBOARD_MODEL_MAX_RETRIES="0", **extra)


async def voice_note() -> Audio:
    note = await read(Upload("Mum's birthday.ogg", media.sound(1.5, "OGG", "OPUS")), Limits())
    assert isinstance(note, Audio)
    return note


async def test_openai_transcriber_posts_the_note_and_returns_its_text() -> None:
    note = await voice_note()
    async with transcription_server() as (fake, url):
        transcriber = build_transcriber(settings(url, SWITCHBOARD_TRANSCRIBE_MODEL="whisper-x"))
        assert isinstance(transcriber, OpenAITranscriber)
        try:
            assert await transcriber.transcribe(note) == "Hello from the voice note."
        finally:
            await transcriber.aclose()
    [form] = fake.forms
    assert form["model"] == "whisper-x" and form["auth"] == "Bearer sk-test-key"
    # The user's file name never leaves: the API only needs the suffix to know the format.
    assert (form["filename"], form["content_type"]) == ("voice.ogg", "audio/ogg")
    assert form["data"] == note.data


async def test_endpoint_failures_map_to_model_error() -> None:
    note = await voice_note()
    async with transcription_server() as (fake, url):
        fake.fail_with = 500
        transcriber = build_transcriber(settings(url))
        assert isinstance(transcriber, OpenAITranscriber)
        with pytest.raises(ModelError):
            await transcriber.transcribe(note)
        await transcriber.aclose()
    unreachable = build_transcriber(settings("http://127.0.0.1:9/v1"))
    assert isinstance(unreachable, OpenAITranscriber)
    with pytest.raises(ModelError):
        await unreachable.transcribe(note)
    await unreachable.aclose()


async def test_offline_says_how_long_the_note_was() -> None:
    transcriber = build_transcriber(CoreSettings(_env_file=None))
    assert isinstance(transcriber, OfflineTranscriber)
    with pytest.raises(NoTranscriber) as caught:
        await transcriber.transcribe(Audio(b"", "audio/ogg", "ogg", 12.4))
    assert caught.value.user_message.startswith(
        "I received a voice note of 12 seconds and can't transcribe offline")

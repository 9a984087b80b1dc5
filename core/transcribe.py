"""Speech to text for voice notes: an OpenAI-compatible endpoint, or an honest offline refusal."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Protocol

from openai import AsyncOpenAI

from core.attachments import Audio
from core.errors import NoTranscriber
from core.model import as_model_error
from core.settings import CoreSettings


class Transcriber(Protocol):
    """Turns a voice note into text; raises `ModelError` (or `NoTranscriber`) when it can't."""

    async def transcribe(self, audio: Audio) -> str: ...


class OpenAITranscriber:
    """`/audio/transcriptions` on the endpoint and key the chat model uses."""

    def __init__(self, client: AsyncOpenAI, model: str) -> None:
        self._client = client
        self._model = model

    async def transcribe(self, audio: Audio) -> str:
        # The API reads the format from the file name's suffix; the user's name never goes out.
        upload = (f"voice.{audio.suffix}", audio.data, audio.mime)
        try:
            result = await self._client.audio.transcriptions.create(
                model=self._model, file=upload)
        except Exception as exc:
            mapped = as_model_error(exc)
            if mapped is None:
                raise
            raise mapped from exc
        return result.text.strip()

    async def aclose(self) -> None:
        """Close the client's connection pool; whoever built the transcriber calls it."""
        await self._client.close()


class OfflineTranscriber:
    """No speech model connected: the user is told the note arrived and wasn't transcribed."""

    async def transcribe(self, audio: Audio) -> str:
        raise NoTranscriber(audio.seconds)


def build_transcriber(settings: CoreSettings) -> Transcriber:
    """A real client when a key is set, as for a preset's model; otherwise the offline refusal."""
    if settings.openai_api_key is None:
        return OfflineTranscriber()
    client = AsyncOpenAI(
        api_key=settings.openai_api_key.get_secret_value(),
        base_url=settings.openai_base_url,
        timeout=settings.model_timeout,
        max_retries=settings.model_max_retries,
    )
    return OpenAITranscriber(client, settings.transcribe_model)



@contextlib.asynccontextmanager
async def opened(settings: CoreSettings) -> AsyncIterator[Transcriber]:
    """`build_transcriber`'s transcriber, its connections closed on the way out."""
    transcriber = build_transcriber(settings)
    try:
        yield transcriber
    finally:
        if isinstance(transcriber, OpenAITranscriber):
            await transcriber.aclose()

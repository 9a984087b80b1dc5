"""Files posted to the Discord bot, end to end: real discord.py against the fake API, gateway
and CDN, the real ChatOpenAI and openai SDK against the fake model server, real Redis."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from core.errors import DownloadFailed, FileTooLarge, TooManyFiles, UnsupportedFile
from core.keys import KeySpace, SessionKey, UserKey
from core.service import ChatService
from tests import media
from tests.fakes.common import wait_for
from tests.fakes.discord_api import CHANNEL, FakeDiscord, fake_discord
from tests.fakes.openai_server import FakeOpenAI, heard, image_parts
from tests.test_discord import ALICE, DM_ALICE, Bot, prompts, running
from tests.test_discord_commands import stored

ALICE_KEY = UserKey.of("discord", 4001)
DIRECT = SessionKey.direct(ALICE_KEY)
Json = dict[str, Any]


@pytest.fixture
async def discord_api() -> AsyncIterator[FakeDiscord]:
    async with fake_discord() as fake:
        yield fake


@pytest.fixture
def bot(discord_api: FakeDiscord, llm_service: ChatService) -> Bot:
    def start(service: ChatService | None = None, **env: Any
              ) -> contextlib.AbstractAsyncContextManager[FakeDiscord]:
        return running(discord_api, service or llm_service, **env)
    return start


async def dm(api: FakeDiscord, text: str, *files: Json, answers: int) -> None:
    """Alice writes to the bot in a DM; wait until it has sent `answers` messages there."""
    await api.say(ALICE, text, channel=DM_ALICE, guild=False, attachments=list(files))
    await wait_for(lambda: len(api.texts(DM_ALICE)) >= answers, timeout=15)


def files_key(service: ChatService, session: SessionKey = DIRECT) -> str:
    return KeySpace(service.settings.redis_prefix).session(str(session)).files


async def test_a_dm_image_reaches_the_model_and_again_in_the_next_turn(
        bot: Bot, openai_fake: FakeOpenAI, llm_service: ChatService, redis: Redis) -> None:
    async with bot() as api:
        photo = api.add_attachment(media.jpeg(1600, 1200), "IMG_0001.jpg", "image/jpeg",
                                   channel=DM_ALICE)
        await dm(api, "what is in this picture?", photo, answers=1)
        await dm(api, "and its main colour?", answers=2)
    assert api.downloaded(photo)
    [part] = image_parts(openai_fake.requests[0])
    assert part["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert "what is in this picture?" in prompts(openai_fake)[0]
    assert image_parts(openai_fake.requests[1]) == [part], "the picture above, again"
    assert api.texts(DM_ALICE)[1] == "echo: and its main colour?"
    assert await redis.exists(files_key(llm_service))


async def test_an_image_without_text_is_answered_in_a_guild(
        bot: Bot, openai_fake: FakeOpenAI) -> None:
    async with bot() as api:
        picture = api.add_attachment(media.png(), "diagram.png", "image/png")
        mid = await api.say(ALICE, "", mention=True, attachments=[picture])
        await wait_for(lambda: len(api.texts(CHANNEL)) == 1, timeout=15)
    assert len(image_parts(openai_fake.requests[0])) == 1
    sent = api.requests("POST", f"/channels/{CHANNEL}/messages")[0].body
    assert sent["message_reference"]["message_id"] == mid


async def test_a_voice_message_is_transcribed_shown_and_answered(
        bot: Bot, openai_fake: FakeOpenAI, llm_service: ChatService) -> None:
    note = media.ogg_opus(2.0)
    async with bot() as api:
        voice = api.add_attachment(note, "voice-message.ogg", "audio/ogg", channel=DM_ALICE,
                                   duration=2.0)
        await dm(api, "", voice, answers=1)
        transcript = heard(note)
        await wait_for(lambda: "echo:" in api.texts(DM_ALICE)[-1], timeout=15)
    [shown] = api.texts(DM_ALICE)
    assert shown.startswith(f"> 🎤 {transcript}") and "echo:" in shown
    [sent] = openai_fake.transcriptions
    assert sent.size == len(note)
    assert transcript in prompts(openai_fake)[0]
    human, _ = await llm_service.history(DIRECT)
    assert transcript in human.text


async def test_text_files_and_a_pdf_are_read(bot: Bot, openai_fake: FakeOpenAI) -> None:
    async with bot() as api:
        files = [api.add_attachment(b"def main() -> None:\n    print('hi')\n", "tool.py",
                                    "text/x-python", channel=DM_ALICE),
                 api.add_attachment(b"shopping: eggs, milk\n", "list.txt",
                                    "text/plain; charset=utf-8", channel=DM_ALICE),
                 api.add_attachment(media.pdf_with_text("Revenue grew 12 percent"),
                                    "Quarterly report.pdf", "application/pdf",
                                    channel=DM_ALICE)]
        await dm(api, "summarise these", *files, answers=1)
    prompt = prompts(openai_fake)[0]
    for text in ("print('hi')", "shopping: eggs, milk", "Revenue grew 12 percent",
                 "summarise these"):
        assert text in prompt


async def test_a_file_announced_too_large_is_refused_and_never_downloaded(
        bot: Bot, openai_fake: FakeOpenAI, llm_service: ChatService) -> None:
    limit = llm_service.settings.limits.max_bytes
    async with bot() as api:
        huge = api.add_attachment(media.png(), "huge.png", "image/png", channel=DM_ALICE,
                                  size=limit + 1)
        await dm(api, "look at this", huge, answers=1)
    assert api.texts(DM_ALICE) == [FileTooLarge(limit).user_message]
    assert not api.downloaded(huge) and not openai_fake.requests
    assert await llm_service.history(DIRECT) == []


async def test_too_many_files_are_refused_before_any_download(
        bot: Bot, openai_fake: FakeOpenAI, llm_service: ChatService) -> None:
    limit = llm_service.settings.limits.max_files
    async with bot() as api:
        many = [api.add_attachment(b"note\n", f"n{i}.txt", "text/plain", channel=DM_ALICE)
                for i in range(limit + 1)]
        await dm(api, "read all", *many, answers=1)
    assert api.texts(DM_ALICE) == [TooManyFiles(limit).user_message]
    assert not any(api.downloaded(a) for a in many) and not openai_fake.requests


async def test_a_zip_named_png_is_refused_as_what_it_is(
        bot: Bot, openai_fake: FakeOpenAI, llm_service: ChatService, redis: Redis) -> None:
    async with bot() as api:
        fake = api.add_attachment(media.zip_named_png(), "photo.png", "image/png",
                                  channel=DM_ALICE)
        await dm(api, "nice photo?", fake, answers=1)
    assert api.texts(DM_ALICE) == [UnsupportedFile("zip").user_message]
    assert not openai_fake.requests
    assert await llm_service.history(DIRECT) == []
    assert not await redis.exists(files_key(llm_service))


async def test_an_attachment_outside_discords_cdn_is_never_fetched(
        bot: Bot, openai_fake: FakeOpenAI) -> None:
    async with bot() as api:
        elsewhere = api.add_attachment(media.png(), "cat.png", "image/png", channel=DM_ALICE)
        # The same fake file under another host name: fetching it would be recorded.
        port = api.base.rsplit(":", 1)[1]
        elsewhere["url"] = elsewhere["url"].replace(f"127.0.0.1:{port}", f"localhost:{port}")
        await dm(api, "what is this?", elsewhere, answers=1)
    assert api.texts(DM_ALICE) == [DownloadFailed().user_message]
    assert not api.downloaded(elsewhere) and not openai_fake.requests


async def test_a_file_the_cdn_lost_is_explained(bot: Bot, openai_fake: FakeOpenAI) -> None:
    async with bot() as api:
        gone = api.add_attachment(media.png(), "gone.png", "image/png")
        del api.attachments[int(gone["id"])]  # the CDN answers 404
        await api.say(ALICE, "and this?", mention=True, attachments=[gone])
        await wait_for(lambda: len(api.texts(CHANNEL)) == 1, timeout=15)
    assert api.texts(CHANNEL) == [DownloadFailed().user_message]
    assert "message_reference" in api.requests("POST", f"/channels/{CHANNEL}/messages")[0].body
    assert not openai_fake.requests


async def test_forget_erases_the_image(
        bot: Bot, llm_service: ChatService, redis: Redis) -> None:
    async with bot() as api:
        photo = api.add_attachment(media.png(), "me.png", "image/png", channel=DM_ALICE)
        await dm(api, "this is me", photo, answers=1)
        await stored(llm_service, DIRECT, 2)
        assert await redis.exists(files_key(llm_service))
        await api.command("forget", ALICE, channel=DM_ALICE, guild=False)
        await wait_for(lambda: bool(api.requests("POST", "/webhooks/")))
    assert not await redis.exists(files_key(llm_service))
    assert await llm_service.history(DIRECT) == []


async def test_a_redelivered_message_with_a_file_is_answered_once(
        bot: Bot, openai_fake: FakeOpenAI) -> None:
    async with bot() as api:
        photo = api.add_attachment(media.png(), "me.png", "image/png", channel=DM_ALICE)
        mid = await api.say(ALICE, "once", channel=DM_ALICE, guild=False, attachments=[photo])
        await wait_for(lambda: len(api.texts(DM_ALICE)) == 1, timeout=15)
        await api.say(ALICE, "once", channel=DM_ALICE, guild=False, attachments=[photo],
                      message_id=mid)
        await dm(api, "next", answers=2)
    assert len(openai_fake.requests) == 2
    assert api.texts(DM_ALICE)[1] == "echo: next"


async def test_file_names_and_contents_stay_out_of_the_log(
        bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = f"secret-{uuid.uuid4().hex}"
    async with bot() as api:
        files = [api.add_attachment(f"{secret} content\n".encode(), f"{secret}.txt",
                                    "text/plain", channel=DM_ALICE),
                 api.add_attachment(media.png(), f"{secret}.png", "image/png",
                                    channel=DM_ALICE)]
        await dm(api, "read", *files, answers=1)
        elsewhere = api.add_attachment(b"x", f"{secret}-2.txt", "text/plain", channel=DM_ALICE)
        elsewhere["url"] = elsewhere["url"].replace("127.0.0.1", "localhost")
        await dm(api, "and", elsewhere, answers=2)
    # What production keeps: Switchboard's own records, and warnings from libraries.
    kept = [r.getMessage() for r in caplog.records
            if r.name.startswith("switchboard") or r.levelno >= logging.WARNING]
    assert any("outcome=ok" in m for m in kept)
    assert any("refused an attachment" in m for m in kept)
    assert not [m for m in kept if secret in m]

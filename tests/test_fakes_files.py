"""The fakes serve users' files to the real SDKs: PTB, slack_sdk, discord.py and openai."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import aiohttp
import discord
import openai
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from telegram import Bot, Message, Update
from telegram.error import BadRequest
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

from adapters.discord_bot.gateway import addresses, build_client
from adapters.discord_bot.settings import DiscordSettings
from tests import media
from tests.fakes import discord_api, slack_api
from tests.fakes.openai_server import FakeOpenAI, image_parts
from tests.fakes.slack_api import FakeSlack, fake_slack, file_mention, file_message
from tests.fakes.telegram_api import TOKEN as TG_TOKEN
from tests.fakes.telegram_api import FakeTelegram, chat_of, fake_telegram, user

ALICE = user(42, "Alice")
MB = 1024 * 1024


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with fake_telegram() as fake:
        yield fake


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with fake_slack() as fake:
        yield fake


# --- Telegram ----------------------------------------------------------------------------------

async def test_ptb_downloads_a_registered_file(tg: FakeTelegram) -> None:
    voice = media.ogg_opus()
    file_id = tg.add_file(voice, "voice/file_7.oga")
    async with Bot(TG_TOKEN, base_url=tg.api_url, base_file_url=tg.file_url) as bot:
        file = await bot.get_file(file_id)
        assert (file.file_size, file.file_path) == (len(voice),
                                                    f"{tg.file_url}{TG_TOKEN}/voice/file_7.oga")
        assert bytes(await file.download_as_bytearray()) == voice
    assert tg.downloads == ["voice/file_7.oga"]


async def test_ptb_reads_photo_voice_and_document_updates(tg: FakeTelegram) -> None:
    small, large = media.jpeg(90, 67), media.jpeg(1280, 960)
    pdf = media.pdf_with_text("minutes")
    updates = [tg.media_message(chat_of(ALICE), ALICE, "what is this? @switchboard_test_bot",
                                photo=tg.photo((large, 1280, 960), (small, 90, 67))),
               tg.media_message(chat_of(ALICE), ALICE, voice=tg.voice(media.ogg_opus(), 2)),
               tg.media_message(chat_of(ALICE), ALICE, "summarise",
                                document=tg.document(pdf, "minutes.pdf", "application/pdf"))]
    async with Bot(TG_TOKEN, base_url=tg.api_url, base_file_url=tg.file_url) as bot:
        photo, voice, document = (Message.de_json(u, bot) for u in updates)
        assert [(p.width, p.file_size) for p in photo.photo] == [(90, len(small)),
                                                                 (1280, len(large))]
        assert photo.caption_entities[0].type == "mention"
        assert bytes(await (await photo.photo[-1].get_file()).download_as_bytearray()) == large
        assert voice.voice is not None and document.document is not None
        # `Voice.duration` as an int is deprecated since PTB 22.2 (a timedelta later); the dict
        # form is the same in both.
        assert voice.voice.to_dict()["duration"] == 2 and voice.voice.mime_type == "audio/ogg"
        assert (document.document.file_name, document.caption) == ("minutes.pdf", "summarise")
        assert bytes(await (await document.document.get_file()).download_as_bytearray()) == pdf
    assert not tg.downloaded(photo.photo[0].file_id) and tg.downloaded(photo.photo[-1].file_id)


async def test_a_file_over_20_mb_is_refused_and_never_downloaded(tg: FakeTelegram) -> None:
    big = tg.document(media.pdf_with_text("big"), "big.pdf", "application/pdf",
                      file_size=25 * MB)
    async with Bot(TG_TOKEN, base_url=tg.api_url, base_file_url=tg.file_url) as bot:
        with pytest.raises(BadRequest, match="too big"):
            await bot.get_file(big["file_id"])
    assert tg.downloads == []


async def test_a_polling_application_downloads_with_base_file_url(tg: FakeTelegram) -> None:
    got: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        file = await update.message.photo[-1].get_file()
        got.set_result(bytes(await file.download_as_bytearray()))

    app = ApplicationBuilder().token(TG_TOKEN).base_url(tg.api_url) \
        .base_file_url(tg.file_url).build()
    app.add_handler(MessageHandler(filters.PHOTO, on_photo))
    photo = media.jpeg(320, 240)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await tg.send_media(chat_of(ALICE), ALICE, photo=tg.photo((photo, 320, 240)))
        assert await asyncio.wait_for(got, 5) == photo
        await app.updater.stop()
        await app.stop()


# --- Slack -------------------------------------------------------------------------------------

async def test_slack_files_info_and_private_download(slack: FakeSlack) -> None:
    png = media.png()
    uploaded = slack.add_file(png, "chart.png", "image/png")
    client = AsyncWebClient(token=slack.token, base_url=f"{slack.url}/api/")
    info = await client.files_info(file=uploaded["id"])
    assert info["file"]["url_private"] == uploaded["url_private"]
    assert (info["file"]["size"], info["file"]["filetype"]) == (len(png), "png")
    async with aiohttp.ClientSession() as http:
        for url in (uploaded["url_private"], uploaded["url_private_download"]):
            async with http.get(url, headers={"Authorization": f"Bearer {slack.token}"}) as r:
                assert (r.status, r.content_type, await r.read()) == (200, "image/png", png)
    assert slack.downloaded(uploaded["id"])


async def test_slack_download_without_the_token_lands_on_a_login_page(slack: FakeSlack) -> None:
    uploaded = slack.add_file(media.png(), "chart.png", "image/png")
    async with aiohttp.ClientSession() as http:
        async with http.get(uploaded["url_private"], allow_redirects=False) as response:
            assert response.status == 302
        wrong = {"Authorization": "Bearer xoxb-someone-else"}
        async with http.get(uploaded["url_private"], headers=wrong) as response:
            # A client that follows the redirect gets 200 and HTML, not the file.
            assert (response.status, response.content_type) == (200, "text/html")
            assert response.history[0].status == 302
            assert b"Sign in" in await response.read()
    assert not slack.downloaded(uploaded["id"])
    client = AsyncWebClient(token=slack.token, base_url=f"{slack.url}/api/")
    with pytest.raises(SlackApiError) as missing:
        await client.files_info(file="F0")
    assert missing.value.response["error"] == "file_not_found"


def test_slack_file_events_carry_the_file_objects() -> None:
    obj = {"id": "F1", "name": "a.pdf"}
    shared, mentioned = file_message([obj], "read this"), file_mention([obj], "read this")
    assert (shared["subtype"], shared["channel_type"], shared["files"]) == \
        ("file_share", "im", [obj])
    assert mentioned["type"] == "app_mention" and "subtype" not in mentioned
    assert mentioned["text"] == f"<@{slack_api.BOT_USER}> read this"
    assert shared["ts"] != mentioned["ts"]


# --- Discord -----------------------------------------------------------------------------------

async def test_discord_py_reads_an_attachment_through_its_http_session() -> None:
    async with discord_api.fake_discord() as fake:
        values: dict[str, Any] = {
            "DISCORD_BOT_TOKEN": discord_api.TOKEN, "DISCORD_API_URL": f"{fake.base}/api/v10",
            "DISCORD_GATEWAY_URL": fake.gateway_url, "DISCORD_GUILD_READY_TIMEOUT": "0.05"}
        settings = DiscordSettings(**values)
        with addresses(settings):
            client = build_client(settings)
            received: asyncio.Queue[discord.Message] = asyncio.Queue()
            client.event(_queued(received))
            task = asyncio.create_task(client.start(discord_api.TOKEN))
            try:
                await asyncio.wait_for(client.wait_until_ready(), 5)
                await _check_attachments(fake, received, client)
            finally:
                await client.close()
                await asyncio.wait_for(task, 5)


def _queued(queue: asyncio.Queue[discord.Message]
            ) -> Callable[[discord.Message], Coroutine[Any, Any, None]]:
    async def on_message(message: discord.Message) -> None:
        queue.put_nowait(message)
    return on_message


async def _check_attachments(fake: discord_api.FakeDiscord,
                             received: asyncio.Queue[discord.Message],
                             client: discord.Client) -> None:
    pdf, voice = media.pdf_with_text("agenda"), media.ogg_opus()
    doc = fake.add_attachment(pdf, "agenda.pdf", "application/pdf")
    note = fake.add_attachment(voice, "voice-message.ogg", "audio/ogg", duration=1.5)
    big = fake.add_attachment(b"x", "huge.mov", "video/quicktime", size=500 * MB)
    await fake.say(discord_api.user(4001, "alice"), "", mention=True, attachments=[doc, big])
    message = await asyncio.wait_for(received.get(), 5)
    first, second = message.attachments
    assert (first.filename, first.content_type, first.size) == ("agenda.pdf",
                                                                "application/pdf", len(pdf))
    assert second.size == 500 * MB
    assert await first.read() == pdf and await first.read(use_cached=True) == pdf
    assert not fake.downloaded(big)
    await fake.say(discord_api.user(4001, "alice"), "", guild=False, channel=5001,
                   attachments=[note])
    dm = await asyncio.wait_for(received.get(), 5)
    assert dm.flags.voice and dm.attachments[0].is_voice_message()
    assert dm.attachments[0].duration == 1.5
    assert await client.http.get_from_cdn(dm.attachments[0].url) == voice
    with pytest.raises(discord.NotFound):
        await client.http.get_from_cdn(f"{fake.base}/attachments/1/2/gone.png")
    assert fake.downloads == [int(doc["id"]), int(doc["id"]), int(note["id"])]


# --- OpenAI ------------------------------------------------------------------------------------

async def test_openai_transcribes_a_voice_note(openai_fake: FakeOpenAI) -> None:
    voice = media.ogg_opus()
    async with openai.AsyncOpenAI(base_url=openai_fake.base_url, api_key="test",
                                  max_retries=0) as client:
        result = await client.audio.transcriptions.create(
            model="whisper-1", file=("voice.ogg", voice, "audio/ogg"))
        assert result.text == f"heard {len(voice)} bytes of audio " \
            f"{hashlib.sha256(voice).hexdigest()[:12]}"
        plain = await client.audio.transcriptions.create(
            model="gpt-4o-mini-transcribe", file=("v.ogg", voice, "audio/ogg"),
            response_format="text")
        assert plain == result.text
        openai_fake.fail_next(500, endpoint="audio")
        with pytest.raises(openai.InternalServerError):
            await client.audio.transcriptions.create(model="whisper-1",
                                                     file=("v.ogg", voice, "audio/ogg"))
    first, second, _ = openai_fake.transcriptions
    assert (first.model, first.filename, first.content_type, first.size) == \
        ("whisper-1", "voice.ogg", "audio/ogg", len(voice))
    assert (second.model, second.response_format) == ("gpt-4o-mini-transcribe", "text")


async def test_openai_image_parts_are_found_in_chat_requests(openai_fake: FakeOpenAI) -> None:
    url = "data:image/jpeg;base64,/9j/4AAQ"
    async with openai.AsyncOpenAI(base_url=openai_fake.base_url, api_key="test") as client:
        await client.chat.completions.create(model="gpt-4o-mini", messages=[
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "what is this?"},
                                         {"type": "image_url", "image_url": {"url": url}}]}])
    body = openai_fake.requests[-1]
    assert image_parts(body) == [{"type": "image_url", "image_url": {"url": url}}]
    assert image_parts({"messages": [{"role": "user", "content": "text only"}]}) == []

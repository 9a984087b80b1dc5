"""Telegram users send photos, voice notes and documents: the real PTB against the fake Bot API,
the real ChatOpenAI and openai SDK against the fake OpenAI server."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from redis.asyncio import Redis
from telegram import Audio, Chat, Document, Message, PhotoSize, Sticker, VideoNote, Voice

from adapters.telegram.inbox import RedisInbox
from adapters.telegram.media import GET_FILE_LIMIT, Wanted, best_photo, wanted
from adapters.telegram.settings import TelegramSettings, file_url_of
from core.errors import FileTooLarge, UnsupportedFile
from core.keys import KeySpace, SessionKey, UserKey
from core.service import ChatService
from tests import media
from tests.fakes.common import wait_for
from tests.fakes.openai_server import FakeOpenAI, heard, image_parts
from tests.fakes.telegram_api import (
    FILE_LIMIT,
    FakeTelegram,
    chat_of,
    fake_telegram,
    shown,
    telegram_bot,
    user,
)

ALICE = user(11, "Alice")
GROUP: dict[str, Any] = {"id": -100123, "type": "supergroup", "title": "Team"}
MB = 1024 * 1024


def user_content(fake: FakeOpenAI, request: int = -1) -> Any:
    """The last user message of a model request, as sent (a string or content parts)."""
    return [m for m in fake.requests[request]["messages"] if m["role"] == "user"][-1]["content"]


def texts(content: Any) -> list[str]:
    return [content] if isinstance(content, str) else \
        [p["text"] for p in content if p.get("type") == "text"]


def files_key(prefix: str, who: dict[str, Any]) -> str:
    session = SessionKey.direct(UserKey.of("telegram", who["id"]))
    return KeySpace(prefix).session(str(session)).files


async def answered(tg: FakeTelegram, chat_id: int, count: int) -> list[str]:
    await wait_for(lambda: len(shown(tg, chat_id)) >= count)
    return shown(tg, chat_id)


# --- end to end ----------------------------------------------------------------------------------

async def test_a_captioned_photo_is_seen_and_seen_again_in_the_next_question(
        llm_service: ChatService, openai_fake: FakeOpenAI, redis: Redis, prefix: str) -> None:
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        sizes = tg.photo((media.jpeg(90, 68), 90, 68), (media.jpeg(320, 240), 320, 240),
                         (media.jpeg(1280, 960), 1280, 960), (media.jpeg(400, 300), 4000, 3000))
        huge = sizes[-1]  # Telegram says it is over what getFile serves
        huge["file_size"] = tg.files[huge["file_id"]].file_size = FILE_LIMIT + 1
        await tg.send_media(chat_of(ALICE), ALICE, "What is in this picture?", photo=sizes)
        [reply] = await answered(tg, 11, 1)
        assert reply.startswith("echo: What is in this picture?")
        [part] = image_parts(openai_fake.requests[-1])
        assert part["image_url"]["url"].startswith("data:image/jpeg;base64,")
        assert [tg.downloaded(s["file_id"]) for s in sizes] == [False, False, True, False]
        assert await redis.exists(files_key(prefix, ALICE))

        await tg.send_text(chat_of(ALICE), ALICE, "And its colours?")
        await answered(tg, 11, 2)
        assert image_parts(openai_fake.requests[-1]) == [part], "the picture again"
        assert texts(user_content(openai_fake)) == ["And its colours?"]

        await tg.send_text(chat_of(ALICE), ALICE, "/forget yes")
        await answered(tg, 11, 3)
        assert not await redis.exists(files_key(prefix, ALICE))


async def test_a_voice_note_is_transcribed_shown_and_answered(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    note = media.ogg_opus(2.0)
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        voice = tg.voice(note, 2)
        await tg.send_media(chat_of(ALICE), ALICE, voice=voice)
        transcript = heard(note)
        await wait_for(lambda: any("echo:" in t for t in shown(tg, 11)))
        whole = "\n".join(shown(tg, 11))
        quote, reply = whole.split("\n\n", 1)
        first = min(k for k in tg.entities if k[0] == 11)
        assert {e["type"] for e in tg.entities[first]} & {"blockquote", "expandable_blockquote"}
        assert quote == f"🎤 {transcript}" and reply.startswith("echo: ") and transcript in reply
        [sent] = openai_fake.transcriptions
        assert sent.size == len(note) and tg.downloaded(voice["file_id"])
        assert transcript in str(user_content(openai_fake))


async def test_a_redelivered_file_is_answered_once(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    async with fake_telegram() as tg:
        doc = tg.document(b"shopping: eggs, milk\n", "list.txt", "text/plain")
        update = {"update_id": 700,
                  "message": tg.media_message(chat_of(ALICE), ALICE, "what to buy?",
                                              document=doc)}
        async with telegram_bot(tg, llm_service):
            await tg.push(dict(update))
            await answered(tg, 11, 1)
        async with telegram_bot(tg, llm_service):  # a restart: polling gets it again
            await tg.push(dict(update))
            await tg.send_text(chat_of(ALICE), ALICE, "after")
            await wait_for(lambda: "echo: after" in shown(tg, 11))
        assert len(shown(tg, 11)) == 2 and len(openai_fake.requests) == 2


async def test_a_pdf_and_a_python_file_are_read(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        pdf = tg.document(media.pdf_with_text("Revenue grew 12 percent"), "Report.pdf",
                          "application/pdf")
        await tg.send_media(chat_of(ALICE), ALICE, "Summarise", document=pdf)
        await answered(tg, 11, 1)
        assert "Revenue grew 12 percent" in str(user_content(openai_fake))
        code = tg.document(b"def main() -> None:\n    print('hi')\n", "tool.py", "text/x-python")
        await tg.send_media(chat_of(ALICE), ALICE, document=code)
        await wait_for(lambda: len(openai_fake.requests) == 2)
        assert "print('hi')" in str(user_content(openai_fake))
        assert "tool.py" in str(user_content(openai_fake))


async def test_with_the_crash_safe_inbox_files_come_from_the_same_host(
        llm_service: ChatService, openai_fake: FakeOpenAI, redis: Redis, prefix: str) -> None:
    async with fake_telegram() as tg, telegram_bot(tg, llm_service,
                                                   inbox=RedisInbox(redis, prefix)):
        doc = tg.document(b"The meeting is on Tuesday.\n", "notes.md", "text/markdown")
        await tg.send_media(chat_of(ALICE), ALICE, "when?", document=doc)
        await answered(tg, 11, 1)
        assert tg.downloaded(doc["file_id"])
        assert "The meeting is on Tuesday." in str(user_content(openai_fake))


async def test_a_file_over_the_limit_is_refused_and_never_downloaded(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        big = tg.document(b"%PDF-1.4 tiny", "big.pdf", "application/pdf",
                          file_size=FILE_LIMIT + 1)
        await tg.send_media(chat_of(ALICE), ALICE, "read this", document=big)
        [said] = await answered(tg, 11, 1)
        assert said == FileTooLarge(GET_FILE_LIMIT).user_message
        assert not tg.downloaded(big["file_id"]) and tg.called("getFile") == []
        assert openai_fake.requests == []


async def test_the_operators_lower_limit_applies_before_any_download(
        make_llm_service: Any, openai_fake: FakeOpenAI) -> None:
    service = await make_llm_service(SWITCHBOARD_MAX_ATTACHMENT_BYTES=str(MB))
    async with fake_telegram() as tg, telegram_bot(tg, service):
        sizes = tg.photo((media.jpeg(90, 68), 90, 68))
        sizes[0]["file_size"] = tg.files[sizes[0]["file_id"]].file_size = 2 * MB
        await tg.send_media(chat_of(ALICE), ALICE, photo=sizes)
        [said] = await answered(tg, 11, 1)
        assert said == FileTooLarge(MB).user_message and tg.called("getFile") == []


async def test_a_zip_named_like_a_picture_is_refused(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        fake_png = tg.document(media.zip_named_png(), "photo.png", "image/png")
        await tg.send_media(chat_of(ALICE), ALICE, document=fake_png)
        [said] = await answered(tg, 11, 1)
        assert said == UnsupportedFile("zip").user_message
        assert tg.downloaded(fake_png["file_id"]) and openai_fake.requests == []


async def test_a_failed_download_is_told(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        doc = tg.document(b"hello", "notes.txt", "text/plain")
        tg.fail("getFile", 400, "Bad Request: wrong file_id or the file is temporarily "
                "unavailable")
        await tg.send_media(chat_of(ALICE), ALICE, document=doc)
        [said] = await answered(tg, 11, 1)
        assert "couldn't fetch that file" in said and openai_fake.requests == []


async def test_in_groups_a_photo_is_answered_only_when_it_mentions_the_bot(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        ignored = tg.photo((media.jpeg(64, 48), 64, 48))
        await tg.send_media(GROUP, ALICE, "holiday pics", photo=ignored)
        asked = tg.photo((media.jpeg(64, 48), 64, 48))
        await tg.send_media(GROUP, ALICE, "@switchboard_test_bot what is this?", photo=asked)
        await answered(tg, GROUP["id"], 1)
        assert not tg.downloaded(ignored[0]["file_id"]) and tg.downloaded(asked[0]["file_id"])
        assert len(openai_fake.requests) == 1
        assert texts(user_content(openai_fake)) == ["what is this?"]


async def test_the_file_url_follows_the_api_url() -> None:
    assert file_url_of("http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/file/bot"
    assert file_url_of("https://api.telegram.org/bot/") == "https://api.telegram.org/file/bot"
    local = TelegramSettings(TELEGRAM_BOT_TOKEN="1:x", TELEGRAM_API_URL="http://h/bot")
    assert local.files_url == "http://h/file/bot"
    chosen = TelegramSettings(TELEGRAM_BOT_TOKEN="1:x", TELEGRAM_API_URL="http://h/api/",
                              TELEGRAM_FILE_URL="http://h/files/bot")
    assert chosen.files_url == "http://h/files/bot"
    with pytest.raises(ValueError, match="TELEGRAM_FILE_URL"):
        TelegramSettings(TELEGRAM_BOT_TOKEN="1:x", TELEGRAM_API_URL="http://h/api/")


# --- which file of a message ---------------------------------------------------------------------

def size(name: str, side: int, file_size: int | None) -> PhotoSize:
    return PhotoSize(name, f"u-{name}", side, side, file_size)


@pytest.mark.parametrize(("sizes", "cap", "picked"), [
    ([size("s", 90, 1_000), size("m", 320, 20_000), size("l", 1280, 200_000)], 10**6, "l"),
    ([size("s", 90, 1_000), size("m", 320, 20_000), size("l", 1280, 200_000)], 100_000, "m"),
    ([size("l", 1280, 200_000), size("s", 90, 1_000)], 100_000, "s"),  # any order
    ([size("s", 90, 1_000), size("l", 1280, None)], 100, "l"),  # unknown: fetch checks it
    ([size("m", 320, 5_000), size("l", 1280, 9_000)], 100, "m"),  # none fits: smallest, refused
    ([size("only", 90, 100)], 100, "only"),  # exactly the cap is allowed
])
def test_the_largest_photo_within_the_cap_is_picked(
        sizes: list[PhotoSize], cap: int, picked: str) -> None:
    assert best_photo(sizes, cap).file_id == picked


CHAT = Chat(1, "private")
WHEN = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def message(**media_: Any) -> Message:
    return Message(1, WHEN, CHAT, **media_)


@pytest.mark.parametrize(("given", "expected"), [
    (message(photo=(size("a", 90, 10), size("b", 900, 99))),
     Wanted("b", "photo.jpg", "image/jpeg", 99)),
    (message(document=Document("d", "ud", "Report.pdf", "application/pdf", 5)),
     Wanted("d", "Report.pdf", "application/pdf", 5)),
    (message(document=Document("d", "ud")), Wanted("d", "document", "", None)),
    (message(voice=Voice("v", "uv", 3, "audio/ogg", 7)), Wanted("v", "voice.ogg", "audio/ogg", 7)),
    (message(voice=Voice("v", "uv", 3)), Wanted("v", "voice.ogg", "audio/ogg", None)),
    (message(audio=Audio("a", "ua", 60, file_name="song.m4a", mime_type="audio/mp4",
                         file_size=8)), Wanted("a", "song.m4a", "audio/mp4", 8)),
    (message(video_note=VideoNote("n", "un", 240, 5, file_size=9)),
     Wanted("n", "video_note.mp4", "video/mp4", 9)),
    (message(sticker=Sticker("s", "us", 1, 1, False, False, "regular")), None),
    (message(text="just text"), None),
])
def test_the_file_of_a_message(given: Message, expected: Wanted | None) -> None:
    assert wanted(given, 100) == expected

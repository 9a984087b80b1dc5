"""Files shared with the bot on Slack: real slack-bolt and slack_sdk against the fake Slack, the
real ChatOpenAI and openai SDK against the fake OpenAI; plus the pure choices, table-style."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from adapters.slack.conversation import from_person, message_decision
from adapters.slack.files import SlackFile, allowed_url, is_file_response, shared_files
from core.errors import DownloadFailed, FileTooLarge, TooManyFiles, UnsupportedFile
from core.keys import KeySpace, SessionKey, UserKey
from core.service import ChatService
from tests import media
from tests.fakes.common import wait_for
from tests.fakes.openai_server import FakeOpenAI, heard, image_parts
from tests.fakes.slack_api import FakeSlack, fake_slack, file_mention, file_message
from tests.test_slack import Slack, dm, running, stored

U1 = UserKey.of("slack", "T1", "U1")
DM = SessionKey.direct(U1)
MB = 1024 * 1024


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with fake_slack() as server:
        yield server


@pytest.fixture
async def slack(fake: FakeSlack, llm_service: ChatService) -> AsyncIterator[Slack]:
    async with running(fake, llm_service) as app:
        yield app


def last_user(openai: FakeOpenAI) -> str:
    return str([m for m in openai.requests[-1]["messages"] if m["role"] == "user"][-1]["content"])


def files_key(service: ChatService, session: SessionKey) -> str:
    return KeySpace(service.settings.redis_prefix).session(str(session)).files


async def shown(fake: FakeSlack, channel: str, needle: str) -> str:
    [text] = await wait_for(lambda: [t for t in fake.messages(channel).values() if needle in t])
    return str(text)


async def refused(fake: FakeSlack, openai: FakeOpenAI, text: str) -> None:
    """The user was told `text` in the DM, and the model never asked."""
    await shown(fake, "DU1", text)
    await asyncio.sleep(0.2)
    assert not openai.requests and not openai.transcriptions


# --- end to end --------------------------------------------------------------------------------

async def test_a_dm_image_reaches_the_model_and_again_in_the_follow_up(
        slack: Slack, fake: FakeSlack, llm_service: ChatService, openai_fake: FakeOpenAI,
        redis: Redis) -> None:
    photo = fake.add_file(media.jpeg(800, 600), "IMG_0001.jpg", "image/jpeg")
    await slack.event(file_message([photo], "What is in this picture?"))
    await stored(llm_service, DM, 2)
    await shown(fake, "DU1", "What is in this picture?")
    [part] = image_parts(openai_fake.requests[-1])
    assert part["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert fake.downloads == [(photo["id"], True)], "once, with the bot token"
    assert await redis.exists(files_key(llm_service, DM))

    await slack.event(dm("And what colour is it mostly?"))
    await stored(llm_service, DM, 4)
    assert "what colour" in last_user(openai_fake)
    assert image_parts(openai_fake.requests[-1]) == [part], "the picture above, again"
    assert len(fake.downloads) == 1


async def test_an_audio_clip_is_transcribed_shown_and_answered(
        slack: Slack, fake: FakeSlack, llm_service: ChatService,
        openai_fake: FakeOpenAI) -> None:
    clip = media.ogg_opus(2.0)
    audio = fake.add_file(clip, "audio_message.ogg", "audio/ogg", filetype="ogg")
    await slack.event(file_message([audio]))
    await stored(llm_service, DM, 2)
    transcript = heard(clip)
    text = await shown(fake, "DU1", "echo:")
    assert text.index(transcript) < text.index("echo:"), "the transcript first, then the answer"
    [sent] = openai_fake.transcriptions
    assert sent.size == len(clip)
    assert transcript in last_user(openai_fake)


async def test_a_pdf_and_a_python_file_read_in_a_thread_mention(
        slack: Slack, fake: FakeSlack, llm_service: ChatService,
        openai_fake: FakeOpenAI) -> None:
    pdf = fake.add_file(media.pdf_with_text("Revenue grew 12 percent"), "Quarterly report.pdf",
                        "application/pdf")
    code = fake.add_file(b"def main() -> None:\n    print('hi')\n", "tool.py", "text/x-python",
                         filetype="python")
    thread = "1720000000.999001"
    await slack.event(file_mention([pdf, code], "Summarise these", thread_ts=thread))
    await stored(llm_service, SessionKey.thread("slack", "T1", "C1", thread), 2)
    content = last_user(openai_fake)
    assert "Revenue grew 12 percent" in content and "print('hi')" in content
    assert "Summarise these" in content and "UBOT" not in content
    assert {p["thread_ts"] for p in fake.called("chat.startStream")} == {thread}
    assert sorted(fake.downloads) == sorted([(pdf["id"], True), (code["id"], True)])


async def test_a_file_in_the_assistant_pane(slack: Slack, fake: FakeSlack,
                                            llm_service: ChatService,
                                            openai_fake: FakeOpenAI) -> None:
    thread = "1720000000.999002"
    photo = fake.add_file(media.png(), "chart.png", "image/png")
    await slack.event(file_message([photo], "Explain this chart", thread_ts=thread))
    await stored(llm_service, SessionKey.channel_member("slack", "T1", "DU1", thread, user=U1), 2)
    assert len(image_parts(openai_fake.requests[-1])) == 1
    assert fake.called("assistant.threads.setTitle")[0]["title"] == "Explain this chart"
    assert {p["thread_ts"] for p in fake.called("chat.startStream")} == {thread}


async def test_a_file_announced_too_large_is_refused_without_download(
        slack: Slack, fake: FakeSlack, llm_service: ChatService,
        openai_fake: FakeOpenAI) -> None:
    limit = llm_service.settings.limits.max_bytes
    big = fake.add_file(media.jpeg(64, 48), "huge.jpg", "image/jpeg", size=limit + 1)
    await slack.event(file_message([big], "look"))
    await refused(fake, openai_fake, FileTooLarge(limit).user_message)
    assert fake.downloads == []
    assert not await llm_service.history(DM)


async def test_a_zip_named_png_is_refused_as_unsupported(
        slack: Slack, fake: FakeSlack, llm_service: ChatService,
        openai_fake: FakeOpenAI) -> None:
    lying = fake.add_file(media.zip_named_png(), "photo.png", "image/png")
    await slack.event(file_message([lying], "what's this"))
    await refused(fake, openai_fake, UnsupportedFile("zip").user_message)
    assert not await llm_service.history(DM)


async def test_a_redirect_to_the_sign_in_page_is_never_content(
        slack: Slack, fake: FakeSlack, llm_service: ChatService,
        openai_fake: FakeOpenAI) -> None:
    photo = fake.add_file(media.png(), "chart.png", "image/png")
    fake.token = "xoxb-another-workspace"  # Slack won't hand it to this bot's token
    await slack.event(file_message([photo], "read it"))
    await refused(fake, openai_fake, DownloadFailed().user_message)
    assert fake.downloads == [(photo["id"], False)]
    assert not await llm_service.history(DM)


async def test_a_file_on_another_host_is_never_fetched(
        slack: Slack, fake: FakeSlack, openai_fake: FakeOpenAI) -> None:
    async with fake_slack() as elsewhere:  # same address, another port: not the API host
        foreign = elsewhere.add_file(media.png(), "chart.png", "image/png")
        elsewhere.token = fake.token
        await slack.event(file_message([foreign], "read it"))
        await refused(fake, openai_fake, DownloadFailed().user_message)
        assert elsewhere.downloads == []


async def test_too_many_files_refused_before_any_download(
        slack: Slack, fake: FakeSlack, llm_service: ChatService,
        openai_fake: FakeOpenAI) -> None:
    limit = llm_service.settings.limits.max_files
    photos = [fake.add_file(media.png(), f"p{i}.png", "image/png") for i in range(limit + 1)]
    await slack.event(file_message(photos, "all of these"))
    await refused(fake, openai_fake, TooManyFiles(limit).user_message)
    assert fake.downloads == [] and not fake.called("files.info")


async def test_a_file_larger_than_slack_said_is_refused(
        fake: FakeSlack, make_llm_service: Callable[..., Awaitable[ChatService]],
        openai_fake: FakeOpenAI) -> None:
    service = await make_llm_service(SWITCHBOARD_MAX_ATTACHMENT_BYTES=str(MB))
    blob = fake.add_file(b"\0" * (3 * MB), "notes.txt", "text/plain", size=1000)
    async with running(fake, service) as slack:
        await slack.event(file_message([blob], "read"))
        await refused(fake, openai_fake, FileTooLarge(MB).user_message)
    assert fake.downloads == [(blob["id"], True)]


async def test_a_slack_connect_file_is_described_by_files_info(
        slack: Slack, fake: FakeSlack, llm_service: ChatService,
        openai_fake: FakeOpenAI) -> None:
    photo = fake.add_file(media.png(), "chart.png", "image/png")
    await slack.event(file_message([{"id": photo["id"], "file_access": "check_file_info"}],
                                   "what is it?"))
    await stored(llm_service, DM, 2)
    assert len(image_parts(openai_fake.requests[-1])) == 1
    assert [p["file"] for p in fake.called("files.info")] == [photo["id"]]
    fake.refuse["files.info"] = "file_not_found"
    await slack.event(file_message([{"id": "F404", "file_access": "check_file_info"}], "and?"))
    await shown(fake, "DU1", DownloadFailed().user_message)


async def test_forget_erases_the_image(slack: Slack, fake: FakeSlack, llm_service: ChatService,
                                       redis: Redis) -> None:
    photo = fake.add_file(media.jpeg(320, 200), "IMG_0002.jpg", "image/jpeg")
    await slack.event(file_message([photo], "keep this"))
    await stored(llm_service, DM, 2)
    key = files_key(llm_service, DM)
    assert await redis.exists(key)
    await slack.command("forget")
    await wait_for(lambda: fake.responses)
    assert not await redis.exists(key)
    assert not await llm_service.history(DM)


# --- the pure choices --------------------------------------------------------------------------

API = "http://127.0.0.1:8123/api/"


@pytest.mark.parametrize(("url", "allowed"), [
    ("https://files.slack.com/files-pri/T1-F1/download/a.png", True),
    ("https://FILES.slack.com/files-pri/T1-F1/a.png", True),
    ("https://files.slack.com:443/files-pri/T1-F1/a.png", True),
    ("http://files.slack.com/files-pri/T1-F1/a.png", False),  # never the token in clear
    ("https://files.slack.com:8443/files-pri/T1-F1/a.png", False),
    ("https://files.slack.com.evil.example/a.png", False),
    ("https://evil.example/files.slack.com/a.png", False),
    ("https://files.slack.com@evil.example/a.png", False),
    ("https://user:pw@files.slack.com/a.png", False),
    ("https://slack-files.com/T1-F1-abc", False),  # public links: not with the token
    ("https://docs.google.com/document/d/1", False),  # an external file
    ("http://127.0.0.1:8123/files-pri/T1-F1/a.png", True),  # the configured API host
    ("http://127.0.0.1:8124/files-pri/T1-F1/a.png", False),
    ("https://127.0.0.1:8123/files-pri/T1-F1/a.png", False),
    ("http://localhost:8123/files-pri/T1-F1/a.png", False),
    ("/files-pri/T1-F1/a.png", False),
    ("file:///etc/passwd", False),
    ("", False),
    ("https://files.slack.com/files-pri/T1-F1/download/Quarterly report.pdf", True),
    ("https://files.slack.com/a.png\r\nX-Evil: 1", False),
])
def test_which_file_urls_are_fetched(url: str, allowed: bool) -> None:
    assert allowed_url(url, API) is allowed


def test_the_default_api_url_allows_only_slack_hosts() -> None:
    assert allowed_url("https://files.slack.com/files-pri/T1-F1/a.png", "https://slack.com/api/")
    assert not allowed_url("http://127.0.0.1:8123/files-pri/T1-F1/a.png",
                           "https://slack.com/api/")


HOSTED: dict[str, Any] = {"id": "F1", "name": "a.png", "mimetype": "image/png", "size": 10,
          "url_private": "https://files.slack.com/files-pri/T1-F1/a.png",
          "url_private_download": "https://files.slack.com/files-pri/T1-F1/download/a.png"}


@pytest.mark.parametrize(("files", "expected"), [
    (None, ()),
    ("not a list", ()),
    ([HOSTED], (SlackFile("F1", "a.png", "image/png", 10, HOSTED["url_private_download"]),)),
    ([{**HOSTED, "url_private_download": None}],
     (SlackFile("F1", "a.png", "image/png", 10, HOSTED["url_private"]),)),
    ([{"id": "F2", "title": "Untitled", "size": "12"}],
     (SlackFile("F2", "Untitled", "", None, ""),)),
    ([{"id": "F3", "mode": "hidden_by_limit"}], (SlackFile("F3", "file", "", None, ""),)),
    ([{"id": "F4", "mode": "tombstone"}, {"name": "no id"}, "junk"], ()),
    ([{**HOSTED, "size": True}], (SlackFile("F1", "a.png", "image/png", None,
                                            HOSTED["url_private_download"]),)),
])
def test_which_files_a_message_carries(files: Any, expected: tuple[SlackFile, ...]) -> None:
    assert shared_files({"files": files} if files is not None else {}) == expected


PNG = SlackFile("F1", "a.png", "image/png", 10, "")
PAGE = SlackFile("F2", "page.html", "text/html", 10, "")


@pytest.mark.parametrize(("status", "content_type", "file", "content"), [
    (200, "image/png", PNG, True),
    (200, "application/octet-stream", PNG, True),
    (200, "text/html", PNG, False),  # a sign-in page where the picture should be
    (200, "TEXT/HTML", PNG, False),
    (200, "text/html", PAGE, True),  # the user shared an HTML file
    (302, "text/html", PNG, False),
    (301, "image/png", PNG, False),
    (403, "image/png", PNG, False),
    (404, "text/plain", PNG, False),
])
def test_what_counts_as_the_file(status: int, content_type: str, file: SlackFile,
                                 content: bool) -> None:
    assert is_file_response(status, content_type, file) is content


@pytest.mark.parametrize(("fields", "person"), [
    ({}, True),
    ({"subtype": "file_share"}, True),
    ({"subtype": "file_share", "bot_id": "B1"}, False),
    ({"subtype": "message_changed"}, False),
    ({"subtype": "bot_message"}, False),
    ({"subtype": "channel_join"}, False),
])
def test_file_shares_are_from_people(fields: dict[str, Any], person: bool) -> None:
    event = {"user": "U1", "channel": "D1", "ts": "1.0", "text": "hi", **fields}
    assert from_person(event) is person
    assert (message_decision(event, "UBOT", False) == "answer") is person

"""The Slack adapter end to end: real slack-bolt over signed HTTP and Socket Mode, fake Web API."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from adapters.commands import forgotten
from adapters.slack import SlackSettings, build_app, events_router
from core.keys import SessionKey, UserKey
from core.offline import OfflineChatModel
from core.redis_store import RedisStore
from core.service import ChatService
from core.settings import CoreSettings
from tests.fakes.common import serve_asgi, wait_for
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import BOT_ID, BOT_USER, FakeSlack, fake_slack

SECRET = "fake-signing-secret-for-tests"
_ids = itertools.count(1)


def _ts() -> str:
    return f"1710000000.{next(_ids):06d}"


def dm(text: str, user: str = "U1", **extra: Any) -> dict[str, Any]:
    return {"type": "message", "channel_type": "im", "channel": f"D{user}", "user": user,
            "text": text, "ts": _ts(), "team": "T1", **extra}


def mention(text: str, channel: str = "C1", user: str = "U1", **extra: Any) -> dict[str, Any]:
    return {"type": "app_mention", "channel": channel, "user": user, "team": "T1",
            "text": f"<@{BOT_USER}> {text}", "ts": _ts(), **extra}


def envelope(event: dict[str, Any]) -> dict[str, Any]:
    return {"token": "legacy", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
            "event_id": f"Ev{next(_ids)}", "event_time": int(time.time()), "event": event,
            "authorizations": [{"team_id": "T1", "user_id": BOT_USER, "is_bot": True}]}


class Slack:
    """The app under test behind a bare FastAPI app; posts signed requests like Slack does."""

    def __init__(self, fake: FakeSlack, url: str, http: httpx.AsyncClient) -> None:
        self.fake, self.url, self.http = fake, url, http

    async def send(self, body: dict[str, Any] | str, *, retry: int | None = None,
                   age: float = 0, secret: str = SECRET) -> httpx.Response:
        raw = body if isinstance(body, str) else json.dumps(body)
        stamp = str(int(time.time() - age))
        signature = hmac.new(secret.encode(), f"v0:{stamp}:{raw}".encode(), hashlib.sha256)
        headers = {"X-Slack-Request-Timestamp": stamp,
                   "X-Slack-Signature": f"v0={signature.hexdigest()}",
                   "Content-Type": "application/x-www-form-urlencoded" if isinstance(body, str)
                   else "application/json"}
        if retry is not None:
            headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "timeout"})
        return await self.http.post(f"{self.url}/slack/events", content=raw.encode(),
                                    headers=headers)

    async def event(self, event: dict[str, Any]) -> dict[str, Any]:
        body = envelope(event)
        assert (await self.send(body)).status_code == 200
        return body

    async def command(self, text: str, channel: str = "DU1") -> httpx.Response:
        form = {"token": "legacy", "team_id": "T1", "user_id": "U1", "channel_id": channel,
                "command": "/switchboard", "text": text, "trigger_id": "1.2",
                "response_url": f"{self.fake.url}/respond/{next(_ids)}"}
        return await self.send(urlencode(form))

    async def said(self, channel: str, needle: str, count: int = 1,
                   end: str = "start me again.") -> list[str]:
        """Finished messages (ending in `end`, as offline answers do) that contain `needle`."""
        def found() -> list[str]:
            texts = [t for t in self.fake.messages(channel).values()
                     if needle in t and t.endswith(end)]
            return texts if len(texts) >= count else []
        return list(await wait_for(found))


def settings_for(fake: FakeSlack, **extra: str) -> SlackSettings:
    values = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET,
              "SLACK_API_URL": f"{fake.url}/api", "SLACK_UPDATE_INTERVAL": "0", **extra}
    return SlackSettings(**values)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def running(fake: FakeSlack, service: ChatService, **extra: str) -> AsyncIterator[Slack]:
    api = FastAPI()
    api.include_router(events_router(build_app(service, settings_for(fake, **extra))))
    async with serve_asgi(api) as url, httpx.AsyncClient(timeout=10) as http:
        yield Slack(fake, url, http)


async def stored(service: ChatService, session: SessionKey, count: int) -> None:
    """Wait for the core's commit, which follows the last piece the user already sees."""
    for _ in range(100):
        if len(await service.history(session)) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("turn not stored")


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with fake_slack() as server:
        yield server


@pytest.fixture
async def slack(fake: FakeSlack, service: ChatService) -> AsyncIterator[Slack]:
    async with running(fake, service) as app:
        yield app


async def test_dm_remembers_and_users_are_isolated(slack: Slack, fake: FakeSlack) -> None:
    await slack.event(dm("my name is Ana"))
    await slack.said("DU1", "first message from you")
    await slack.event(dm("who am I?"))
    [second] = await slack.said("DU1", "I remember 1 earlier message")
    assert "“my name is Ana”" in second
    await slack.event(dm("hello", user="U2"))
    [other] = await slack.said("DU2", "You said")
    assert "first message from you" in other and "Ana" not in other
    posts = fake.called("chat.postMessage")
    assert all(p["_token"] == "Bearer xoxb-test" and p.get("thread_ts") is None for p in posts)
    assert fake.called("chat.update"), "top-level DMs are posted once, then edited"


async def test_channel_mention_answered_in_its_thread_then_continued(slack: Slack,
                                                                     fake: FakeSlack) -> None:
    first = (await slack.event(mention("plan the offsite")))["event"]
    await slack.said("C1", "first message from you")
    [start] = fake.called("chat.startStream")
    assert {k: start[k] for k in ("thread_ts", "recipient_team_id", "recipient_user_id")} == \
        {"thread_ts": first["ts"], "recipient_team_id": "T1", "recipient_user_id": "U1"}
    await wait_for(lambda: fake.called("chat.stopStream"))
    await slack.event(mention("and the budget?", thread_ts=first["ts"]))
    [later] = await slack.said("C1", "I remember 1 earlier message")
    assert "“plan the offsite”" in later and BOT_USER not in later
    assert {p["thread_ts"] for p in fake.called("chat.startStream")} == {first["ts"]}


async def test_follow_threads_answers_unmentioned_replies_only_in_its_threads(
        fake: FakeSlack, service: ChatService) -> None:
    async with running(fake, service, SLACK_FOLLOW_THREADS="true") as slack:
        root = (await slack.event(mention("hi")))["event"]
        await slack.said("C1", "You said")
        await stored(service, SessionKey.thread("slack", "T1", "C1", root["ts"]), 2)
        reply = {"type": "message", "channel_type": "channel", "channel": "C1", "user": "U2",
                 "team": "T1", "text": "and me?", "ts": _ts(), "thread_ts": root["ts"]}
        await slack.event(reply)
        await slack.said("C1", "“and me?”")
        stranger = {**reply, "ts": _ts(), "thread_ts": "1.000001", "text": "not yours"}
        await slack.event(stranger)
        await asyncio.sleep(0.3)
        assert not [t for t in fake.messages("C1").values() if "not yours" in t]


async def test_assistant_pane(slack: Slack, fake: FakeSlack, service: ChatService) -> None:
    thread = _ts()
    await slack.event({"type": "assistant_thread_started", "event_ts": _ts(),
                       "assistant_thread": {"user_id": "U1", "channel_id": "DU1",
                                            "thread_ts": thread, "context": {}}})
    [prompts] = await wait_for(lambda: fake.called("assistant.threads.setSuggestedPrompts"))
    assert prompts["thread_ts"] == thread and len(prompts["prompts"]) == 3
    await slack.event(dm("What is a haiku?", thread_ts=thread))
    await slack.said("DU1", "What is a haiku?")
    await wait_for(lambda: fake.called("chat.stopStream"))

    def named() -> list[str]:
        return [n for n, _ in fake.calls if n.startswith(("assistant.threads.set", "chat."))]
    await wait_for(lambda: named()[-1] == "chat.update")  # the button, once it stopped
    names = named()
    assert names[:4] == ["assistant.threads.setSuggestedPrompts", "assistant.threads.setStatus",
                         "assistant.threads.setTitle", "chat.startStream"]
    assert names[-2:] == ["chat.stopStream", "chat.update"]  # the update adds the button
    assert fake.called("assistant.threads.setTitle")[0]["title"] == "What is a haiku?"
    user = UserKey.of("slack", "T1", "U1")
    await stored(service, SessionKey.channel_member("slack", "T1", "DU1", thread, user=user), 2)
    await slack.event(dm("another", thread_ts=thread))
    await slack.said("DU1", "I remember 1 earlier")
    assert len(fake.called("assistant.threads.setTitle")) == 1, "titled by the first message"


async def test_native_stream_refused_falls_back_to_edits(slack: Slack, fake: FakeSlack) -> None:
    fake.refuse["chat.startStream"] = "not_allowed_token_type"
    root = (await slack.event(mention("hello")))["event"]
    await slack.said("C1", "You said")
    assert [p["thread_ts"] for p in fake.called("chat.postMessage")] == [root["ts"]]


async def test_stream_stopped_in_slack_ends_quietly_and_keeps_what_was_seen(
        fake: FakeSlack, llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    answer = "tokens tokens.\n\n" * 150  # paragraphs: a native stream appends whole blocks
    openai_fake.answer = lambda body: answer
    openai_fake.chunks = lambda text: [text[i:i + 50] for i in range(0, len(text), 50)]
    fake.refuse["chat.appendStream"] = "message_not_in_streaming_state"  # the user pressed stop
    async with running(fake, llm_service) as slack:
        root = (await slack.event(mention("go on and on")))["event"]
        await wait_for(lambda: fake.called("chat.stopStream"))
        await asyncio.sleep(0.2)
    assert len(fake.called("chat.startStream")) == 1 and not fake.called("chat.postMessage")
    stored = await llm_service.history(SessionKey.thread("slack", "T1", "C1", root["ts"]))
    assert [m.role for m in stored] == ["human", "ai"]
    assert answer.startswith(stored[1].text) and len(stored[1].text) < len(answer)


async def test_updates_at_most_once_per_interval(fake: FakeSlack, llm_service: ChatService,
                                                 openai_fake: FakeOpenAI) -> None:
    openai_fake.answer = lambda body: "word " * 120
    openai_fake.chunk_delay = 0.005  # 150 chunks over about 0.75 s
    async with running(fake, llm_service, SLACK_UPDATE_INTERVAL="0.25") as slack:
        await slack.event(dm("talk"))
        await wait_for(lambda: any(t.count("word") == 120 for t in fake.messages().values()))
    # The pace, not a count (a busy machine streams slower and so updates more often): each
    # request that shows the answer comes at least an interval after the one before.
    shown = fake.called("chat.postMessage") + [u for u in fake.called("chat.update")
                                               if "markdown_text" in u]
    gaps = [b["_at"] - a["_at"] for a, b in itertools.pairwise(shown)]
    assert len(shown) >= 2 and all(gap >= 0.25 - 0.01 for gap in gaps), gaps


async def test_retried_event_answered_once_over_http(slack: Slack, fake: FakeSlack) -> None:
    body = envelope(dm("only once"))
    assert (await slack.send(body)).status_code == 200
    assert (await slack.send(body, retry=1)).status_code == 200  # while the first is in flight
    await slack.said("DU1", "only once")
    assert (await slack.send(body, retry=2)).status_code == 200  # after it was answered
    await asyncio.sleep(0.3)
    assert len(fake.called("chat.postMessage")) == 1


async def test_message_and_mention_of_one_message_answered_once(slack: Slack,
                                                                fake: FakeSlack) -> None:
    event = mention("both events")
    await slack.event(event)
    await slack.event({**event, "type": "message", "channel_type": "channel"})
    await slack.said("C1", "both events")
    await asyncio.sleep(0.3)
    assert len(fake.called("chat.startStream")) == 1


async def test_socket_mode_redelivery_answered_once(fake: FakeSlack,
                                                    service: ChatService) -> None:
    app = build_app(service, settings_for(fake, SLACK_APP_TOKEN="xapp-test"))
    handler = AsyncSocketModeHandler(app, "xapp-test")
    try:
        await handler.connect_async()
        await asyncio.wait_for(fake.connected.wait(), 5)
        body = envelope(dm("over the socket"))
        await fake.push("env-1", body)
        await fake.push("env-2", body, retry=1)
        await wait_for(lambda: {"env-1", "env-2"} <= set(fake.acks))
        await wait_for(lambda: [t for t in fake.messages("DU1").values() if "socket" in t])
        await asyncio.sleep(0.3)
        assert len(fake.called("chat.postMessage")) == 1
        assert fake.called("apps.connections.open")[0]["_token"] == "Bearer xapp-test"
    finally:
        await handler.close_async()


async def test_bad_signature_and_stale_timestamp_refused(slack: Slack, fake: FakeSlack) -> None:
    assert (await slack.send(envelope(dm("forged")), secret="wrong")).status_code == 401
    assert (await slack.send(envelope(dm("replayed")), age=360)).status_code == 401
    await asyncio.sleep(0.2)
    assert not fake.calls


async def test_url_verification(slack: Slack) -> None:
    answer = await slack.send({"type": "url_verification", "challenge": "abc", "token": "x"})
    assert answer.json() == {"challenge": "abc"}


async def test_429_on_update_retried_after_retry_after(slack: Slack, fake: FakeSlack) -> None:
    fake.fail_next("chat.update", 429, {"Retry-After": "1"})
    await slack.event(dm("slow down"))
    await slack.said("DU1", "OPENAI\\_API\\_KEY")  # as rendered: underscores escaped
    limited = [p for n, p in fake.calls if n == "chat.update!429"]
    retried = [p for p in fake.called("chat.update") if p["_at"] > limited[0]["_at"]]
    assert retried and retried[0]["_at"] - limited[0]["_at"] >= 1.0


async def test_long_answer_split_at_paragraphs(fake: FakeSlack, llm_service: ChatService,
                                               openai_fake: FakeOpenAI) -> None:
    paragraphs = [f"Paragraph {i}: " + "lorem ipsum " * 40 for i in range(19)]
    answer = "\n\n".join(paragraphs)
    assert len(answer) > 9000
    openai_fake.answer = lambda body: answer
    openai_fake.chunks = lambda text: [text[i:i + 100] for i in range(0, len(text), 100)]
    async with running(fake, llm_service, SLACK_UPDATE_INTERVAL="0.1") as slack:
        await slack.event(dm("write a lot"))
        await slack.said("DU1", "Paragraph 18", end="ipsum")
    texts = list(fake.messages("DU1").values())
    assert len(texts) == 3 and all(len(t) <= 3900 for t in texts)
    assert [p.strip() for p in "\n\n".join(texts).split("\n\n")] == \
        [p.strip() for p in paragraphs]


@pytest.mark.parametrize("where", ["dm", "thread"])
async def test_broadcasts_and_mentions_neutralised(fake: FakeSlack, llm_service: ChatService,
                                                   openai_fake: FakeOpenAI, where: str) -> None:
    openai_fake.answer = lambda body: ("Hey <!channel> <!here|here> <!everyone> <@U2> and "
                                       "@everyone, done.")
    async with running(fake, llm_service) as slack:
        await slack.event(dm("ping all") if where == "dm" else mention("ping all"))
        [text] = await wait_for(lambda: [t for t in fake.messages().values() if "done." in t])
    for live in ("<!channel>", "<!here", "<!everyone>", "<@U2>", "@everyone"):
        assert live not in text
    assert "channel" in text and "U2" in text


async def test_slash_command(slack: Slack, fake: FakeSlack, service: ChatService) -> None:
    assert (await slack.command("help")).status_code == 200
    await wait_for(lambda: fake.responses)
    assert "/switchboard reset" in fake.responses[0]["text"]
    assert fake.responses[0]["response_type"] == "ephemeral"
    await slack.event(dm("remember me"))
    await slack.said("DU1", "remember me")
    await stored(service, SessionKey.direct(UserKey.of("slack", "T1", "U1")), 2)
    await slack.command("reset")
    await wait_for(lambda: len(fake.responses) == 2)
    assert "fresh" in fake.responses[1]["text"]
    await slack.event(dm("again"))
    [fresh] = await slack.said("DU1", "“again”")
    assert "first message from you" in fresh
    await slack.command("forget")
    await wait_for(lambda: len(fake.responses) == 3)
    assert fake.responses[2]["text"] == forgotten(1)
    assert fake.responses[2]["text"].endswith("(1 conversation).")
    await slack.command("reset", channel="C1")
    await wait_for(lambda: len(fake.responses) == 4)
    assert "own conversation" in fake.responses[3]["text"]


async def test_rate_limited_notice_is_ephemeral(fake: FakeSlack, redis: Redis,
                                                make_settings: Callable[..., CoreSettings]
                                                ) -> None:
    settings = make_settings(SWITCHBOARD_RATE_LIMIT="1/minute")
    store = RedisStore(redis, settings.redis_prefix, settings.history_ttl,
                       settings.history_max_messages)
    await store.scripts.load(redis)
    async with running(fake, ChatService(store, OfflineChatModel(), settings)) as slack:
        await slack.event(dm("one"))
        await slack.said("DU1", "“one”")
        await slack.event(dm("two"))
        [notice] = await wait_for(lambda: fake.called("chat.postEphemeral"))
    assert notice["user"] == "U1" and "a bit fast" in notice["text"]


async def test_ignores_bots_itself_and_subtypes(slack: Slack, fake: FakeSlack) -> None:
    await slack.event(dm("from a bot", bot_id="B9", user="U9"))
    await slack.event(dm("edited", subtype="message_changed"))
    await slack.event(dm("joined", subtype="channel_join"))
    await slack.event(dm("from myself", user=BOT_USER, bot_id=BOT_ID))
    await slack.event(mention("bot mention", bot_id="B9"))
    await slack.event(dm("a person"))
    await slack.said("DU1", "a person")
    await asyncio.sleep(0.2)
    assert len(fake.messages()) == 1


async def test_allowlists(fake: FakeSlack, service: ChatService) -> None:
    async with running(fake, service, SLACK_ALLOWED_TEAMS="T1",
                       SLACK_ALLOWED_CHANNELS="C1") as slack:
        await slack.event(mention("elsewhere", channel="C2"))
        await slack.event(mention("here", channel="C1"))
        await slack.event(dm("direct"))
        await slack.said("C1", "here")
        await slack.said("DU1", "direct")
        assert not fake.messages("C2")
    async with running(fake, service, SLACK_ALLOWED_TEAMS="T9") as slack:
        await slack.event(dm("other workspace"))
        await asyncio.sleep(0.3)
        assert not [t for t in fake.messages().values() if "other workspace" in t]


async def test_run_slack_in_socket_mode(fake: FakeSlack, service: ChatService,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from bots.slack import build
    from bots.wiring import Wiring

    for name, value in {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xapp-test",
                        "SLACK_API_URL": f"{fake.url}/api/"}.items():
        monkeypatch.setenv(name, value)
    stop = asyncio.Event()
    task = asyncio.create_task(build(Wiring(service, service.store.redis, service.settings))(stop))
    try:
        await asyncio.wait_for(fake.connected.wait(), 5)
        await fake.push("env-9", envelope(dm("via switchboard run")))
        await wait_for(lambda: [t for t in fake.messages("DU1").values() if "run" in t])
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


async def test_a_failed_model_call_is_explained(fake: FakeSlack, llm_service: ChatService,
                                                openai_fake: FakeOpenAI) -> None:
    openai_fake.fail_next(500, times=10)
    async with running(fake, llm_service) as slack:
        await slack.event(dm("hello?"))
        await slack.said("DU1", "The language model didn't answer", end="in a minute.")
    assert not fake.called("chat.postEphemeral")  # only a rate limit is private

"""The Regenerate button on Slack, end to end: real slack-bolt, the fake Slack, real ChatOpenAI."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest

from adapters.regenerate import NOT_YOURS, Press
from adapters.slack.answer import BLOCK_ID
from core.errors import NotLastAnswer
from core.keys import SessionKey, UserKey
from core.service import ChatService
from tests.fakes.common import wait_for
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import BOT_ID, BOT_USER, FakeSlack, fake_slack
from tests.test_slack import Slack, dm, mention, running, stored

DM = SessionKey.direct(UserKey.of("slack", "T1", "U1"))
_ids = itertools.count(1)
Json = dict[str, Any]


@pytest.fixture
async def slack(llm_service: ChatService, openai_fake: FakeOpenAI) -> AsyncIterator[Slack]:
    def answer(body: Json) -> str:
        return f"take {len(openai_fake.requests)}"
    openai_fake.answer = answer
    async with fake_slack() as fake, running(fake, llm_service) as app:
        yield app


def offered(fake: FakeSlack) -> list[Json]:
    """The `chat.update`s that put a Regenerate button under a message, in order."""
    return [u for u in fake.called("chat.update")
            if any(b.get("type") == "actions" for b in u.get("blocks") or [])]


def removed(fake: FakeSlack, ts: str) -> bool:
    return any(u["ts"] == ts and "blocks" in u and not any(
        b.get("type") == "actions" for b in u["blocks"]) for u in fake.called("chat.update"))


def value(update: Json) -> str:
    [button] = update["blocks"][-1]["elements"]
    assert update["blocks"][-1]["block_id"] == BLOCK_ID
    return str(button["value"])


def press(fake: FakeSlack, update: Json, user: str = "U1", thread: str | None = None,
          action_id: str = "switchboard_answer_0") -> str:
    """A `block_actions` payload as Slack posts it when the button under `update` is pressed."""
    channel = update["channel"]
    message = {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "ts": update["ts"],
               "text": update["text"], "blocks": update["blocks"]}
    if thread:
        message["thread_ts"] = thread
    body = {"type": "block_actions", "token": "legacy", "api_app_id": "A1",
            "team": {"id": "T1", "domain": "t1"}, "user": {"id": user, "team_id": "T1"},
            "channel": {"id": channel, "name": "x"}, "message": message,
            "container": {"type": "message", "message_ts": update["ts"], "channel_id": channel,
                          "is_ephemeral": False},
            "trigger_id": "1.2", "response_url": f"{fake.url}/respond/re{next(_ids)}",
            "actions": [{"type": "button", "action_id": action_id, "block_id": BLOCK_ID,
                         "value": value(update), "action_ts": "1.2"}]}
    return urlencode({"payload": json.dumps(body)})


async def test_a_press_answers_again_in_place_of_the_answer(
        slack: Slack, llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    fake = slack.fake
    event = (await slack.event(dm("name a colour")))["event"]
    [first] = await wait_for(lambda: offered(fake))
    assert first["text"] == "take 1" and first["blocks"][0] == {"type": "markdown",
                                                                "text": "take 1"}
    assert Press.parse(value(first)) == Press(f"DU1:{event['ts']}", "U1",
                                              value(first).rsplit(":", 1)[1])
    assert (await slack.send(press(fake, first))).status_code == 200
    await wait_for(lambda: len(offered(fake)) == 2 and removed(fake, first["ts"]))
    second = offered(fake)[1]
    assert second["text"] == "take 2" and second["ts"] != first["ts"]
    assert value(second) != value(first)
    assert list(fake.messages("DU1").values()) == ["take 1", "take 2"]
    assert [m.text for m in await llm_service.history(DM)] == ["name a colour", "take 2"]


async def test_in_a_thread_the_same_button_twice_is_answered_once(
        slack: Slack, llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    fake = slack.fake
    event = (await slack.event(mention("hello")))["event"]
    [first] = await wait_for(lambda: offered(fake))
    assert fake.called("chat.stopStream")  # natively streamed, then given the button
    pressed = press(fake, first, thread=event["ts"])
    await asyncio.gather(slack.send(pressed), slack.send(pressed))
    await wait_for(lambda: len(offered(fake)) == 2)
    await asyncio.sleep(0.3)
    assert len(openai_fake.requests) == 2 and len(offered(fake)) == 2
    assert not fake.called("chat.postEphemeral") and not fake.called("chat.postMessage")
    starts = fake.called("chat.startStream")
    assert len(starts) == 2 and starts[1]["thread_ts"] == event["ts"]
    thread = SessionKey.thread("slack", "T1", "C1", event["ts"])
    await stored(llm_service, thread, 2)
    assert [m.text for m in await llm_service.history(thread)][-1] == "take 2"


async def test_an_older_answer_cannot_be_regenerated(
        slack: Slack, llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    fake = slack.fake
    await slack.event(dm("one"))
    await wait_for(lambda: len(offered(fake)) == 1)
    await slack.event(dm("two"))
    await wait_for(lambda: len(offered(fake)) == 2)
    old = offered(fake)[0]
    await slack.send(press(fake, old))
    [told] = await wait_for(lambda: fake.called("chat.postEphemeral"))
    assert told["text"] == NotLastAnswer.user_message and told["user"] == "U1"
    await wait_for(lambda: removed(fake, old["ts"]))  # it can never work again
    assert len(openai_fake.requests) == 2
    assert [m.text for m in await llm_service.history(DM)][-1] == "take 2"


async def test_only_the_asker_may_press(slack: Slack, openai_fake: FakeOpenAI) -> None:
    fake = slack.fake
    await slack.event(mention("mine"))
    [first] = await wait_for(lambda: offered(fake))
    await slack.send(press(fake, first, user="U2"))
    [said] = await wait_for(lambda: fake.responses)
    assert said["text"] == NOT_YOURS and said["response_type"] == "ephemeral"
    assert said["replace_original"] is False
    await asyncio.sleep(0.2)
    assert len(openai_fake.requests) == 1 and not removed(fake, first["ts"])
    assert "U2" not in [c["user"] for c in fake.called("users.info")], "refused unasked"


async def test_a_button_posted_by_the_previous_version_still_works(
        slack: Slack, openai_fake: FakeOpenAI) -> None:
    fake = slack.fake
    await slack.event(dm("old button"))
    [first] = await wait_for(lambda: offered(fake))
    await slack.send(press(fake, first, action_id="regenerate"))  # its action id then
    await wait_for(lambda: len(offered(fake)) == 2 and removed(fake, first["ts"]))
    assert offered(fake)[1]["text"] == "take 2"

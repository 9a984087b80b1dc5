"""Slack's pure decisions, table-style: which events are answered, which conversation is whose."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.slack.conversation import Decision, message_decision, session_key
from core.keys import SessionKey, UserKey

BOT = "UBOT"
U1 = UserKey.of("slack", "T1", "U1")


def event(**fields: Any) -> dict[str, Any]:
    return {"user": "U1", "channel": "C1", "ts": "1.0", "text": "hi"} | fields


@pytest.mark.parametrize(("fields", "follow", "decision"), [
    ({"channel": "D1", "channel_type": "im"}, False, "answer"),
    ({"channel": "D1", "thread_ts": "0.5"}, False, "answer"),
    ({}, True, "ignore"),  # top level in a channel: only mentions (app_mention) are answered
    ({"thread_ts": "0.5"}, False, "ignore"),  # threads are not followed
    ({"thread_ts": "0.5"}, True, "if the thread is ours"),
    ({"thread_ts": "0.5", "text": f"<@{BOT}> hi"}, True, "ignore"),  # answered as app_mention
    ({"channel": "D1", "subtype": "message_changed"}, True, "ignore"),
    ({"channel": "D1", "bot_id": "B1"}, True, "ignore"),
    ({"channel": "D1", "user": None}, True, "ignore"),
])
def test_which_messages_are_answered(fields: dict[str, Any], follow: bool,
                                     decision: Decision) -> None:
    assert message_decision(event(**fields), BOT, follow) == decision


@pytest.mark.parametrize(("fields", "session"), [
    ({"channel": "D1", "channel_type": "im"}, SessionKey.direct(U1)),
    ({"channel": "D1", "thread_ts": "0.5"},
     SessionKey.channel_member("slack", "T1", "D1", "0.5", user=U1)),
    ({}, SessionKey.thread("slack", "T1", "C1", "1.0")),
    ({"thread_ts": "0.5"}, SessionKey.thread("slack", "T1", "C1", "0.5")),
])
def test_whose_conversation_an_event_is(fields: dict[str, Any], session: SessionKey) -> None:
    assert session_key(event(**fields), "T1") == session

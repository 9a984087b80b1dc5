"""Slack messages as core turns: whose conversation it is, and answering it in the right place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from adapters.pager import status_line
from adapters.slack.files import SlackFile, shared_files
from core.agent import ToolStatus
from core.keys import SessionKey, UserKey

Decision = Literal["answer", "ignore", "if the thread is ours"]


@dataclass(frozen=True, slots=True)
class Target:
    """Where an answer goes: a channel, the thread under a message (None: top level), for whom."""

    channel: str
    thread_ts: str | None
    team: str
    user: str


@dataclass(frozen=True, slots=True)
class Incoming:
    """One user message, with the bot's own mention removed from its text."""

    team: str
    channel: str
    user: str
    ts: str
    text: str
    session: SessionKey
    target: Target  # where its answer goes
    files: tuple[SlackFile, ...] = ()  # shared with the message; fetched only when answered

    @classmethod
    def of(cls, event: Mapping[str, Any], team: str, bot_user: str | None) -> Incoming:
        text, ts = str(event.get("text") or ""), str(event["ts"])
        if bot_user:
            text = text.replace(f"<@{bot_user}>", " ").strip()
        channel, user = str(event["channel"]), str(event["user"])
        # DMs are answered in place; channel messages in the thread under them.
        thread = event.get("thread_ts") or (None if _is_im(event) else ts)
        return cls(team, channel, user, ts, text, session_key(event, team),
                   Target(channel, thread, team, user), shared_files(event))

    @classmethod
    def pressed(cls, body: Mapping[str, Any]) -> Incoming:
        """A button press: the pressed answer is where its question was; the presser speaks."""
        message = body["message"]
        event = {"user": str(body["user"]["id"]), "ts": message["ts"],
                 "channel": str((body.get("channel") or {}).get("id", "")),
                 "thread_ts": message.get("thread_ts")}
        return cls.of(event, team_of(body), None)

    @property
    def turn_id(self) -> str:
        # message.im and app_mention for one message share channel+ts, unlike their event_ids.
        return f"{self.channel}:{self.ts}"


def team_of(body: Mapping[str, Any]) -> str:
    """The workspace of an interaction payload (a button press, a menu choice)."""
    return str((body.get("team") or {}).get("id") or body["user"].get("team_id") or "")


def _is_im(event: Mapping[str, Any]) -> bool:
    return event.get("channel_type") == "im" or str(event.get("channel", "")).startswith("D")


def session_key(event: Mapping[str, Any], team: str) -> SessionKey:
    """A DM is one conversation per user; any thread (DM or channel) is its own conversation."""
    user, thread = UserKey.of("slack", team, str(event["user"])), event.get("thread_ts")
    if _is_im(event):
        if thread is None:
            return SessionKey.direct(user)
        # Only its owner writes in a DM thread: keep it private so `forget` erases it whole.
        return SessionKey.channel_member("slack", team, event["channel"], thread, user=user)
    return SessionKey.thread("slack", team, event["channel"], thread or event["ts"])


def from_person(event: Mapping[str, Any]) -> bool:
    """A message by a person, plain or sharing files: not a bot (this one or any other), not an
    edit or a join."""
    return (event.get("subtype") in (None, "", "file_share") and not event.get("bot_id")
            and bool(event.get("user")))


def message_decision(event: Mapping[str, Any], bot_user: str | None,
                     follow_threads: bool) -> Decision:
    """Whether a `message` event is answered: DMs are; thread replies if the thread is ours."""
    if not from_person(event):
        return "ignore"
    if _is_im(event):
        return "answer"
    if not follow_threads or not event.get("thread_ts"):
        return "ignore"
    # Mentions come as app_mention too: only unmentioned replies in the bot's threads here.
    if bot_user and f"<@{bot_user}>" in str(event.get("text", "")):
        return "ignore"
    return "if the thread is ours"


def assistant_status(status: ToolStatus) -> str:
    """The assistant pane's status while a tool runs ("is using docs lookup…")."""
    line = status_line(status).strip("_")
    return f"is {line[0].lower()}{line[1:]}" if line else "is thinking…"

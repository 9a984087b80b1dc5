"""Slack messages as core turns: whose conversation it is, and answering it in the right place."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from slack_sdk.web.async_client import AsyncWebClient

from adapters.failures import notice
from adapters.files import fetch
from adapters.pager import Piece, Watched, status_line
from adapters.slack.delivery import deliver, quietly, tell
from adapters.slack.files import SlackFile, described, remotes, shared_files
from adapters.slack.names import Names
from adapters.slack.regen import Press, offer
from adapters.slack.reply import Target
from adapters.slack.settings import SlackSettings
from adapters.slack.stream import sink
from core.agent import ToolStatus
from core.attachments import Upload
from core.keys import SessionKey, Speaker, UserKey
from core.service import ChatService, Turn

log = logging.getLogger("switchboard.slack")
Decision = Literal["answer", "ignore", "if the thread is ours"]


@dataclass(frozen=True, slots=True)
class Incoming:
    """One user message, with the bot's own mention removed from its text."""

    team: str
    channel: str
    user: str
    ts: str
    text: str
    thread_ts: str | None
    im: bool
    session: SessionKey
    files: tuple[SlackFile, ...] = ()  # shared with the message; fetched only when answered

    @classmethod
    def of(cls, event: Mapping[str, Any], team: str, bot_user: str | None) -> Incoming:
        text = str(event.get("text") or "")
        if bot_user:
            text = text.replace(f"<@{bot_user}>", " ").strip()
        channel = str(event["channel"])
        return cls(team, channel, str(event["user"]), str(event["ts"]), text,
                   event.get("thread_ts"), _is_im(event), session_key(event, team),
                   shared_files(event))

    @property
    def reply_thread(self) -> str | None:
        """DMs are answered in place; channel messages in the thread under them."""
        return self.thread_ts or (None if self.im else self.ts)

    @property
    def turn_id(self) -> str:
        # message.im and app_mention for one message share channel+ts, unlike their event_ids.
        return f"{self.channel}:{self.ts}"

    def speaker(self, name: str) -> Speaker:
        return Speaker(UserKey.of("slack", self.team, self.user), name, "Slack")


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


class Responder:
    """Streams the core's answer to Slack; errors become short notices, redeliveries silence."""

    def __init__(self, service: ChatService, settings: SlackSettings) -> None:
        self.service, self.settings, self.names = service, settings, Names()

    async def answer(self, client: AsyncWebClient, msg: Incoming) -> bool:
        """Answer one message; False when nothing was sent (a redelivered message)."""
        speaker = msg.speaker(await self.names.name(client, msg.team, msg.user))

        async def stream() -> AsyncGenerator[Piece, None]:
            uploads = await self.uploads(client, msg)
            turn = Turn(msg.session, speaker, msg.text, msg.turn_id, uploads)
            # The user sees the answer grow: if they stop it, what they saw is kept as the answer.
            async with contextlib.aclosing(self.service.events(turn, keep_partial=True)) as got:
                async for piece in got:
                    if not isinstance(piece, str):  # a tool's progress: the pane's status
                        await quietly(client.assistant_threads_setStatus(
                            channel_id=msg.channel, thread_ts=msg.reply_thread or msg.ts,
                            status=assistant_status(piece)))
                    yield piece

        return await self._show(client, msg, stream(), msg.turn_id) is not None

    async def regenerate(self, client: AsyncWebClient, msg: Incoming, press: Press
                         ) -> Watched | None:
        """Answer `press.target`'s question again, under the pressed answer; told privately."""
        speaker = msg.speaker(await self.names.name(client, msg.team, msg.user))
        again = self.service.regenerate(msg.session, speaker, press.target, press.nonce,
                                        keep_partial=True)
        return await self._show(client, msg, again, press.target, private=True)

    async def _show(self, client: AsyncWebClient, msg: Incoming,
                    stream: AsyncGenerator[Piece, None], question: str, *,
                    private: bool = False) -> Watched | None:
        """Deliver an answer, then offer its button; None when nothing was sent."""
        target = Target(msg.channel, msg.reply_thread, msg.team, msg.user)
        where = f"slack channel={msg.channel} ts={msg.ts}"
        watched = Watched(stream)
        shown = sink(client, target, self.settings)
        try:
            await deliver(watched.pieces(), shown, where)
        except Exception as exc:
            said = notice(exc, where=where)
            if said.silent:
                log.info("redelivered message ignored %s", where)
                return None
            await tell(client, target, replace(said, private=said.private or private))
        if watched.done:
            await offer(client, msg.channel, shown, question, msg.user)
        return watched

    async def uploads(self, client: AsyncWebClient, msg: Incoming) -> tuple[Upload, ...]:
        """The message's files, downloaded once the limits allow; AttachmentError otherwise."""
        if not msg.files:
            return ()
        limits = self.service.settings.limits
        files = await described(client, msg.files, limits)
        return await fetch(remotes(client, files, self.settings.api_url, limits.max_bytes), limits)

    async def started_here(self, msg: Incoming) -> bool:
        """Whether this thread already is a conversation with the bot."""
        return bool(await self.service.history(msg.session, limit=1))

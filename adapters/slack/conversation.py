"""Slack messages as core turns: whose conversation it is, and answering it in the right place."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.failures import Notice, notice
from adapters.slack.names import Names
from adapters.slack.reply import Edited, Sink, Target
from adapters.slack.settings import SlackSettings
from adapters.slack.stream import Stopped, Streamed
from core.keys import SessionKey, Speaker, UserKey
from core.service import ChatService, Turn

log = logging.getLogger("switchboard.slack")


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

    @classmethod
    def of(cls, event: Mapping[str, Any], team: str, bot_user: str | None) -> Incoming:
        text = str(event.get("text") or "")
        if bot_user:
            text = text.replace(f"<@{bot_user}>", " ").strip()
        channel = str(event["channel"])
        return cls(team, channel, str(event["user"]), str(event["ts"]), text,
                   event.get("thread_ts"), _is_im(event), session_key(event, team))

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
    """A plain message by a person: not a bot (this one or any other), not an edit or a join."""
    return not event.get("subtype") and not event.get("bot_id") and bool(event.get("user"))


class Responder:
    """Streams the core's answer to Slack; errors become short notices, redeliveries silence."""

    def __init__(self, service: ChatService, settings: SlackSettings) -> None:
        self.service, self.settings, self.names = service, settings, Names()

    async def answer(self, client: AsyncWebClient, msg: Incoming) -> bool:
        """Answer one message; False when nothing was sent (a redelivered message)."""
        target = Target(msg.channel, msg.reply_thread, msg.team, msg.user)
        speaker = msg.speaker(await self.names.name(client, msg.team, msg.user))
        turn = Turn(msg.session, speaker, msg.text, msg.turn_id)
        where = f"slack channel={msg.channel} ts={msg.ts}"
        try:
            await self._run(turn, self._sink(client, target), where)
        except Exception as exc:
            said = notice(exc, where=where)
            if said.silent:
                log.info("redelivered message ignored %s", where)
                return False
            await tell(client, target, said)
        return True

    async def started_here(self, msg: Incoming) -> bool:
        """Whether this thread already is a conversation with the bot."""
        return bool(await self.service.history(msg.session, limit=1))

    def _sink(self, client: AsyncWebClient, target: Target) -> Sink:
        edited = Edited(client, target, self.settings.update_interval,
                        self.settings.max_message_chars)
        # Native streams need a thread; top-level DM answers are edited instead.
        if self.settings.streaming == "native" and target.thread_ts:
            return Streamed(client, target, edited, self.settings.update_interval)
        return edited

    async def _run(self, turn: Turn, sink: Sink, where: str) -> None:
        answer = ""
        # The user sees the answer grow: if they stop it, what they saw is kept as the answer.
        pieces = self.service.stream(turn, keep_partial=True)
        async with contextlib.aclosing(pieces):
            try:
                async for piece in pieces:
                    answer += piece
                    await sink.show(answer)
                await sink.finish(answer)
            except Stopped as exc:
                # Leaving the loop closes the stream; the core keeps what was generated.
                log.info("reply stopped in slack: %s", exc)
                await sink.abandon()
            except Exception as exc:
                said = notice(exc, where=where) if answer else None
                if said is None or said.silent:
                    raise
                # Part of the answer is shown: the reason it stopped goes under it.
                await sink.finish(f"{answer}\n\n_{said.text}_")


async def tell(client: AsyncWebClient, target: Target, said: Notice) -> None:
    """Tell the user why there is no answer: only to them when Slack allows it and it should."""
    channel, thread, text = target.channel, target.thread_ts, said.text
    if said.private:
        try:
            await client.chat_postEphemeral(channel=channel, user=target.user, text=text,
                                            thread_ts=thread)
            return
        except SlackApiError as err:
            log.info("ephemeral notice refused: %s", err.response.get("error"))
    try:
        await client.chat_postMessage(channel=channel, thread_ts=thread, text=text)
    except SlackApiError as err:
        log.warning("notice not sent: %s", err.response.get("error"))

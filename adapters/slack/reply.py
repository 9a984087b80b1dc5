"""Showing an answer while it is generated: a native Slack stream, or one message edited ~1/s."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_chat_stream import AsyncChatStream
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.render import neutralise_markdown, to_mrkdwn
from adapters.textsplit import split

log = logging.getLogger("switchboard.slack")
# Slack caps one `markdown_text` at 12,000 characters; roll over to a new message before that.
STREAM_CAP = 11_000


class Stopped(Exception):
    """Slack ended the reply message (the user pressed stop, or the stream expired)."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where an answer goes: a channel, the thread under a message (None: top level), for whom."""

    channel: str
    thread_ts: str | None
    team: str
    user: str


class Sink(Protocol):
    async def show(self, answer: str) -> None: ...
    async def finish(self, answer: str) -> None: ...
    async def abandon(self) -> None: ...


@dataclass(slots=True)
class Edited:
    """Post once, then `chat.update` at most every `interval` s; long answers add messages."""

    client: AsyncWebClient
    target: Target
    interval: float
    limit: int
    shown: list[tuple[str, str]] = field(default_factory=list)  # (ts, text) per message
    last: float = float("-inf")

    async def show(self, answer: str) -> None:
        if time.monotonic() - self.last >= self.interval:
            await self.finish(answer)

    async def finish(self, answer: str) -> None:
        self.last = time.monotonic()
        for i, part in enumerate(split(to_mrkdwn(answer), self.limit)):
            if i == len(self.shown):
                sent = await self.client.chat_postMessage(
                    channel=self.target.channel, thread_ts=self.target.thread_ts, text=part)
                self.shown.append((str(sent["ts"]), part))
            elif part != self.shown[i][1]:
                await self.client.chat_update(channel=self.target.channel,
                                              ts=self.shown[i][0], text=part)
                self.shown[i] = (self.shown[i][0], part)

    async def abandon(self) -> None:
        """Nothing to close: what was shown stays."""


@dataclass(slots=True)
class Streamed:
    """A native stream (chat.startStream/appendStream/stopStream), appended every `interval` s."""

    client: AsyncWebClient
    target: Target
    fallback: Edited
    interval: float
    last: float = float("-inf")
    stream: AsyncChatStream | None = None
    sent: int = 0  # characters of the answer already handed to Slack
    in_message: int = 0
    refused: bool = False

    async def show(self, answer: str) -> None:
        if time.monotonic() - self.last < self.interval:
            return
        self.last = time.monotonic()
        # Send only up to the last whitespace, so a mention split across pieces is whole.
        await self._send(answer[: max(answer.rfind(" "), answer.rfind("\n")) + 1])
        if self.refused:
            await self.fallback.show(answer)

    async def finish(self, answer: str) -> None:
        await self._send(answer)
        if self.stream is not None and not self.refused:
            await self._guard(self.stream.stop())
        if self.refused:
            await self.fallback.finish(answer)

    async def abandon(self) -> None:
        if self.stream is not None and not self.refused:
            try:
                await self.stream.stop()
            except SlackApiError as exc:
                log.info("stream already closed: %s", exc.response.get("error"))

    async def _send(self, upto: str) -> None:
        delta = neutralise_markdown(upto[self.sent:])
        if self.refused or not delta:
            return
        if self.stream is not None and self.in_message + len(delta) > STREAM_CAP:
            await self._guard(self.stream.stop())
            self.stream = None
        if self.stream is None:
            # buffer_size=1: every append is sent; `interval` already paces them.
            self.stream, self.in_message = await self.client.chat_stream(
                buffer_size=1, channel=self.target.channel, thread_ts=self.target.thread_ts or "",
                recipient_team_id=self.target.team, recipient_user_id=self.target.user), 0
        self.sent, self.in_message = len(upto), self.in_message + len(delta)
        await self._guard(self.stream.append(markdown_text=delta))

    async def _guard(self, call: Awaitable[object]) -> None:
        try:
            await call
        except SlackApiError as exc:
            error = exc.response.get("error")
            if self.stream is not None and self.stream.ts is not None:
                raise Stopped(str(error)) from exc
            # startStream refused (not an AI app, or a place streams are not allowed).
            log.info("native streaming refused (%s); editing a message instead", error)
            self.refused = True

"""Showing an answer while it is generated: a native Slack stream, or one message edited ~1/s."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_chat_stream import AsyncChatStream
from slack_sdk.web.async_client import AsyncWebClient

from adapters.paging import Pace, Pager, Render, Rendered, split_plain
from adapters.slack.render import neutralise_markdown, to_mrkdwn
from adapters.slack.rollover import SOFT_CAP, STREAM_CAP, cut, last_block, open_fence
from adapters.textsplit import FENCE

log = logging.getLogger("switchboard.slack")


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


class Posted:
    """Slack as a pager platform: messages posted to one place, edited and deleted by ts."""

    def __init__(self, client: AsyncWebClient, target: Target) -> None:
        self.client, self.target = client, target

    async def send(self, part: str) -> str:
        sent = await self.client.chat_postMessage(
            channel=self.target.channel, thread_ts=self.target.thread_ts, text=part)
        return str(sent["ts"])

    async def edit(self, message_id: str, part: str) -> None:
        await self.client.chat_update(channel=self.target.channel, ts=message_id, text=part)

    async def delete(self, message_id: str) -> None:
        try:
            await self.client.chat_delete(channel=self.target.channel, ts=message_id)
        except SlackApiError as exc:  # left in place: shown twice beats failing the answer
            log.info("extra message not deleted: %s", exc.response.get("error"))


def mrkdwn_pages(answer: str, limit: int) -> list[Rendered[str]]:
    """The answer as Slack mrkdwn, in messages of at most `limit` characters."""
    return split_plain(to_mrkdwn(answer), limit)


class Edited:
    """Post once, then `chat.update` at most every `interval` s; long answers add messages."""

    def __init__(self, client: AsyncWebClient, target: Target, interval: float, limit: int,
                 render: Render[str] = mrkdwn_pages) -> None:
        self.pager = Pager(Posted(client, target), render, limit=limit, pace=Pace(interval))

    async def show(self, answer: str) -> None:
        await self.pager.show(answer)

    async def finish(self, answer: str) -> None:
        await self.pager.finish(answer)

    async def abandon(self) -> None:
        """Nothing to close: what was shown stays."""


@dataclass(slots=True)
class Streamed:
    """A native stream (chat.startStream/appendStream/stopStream), appended every `interval` s.

    Positions count in the neutralised answer; a full message rolls over to a new one.
    """

    client: AsyncWebClient
    target: Target
    fallback: Edited
    interval: float
    last: float = float("-inf")
    stream: AsyncChatStream | None = None
    base: int = 0  # where the current message starts in the answer
    head: str = ""  # a code fence reopened at the top of the current message
    done: int = 0  # characters of `head + answer[base:]` already handed to Slack
    refused: bool = False

    async def show(self, answer: str) -> None:
        if time.monotonic() - self.last < self.interval:
            return
        self.last = time.monotonic()
        # Send only up to the last whitespace, so a mention split across pieces is whole.
        upto = answer[: max(answer.rfind(" "), answer.rfind("\n")) + 1]
        await self._send(neutralise_markdown(upto), final=False)
        if self.refused:
            await self.fallback.show(answer)

    async def finish(self, answer: str) -> None:
        await self._send(neutralise_markdown(answer), final=True)
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

    async def _send(self, text: str, final: bool) -> None:
        while not self.refused:
            message = self.head + text[self.base:]
            if len(message) <= STREAM_CAP:
                await self._append(message[self.done:self._upto(message, final)])
                return
            await self._roll_over(message)

    def _upto(self, message: str, final: bool) -> int:
        if final or len(message) <= SOFT_CAP:
            return len(message)
        # Near the cap, hold back the paragraph being written: it may not fit in this message.
        block = last_block(message)
        if block >= self.done:
            return block
        # One is half shown already, so the cut falls inside it: in code, at a line's end.
        return message.rfind("\n") + 1 if open_fence(message) else len(message)

    async def _roll_over(self, message: str) -> None:
        """End this message at the best boundary; the next one starts after it."""
        end = cut(message, max(self.done, len(self.head) + 1))  # +1: at least one character
        fence = open_fence(message[:end])
        closing = ("" if message[:end].endswith("\n") else "\n") + FENCE if fence else ""
        await self._append(message[self.done:end] + closing)
        if self.stream is not None and not self.refused:
            await self._guard(self.stream.stop())
        rest = message[end:]
        skipped = 0 if fence else len(rest) - len(rest.lstrip("\n"))
        self.base += end - len(self.head) + skipped
        self.stream, self.head, self.done = None, f"{fence}\n" if fence else "", 0

    async def _append(self, delta: str) -> None:
        if self.refused or not delta:
            return
        if self.stream is None:
            # buffer_size=1: every append is sent; `interval` already paces them.
            self.stream = await self.client.chat_stream(
                buffer_size=1, channel=self.target.channel, thread_ts=self.target.thread_ts or "",
                recipient_team_id=self.target.team, recipient_user_id=self.target.user)
        self.done += len(delta)
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

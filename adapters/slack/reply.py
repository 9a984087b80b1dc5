"""Where a Slack answer goes, and how it grows there: Slack's native stream, else edits.

Both send standard Markdown (`markdown_text`, rendered by `adapters.render`), which Slack shows
with headings, lists and links; it must not come with `text`, so none is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_chat_stream import AsyncChatStream
from slack_sdk.web.async_client import AsyncWebClient

from adapters import render
from adapters.appending import Appended, Refused, Sink, Stopped
from adapters.pager import Pager
from adapters.paging import Pace, Rendered, plain
from adapters.slack.settings import SlackSettings

log = logging.getLogger("switchboard.slack")


@dataclass(frozen=True, slots=True)
class Target:
    """Where an answer goes: a channel, the thread under a message (None: top level), for whom."""

    channel: str
    thread_ts: str | None
    team: str
    user: str


class Posted:
    """Slack as a pager platform: messages posted to one place, edited and deleted by ts."""

    def __init__(self, client: AsyncWebClient, target: Target) -> None:
        self.client, self.target = client, target

    async def send(self, part: str) -> str:
        sent = await self.client.chat_postMessage(
            channel=self.target.channel, thread_ts=self.target.thread_ts, markdown_text=part)
        return str(sent["ts"])

    async def edit(self, message_id: str, part: str) -> None:
        await self.client.chat_update(channel=self.target.channel, ts=message_id,
                                      markdown_text=part)

    async def delete(self, message_id: str) -> None:
        try:
            await self.client.chat_delete(channel=self.target.channel, ts=message_id)
        except SlackApiError as exc:  # left in place: shown twice beats failing the answer
            log.info("extra message not deleted: %s", exc.response.get("error"))

    async def correct(self, message_id: str, part: str) -> None:
        """A streamed message whose rendering changed; what was streamed stays if refused."""
        try:
            await self.edit(message_id, part)
        except SlackApiError as exc:
            log.info("streamed message not corrected: %s", exc.response.get("error"))


class Streamed(Posted):
    """Slack's chat streams (chat.startStream/appendStream/stopStream) as an `appending.Stream`."""

    def __init__(self, client: AsyncWebClient, target: Target) -> None:
        super().__init__(client, target)
        self.open: AsyncChatStream | None = None

    async def append(self, delta: str) -> str:
        if self.open is None:
            # buffer_size=1: every append is sent; `Appended` already paces them.
            self.open = await self.client.chat_stream(
                buffer_size=1, channel=self.target.channel, thread_ts=self.target.thread_ts or "",
                recipient_team_id=self.target.team, recipient_user_id=self.target.user)
        await _guard(self.open, self.open.append(markdown_text=delta))
        return str(self.open.ts)

    async def stop(self) -> None:
        opened, self.open = self.open, None
        if opened is not None:
            await _guard(opened, opened.stop())


async def _guard(stream: AsyncChatStream, call: Awaitable[object]) -> None:
    try:
        await call
    except SlackApiError as exc:
        error = str(exc.response.get("error"))
        if stream.ts is None:  # startStream refused: not an AI app, or not allowed here
            log.info("native streaming refused (%s); editing a message instead", error)
            raise Refused(error) from exc
        try:  # Slack ended it (the user pressed stop): stop it so it no longer shows as writing
            await stream.stop()
        except SlackApiError as again:
            log.info("stream already closed: %s", again.response.get("error"))
        raise Stopped(error) from exc


def markdown_pages(answer: str, limit: int) -> list[Rendered[str]]:
    """The answer as Slack's standard Markdown, in messages of at most `limit` characters."""
    return plain(render.slack_markdown(answer, limit))


def sink(client: AsyncWebClient, target: Target, settings: SlackSettings) -> Sink:
    """A native stream where configured and possible (it needs a thread), else one message
    posted, then edited at most every `update_interval` s; long answers add messages."""
    pager = Pager(Posted(client, target), markdown_pages, limit=settings.max_message_chars,
                  pace=Pace(settings.update_interval))
    if settings.streaming == "native" and target.thread_ts:
        return Appended(Streamed(client, target),
                        lambda text: render.slack_markdown(text, render.SLACK_BLOCK_LIMIT),
                        pager, settings.update_interval)
    return pager

"""Showing an answer while it is generated, by posting one message and editing it ~1/s.

It sends standard Markdown (`markdown_text`, rendered by `adapters.render`), which Slack
shows with headings, lists and links; it must not come with `text`, so none is sent.
Native streaming, where Slack offers it, is in `adapters.slack.stream`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters import render
from adapters.pager import Pager
from adapters.paging import Pace, Render, Rendered, plain

log = logging.getLogger("switchboard.slack")


@dataclass(frozen=True, slots=True)
class Target:
    """Where an answer goes: a channel, the thread under a message (None: top level), for whom."""

    channel: str
    thread_ts: str | None
    team: str
    user: str


class Sink(Protocol):
    """What shows an answer: the shared pager, or Slack's native stream."""

    async def show(self, answer: str, /) -> None: ...
    async def finish(self, answer: str, /) -> None: ...


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


def markdown_pages(answer: str, limit: int) -> list[Rendered[str]]:
    """The answer as Slack's standard Markdown, in messages of at most `limit` characters."""
    return plain(render.slack_markdown(answer, limit))


def edited(client: AsyncWebClient, target: Target, interval: float, limit: int,
           draw: Render[str] = markdown_pages) -> Pager[str, str]:
    """Post once, then `chat.update` at most every `interval` s; long answers add messages."""
    return Pager(Posted(client, target), draw, limit=limit, pace=Pace(interval))

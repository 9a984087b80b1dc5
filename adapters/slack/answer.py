"""A Slack answer: where it shows, how it grows there, its buttons, and a press of one of them.

It grows in Slack's native stream where it can (in a thread), else in messages posted, then
edited. Both send standard Markdown (`markdown_text`, rendered by `adapters.render`), which
Slack shows with headings, lists and links; it must not come with `text`, so none is sent.
Buttons go under the answer's last message, rewritten with `chat.update` as a `markdown` block
(Slack takes `markdown_text` or `blocks`, never both) and an actions block; the same for a
native stream's last message once it stopped, so both ways share one (see README). Every answer
button sits in the block `BLOCK_ID`, so one bolt handler takes them all.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator, Awaitable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from slack_bolt.async_app import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_chat_stream import AsyncChatStream
from slack_sdk.web.async_client import AsyncWebClient

from adapters import render
from adapters.answers import Button, Last
from adapters.appending import Appended, Refused, Sink, Stopped
from adapters.failures import Notice
from adapters.pager import Pager, Piece
from adapters.paging import Pace, Rendered, plain
from adapters.slack.conversation import Target, assistant_status
from adapters.slack.delivery import deliver, quietly, tell
from adapters.slack.settings import SlackSettings

log = logging.getLogger("switchboard.slack")
# Named before Approve and Deny were: kept, so the buttons already posted reach the handler.
BLOCK_ID = "regenerate"


@dataclass(frozen=True, slots=True)
class Place:
    """Where one answer shows: the shared flow's `Surface`, and the pager's messages there."""

    client: AsyncWebClient
    settings: SlackSettings
    target: Target
    ts: str  # the message it answers (or the pressed one): the pane's status goes with it
    private: bool = False  # every notice for `target.user` alone (a press's: nobody else asked)

    async def show(self, pieces: AsyncGenerator[Piece, None], /) -> Last | None:
        shown = self.sink()
        await deliver(self._statused(pieces), shown,
                      f"slack channel={self.target.channel} thread={self.target.thread_ts}")
        return shown.last_message()

    async def say(self, said: Notice, /) -> None:
        await tell(self.client, self.target, replace(said, private=said.private or self.private))

    async def mark(self, last: Last, buttons: Sequence[Button], /) -> None:
        ts, part = last
        await update(self.client, self.target.channel, str(ts), str(part),
                     [{"type": "markdown", "text": part}, actions(buttons)])

    def sink(self) -> Sink:
        """A native stream where configured and possible (it needs a thread), else one message
        posted, then edited at most every `update_interval` s; long answers add messages."""
        settings = self.settings
        pager = Pager(self, markdown_pages, limit=settings.max_message_chars,
                      pace=Pace(settings.update_interval))
        if settings.streaming == "native" and self.target.thread_ts:
            return Appended(Streamed(self), lambda text: render.slack_markdown(
                text, render.SLACK_BLOCK_LIMIT), pager, settings.update_interval)
        return pager

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

    async def _statused(self, pieces: AsyncGenerator[Piece, None]
                        ) -> AsyncGenerator[Piece, None]:
        """The stream, with each tool's progress as the assistant pane's status."""
        async with contextlib.aclosing(pieces):
            async for piece in pieces:
                if not isinstance(piece, str):
                    await quietly(self.client.assistant_threads_setStatus(
                        channel_id=self.target.channel, thread_ts=self.target.thread_ts or self.ts,
                        status=assistant_status(piece)))
                yield piece


class Streamed:
    """Slack's chat streams (chat.startStream/appendStream/stopStream) as an `appending.Stream`."""

    def __init__(self, place: Place) -> None:
        self.place, self.target = place, place.target
        self.open: AsyncChatStream | None = None

    async def append(self, delta: str) -> str:
        if self.open is None:
            # buffer_size=1: every append is sent; `Appended` already paces them.
            self.open = await self.place.client.chat_stream(
                buffer_size=1, channel=self.target.channel, thread_ts=self.target.thread_ts or "",
                recipient_team_id=self.target.team, recipient_user_id=self.target.user)
        await _guard(self.open, self.open.append(markdown_text=delta))
        return str(self.open.ts)

    async def stop(self) -> None:
        opened, self.open = self.open, None
        if opened is not None:
            await _guard(opened, opened.stop())

    async def correct(self, message_id: str, part: str) -> None:
        """A streamed message whose rendering changed; what was streamed stays if refused."""
        try:
            await self.place.edit(message_id, part)
        except SlackApiError as exc:
            log.info("streamed message not corrected: %s", exc.response.get("error"))


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


@dataclass(slots=True)
class Pressed:
    """One press of a button under an answer (a `Pressing`), its message as the payload shows
    it; `place` is where that answer is, for the presser."""

    place: Place
    message: Mapping[str, Any]
    respond: AsyncRespond
    keep_partial: bool = True  # Slack's stop button: what the user saw stays the answer

    async def alert(self, text: str, /) -> None:
        if text:  # bolt acknowledged the press already
            await self.respond(text=text, response_type="ephemeral", replace_original=False)

    async def ack(self) -> None:
        """Nothing more: bolt acknowledged the press before the core was asked (3 s)."""

    async def unmark(self) -> None:
        kept = [b for b in self.message.get("blocks") or [] if b.get("type") != "actions"]
        await update(self.place.client, self.place.target.channel, str(self.message["ts"]),
                     str(self.message.get("text", "")), kept)

    def turn_id(self, target: str) -> str:
        return target  # a Slack Regenerate button carries its question's turn id itself

    def surface(self, question: str | None, /) -> Place:
        return replace(self.place, private=question is not None)  # regenerated: told privately


def actions(buttons: Sequence[Button]) -> dict[str, Any]:
    """The actions block of an answer's buttons (an action id is unique within its block)."""
    return {"type": "actions", "block_id": BLOCK_ID, "elements": [
        {"type": "button", "action_id": f"switchboard_answer_{index}", "value": button.data,
         "text": {"type": "plain_text", "text": button.label},
         **({"style": "primary"} if button.primary else {})}
        for index, button in enumerate(buttons)]}


async def update(client: AsyncWebClient, channel: str, ts: str, text: str,
                 blocks: list[dict[str, Any]]) -> None:
    """Change a message's buttons; without them, it is still an answer."""
    try:
        # `text` is the notification's fallback; the blocks are what is shown.
        await client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
    except SlackApiError as exc:
        log.info("buttons not changed: %s", exc.response.get("error"))

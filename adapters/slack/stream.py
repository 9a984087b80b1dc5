"""Slack's native stream (chat.startStream/appendStream/stopStream) for answers in threads.

Appended text cannot be taken back, so only what is final is appended; a message whose
rendering changed is corrected once complete, and a refused stream falls back to editing.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_chat_stream import AsyncChatStream
from slack_sdk.web.async_client import AsyncWebClient

from adapters import render
from adapters.pager import Pager
from adapters.slack.reply import Sink, Target, edited
from adapters.slack.settings import SlackSettings

log = logging.getLogger("switchboard.slack")
FENCE = "```"
# Prose free of anything Markdown reads as markup renders as itself, so it may stream by words.
_PROSE = re.compile(r"[^\W\d_][\w ,.;:'\"?()%/-]*")


class Stopped(Exception):
    """Slack ended the reply message (the user pressed stop, or the stream expired)."""


def sink(client: AsyncWebClient, target: Target, settings: SlackSettings) -> Sink:
    """A native stream where configured and possible, else one message edited as it grows."""
    pager = edited(client, target, settings.update_interval, settings.max_message_chars)
    # Native streams need a thread; top-level DM answers are edited instead.
    if settings.streaming == "native" and target.thread_ts:
        return Streamed(client, target, pager, settings.update_interval)
    return pager


def settled(answer: str) -> str:
    """The answer up to its last finished block: a blank line outside code, or the fence's end.

    Appended text cannot be taken back, and a block's Markdown is only final once it ends
    (`**bo` is literal until `ld**` comes), so a native stream takes whole blocks only.
    """
    end, pos, in_code = 0, 0, False
    for line in answer.split("\n")[:-1]:
        pos += len(line) + 1
        fence = line.lstrip().startswith(FENCE)
        in_code ^= fence
        if not in_code and (fence or not line.strip()):
            end = pos
    return answer[:end]


def streamable(answer: str) -> str:
    """Whole blocks, then the words of a block still being written while it is plain prose.

    A block can still change after its plain start (a `---` under it makes a heading): then
    its message is corrected once complete, as for any block whose rendering changed.
    """
    done = settled(answer)
    prose = _PROSE.match(answer, len(done))
    words = prose.group() if prose else ""
    return done + words[:words.rfind(" ") + 1]


@dataclass(slots=True)
class Streamed:
    """A native stream (chat.startStream/appendStream/stopStream), appended every `interval` s.

    The rendered answer is split at Slack's limit; each part is one streamed message, which
    grows by appends while its rendering only grows. If it changed instead (a list turning
    loose), the message is corrected with `chat.update` once its part is complete.
    """

    client: AsyncWebClient
    target: Target
    fallback: Pager[str, str]
    interval: float
    last: float = float("-inf")
    stream: AsyncChatStream | None = None
    sent: list[str] = field(default_factory=list)  # what each message shows, the last growing
    ts: list[str] = field(default_factory=list)
    refused: bool = False

    async def show(self, answer: str) -> None:
        if time.monotonic() - self.last < self.interval:
            return
        self.last = time.monotonic()
        if not self.refused:
            await self._sync(render.slack_markdown(streamable(answer), render.SLACK_BLOCK_LIMIT),
                             final=False)
        if self.refused:
            await self.fallback.show(answer)

    async def finish(self, answer: str) -> None:
        if not self.refused:
            await self._sync(render.slack_markdown(answer, render.SLACK_BLOCK_LIMIT), final=True)
            await self._stop()
        if self.refused:
            await self.fallback.finish(answer)

    async def _sync(self, parts: list[str], final: bool) -> None:
        for index, part in enumerate(parts):
            complete = final or index < len(parts) - 1
            if index < len(self.sent) - 1:
                if complete and part != self.sent[index]:
                    await self._correct(index, part)
                continue
            if index == len(self.sent):
                await self._stop()  # the previous part is complete: its message ends here
                self.sent.append("")
            await self._grow(part, complete)
            if self.refused:
                return

    async def _grow(self, part: str, complete: bool) -> None:
        """Append what is new in the current message; a changed one waits for its correction."""
        shown = self.sent[-1]
        if part.startswith(shown):
            await self._append(part[len(shown):])
        elif complete:
            await self._stop()
            await self._correct(len(self.sent) - 1, part)

    async def _append(self, delta: str) -> None:
        if not delta:
            return
        if self.stream is None:
            # buffer_size=1: every append is sent; `interval` already paces them.
            self.stream = await self.client.chat_stream(
                buffer_size=1, channel=self.target.channel, thread_ts=self.target.thread_ts or "",
                recipient_team_id=self.target.team, recipient_user_id=self.target.user)
        await self._guard(self.stream.append(markdown_text=delta))
        if self.stream.ts is not None and len(self.ts) < len(self.sent):
            self.ts.append(self.stream.ts)
        self.sent[-1] += delta

    async def _stop(self) -> None:
        if self.stream is not None and not self.refused:
            await self._guard(self.stream.stop())
        self.stream = None

    async def _correct(self, index: int, part: str) -> None:
        if index >= len(self.ts):
            return  # never started: nothing to correct
        try:
            await self.client.chat_update(channel=self.target.channel, ts=self.ts[index],
                                          markdown_text=part)
            self.sent[index] = part
        except SlackApiError as exc:  # what was streamed stays: readable, if less tidy
            log.info("streamed message not corrected: %s", exc.response.get("error"))

    async def _guard(self, call: Awaitable[object]) -> None:
        try:
            await call
        except SlackApiError as exc:
            error = exc.response.get("error")
            if self.stream is not None and self.stream.ts is not None:
                await _close(self.stream)
                raise Stopped(str(error)) from exc
            # startStream refused (not an AI app, or a place streams are not allowed).
            log.info("native streaming refused (%s); editing a message instead", error)
            self.refused = True


async def _close(stream: AsyncChatStream) -> None:
    """Stop a stream Slack ended (the user pressed stop), so it no longer shows as writing."""
    try:
        await stream.stop()
    except SlackApiError as exc:
        log.info("stream already closed: %s", exc.response.get("error"))

"""Showing a growing answer through an append-only stream (Slack's chat streams, say).

Appended text cannot be taken back, so only what is final is appended: whole Markdown blocks,
then the words of a plain-prose block still being written. The rendered answer is split at the
platform's limit; each part is one streamed message, which grows by appends while its rendering
only grows. If it changed instead (a list turning loose), the message is corrected with an edit
once its part is complete. A stream the platform refuses falls back to the edited `Pager`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from adapters.pager import Pager

FENCE = "```"
# Prose free of anything Markdown reads as markup renders as itself, so it may stream by words.
_PROSE = re.compile(r"[^\W\d_][\w ,.;:'\"?()%/-]*")


class Refused(Exception):
    """The platform will not stream here: the answer goes to the fallback pager."""


class Stopped(Exception):
    """The platform ended the stream midway (the user pressed stop, or it expired)."""


class Sink(Protocol):
    """What shows an answer as it grows: the edited `Pager`, or an `Appended` stream."""

    async def show(self, answer: str, /) -> None: ...
    async def finish(self, answer: str, /) -> None: ...
    def last_message(self) -> tuple[str, str] | None: ...


class Stream(Protocol):
    """A platform's streamed messages: one open at a time, each known by an id once started."""

    async def append(self, delta: str) -> str: ...  # opens a message if none is; returns its id
    async def stop(self) -> None: ...  # ends the open message, if any
    async def correct(self, message_id: str, part: str) -> None: ...  # replace an ended one


def settled(answer: str) -> str:
    """The answer up to its last finished block: a blank line outside code, or the fence's end.

    A block's Markdown is only final once it ends (`**bo` is literal until `ld**` comes).
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
class Appended:
    """Shows an answer through `stream`, at most every `interval` s; `render` splits it."""

    stream: Stream
    render: Callable[[str], list[str]]
    fallback: Pager[str, str]
    interval: float
    last: float = float("-inf")
    sent: list[str] = field(default_factory=list)  # what each message shows, the last growing
    ids: list[str] = field(default_factory=list)
    refused: bool = False

    async def show(self, answer: str) -> None:
        if time.monotonic() - self.last < self.interval:
            return
        self.last = time.monotonic()
        await self._try(self.render(streamable(answer)), final=False)
        if self.refused:
            await self.fallback.show(answer)

    async def finish(self, answer: str) -> None:
        await self._try(self.render(answer), final=True)
        if self.refused:
            await self.fallback.finish(answer)

    def last_message(self) -> tuple[str, str] | None:
        """The id and part of the answer's last message, whichever way it was shown."""
        if self.refused:
            return self.fallback.last_message()
        return (self.ids[-1], self.sent[len(self.ids) - 1]) if self.ids else None

    async def _try(self, parts: list[str], final: bool) -> None:
        if self.refused:
            return
        try:
            await self._sync(parts, final)
            if final:
                await self.stream.stop()
        except Refused:
            self.refused = True

    async def _sync(self, parts: list[str], final: bool) -> None:
        for index, part in enumerate(parts):
            complete = final or index < len(parts) - 1
            if index < len(self.sent) - 1:
                if complete and part != self.sent[index]:
                    await self._correct(index, part)
                continue
            if index == len(self.sent):
                await self.stream.stop()  # the previous part is complete: its message ends
                self.sent.append("")
            await self._grow(part, complete)

    async def _grow(self, part: str, complete: bool) -> None:
        """Append what is new in the current message; a changed one waits for its correction."""
        shown = self.sent[-1]
        if part.startswith(shown):
            if part != shown:
                message_id = await self.stream.append(part[len(shown):])
                if len(self.ids) < len(self.sent):
                    self.ids.append(message_id)
                self.sent[-1] = part
        elif complete:
            await self.stream.stop()
            await self._correct(len(self.sent) - 1, part)

    async def _correct(self, index: int, part: str) -> None:
        if index < len(self.ids):  # never started: nothing to correct
            await self.stream.correct(self.ids[index], part)
            self.sent[index] = part

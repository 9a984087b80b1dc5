"""One streaming pager: shows a growing answer on any platform by carrying out `paging.plan`."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, Generic, Protocol, TypeVar

from adapters.paging import Action, Edit, Pace, Render, Send, SentState, Wait, applied, plan, wait
from core.agent import Confirmation, ToolStatus

P = TypeVar("P")
M = TypeVar("M")
P_contra = TypeVar("P_contra", contravariant=True)
Busy = Callable[[], Coroutine[Any, Any, None]]
Piece = str | ToolStatus  # the answer's text, and its tools' progress between the pieces


class Platform(Protocol[P_contra, M]):
    """The three message requests the pager needs from a platform."""

    async def send(self, part: P_contra) -> M: ...
    async def edit(self, message_id: M, part: P_contra) -> None: ...
    async def delete(self, message_id: M) -> None: ...


class Pager(Generic[P, M]):
    """Runs `plan` against a platform: shows a growing answer, then gives it its final form.

    `busy`, if given, runs (a "typing…" indicator) until the first message is shown.
    """

    def __init__(self, platform: Platform[P, M], render: Render[P], *, limit: int, pace: Pace,
                 busy: Busy | None = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.platform, self.render, self.limit, self.pace = platform, render, limit, pace
        self.busy, self.clock, self.sleep = busy, clock, sleep
        self.sent: SentState[P, M] = SentState()

    @property
    def message_ids(self) -> list[M]:
        return [shown.message_id for shown in self.sent.messages]

    def last_message(self) -> tuple[M, P] | None:
        """The id and part of the answer's last message, once one was sent."""
        shown = self.sent.messages
        return (shown[-1].message_id, shown[-1].part) if shown else None

    async def show(self, text: str) -> None:
        """Show the answer so far, if the pace allows a request now."""
        await self._step(text, final=False)

    async def finish(self, text: str) -> None:
        """Give every message its final form, keeping to the pace."""
        while await self._step(text, final=True):
            pass

    async def run(self, stream: AsyncIterator[Piece]) -> str:
        """Show a stream as it grows, finish it, and return the whole answer.

        The model is read in its own task, so a platform's pace (flood limits, slow edits)
        never holds up the model stream or its deadline: each request shows the latest text.
        """
        answer = _Answer()
        reader = asyncio.create_task(answer.read(stream))
        busy = asyncio.create_task(self.busy()) if self.busy else None
        try:
            growing = True
            while growing:  # once more after the end: a failed answer shows what came first
                growing = await answer.grown(reader)
                await self.sleep(max(0.0, wait(self.sent, self.pace, self.clock())))
                await self.show(answer.shown)
                if busy and self.sent.messages:
                    busy.cancel()
            reader.result()  # the model's error, if it failed midway
        finally:
            if busy:
                busy.cancel()
            await _stop(reader)
        await self.finish(answer.text)
        return answer.text

    async def _step(self, text: str, final: bool) -> bool:
        """Make the planned requests; False when there was nothing to do."""
        if not final and wait(self.sent, self.pace, self.clock()) > 0:
            return False  # throttled: not even worth rendering (that is O(answer) per piece)
        actions = plan(self.render(text, self.limit), self.sent, final=final,
                       now=self.clock(), pace=self.pace)
        for action in actions:
            await self._do(action)
        return bool(actions)

    async def _do(self, action: Action[P, M]) -> None:
        new_id: M | None = None
        if isinstance(action, Wait):
            await self.sleep(action.seconds)
        elif isinstance(action, Send):
            new_id = await self.platform.send(action.part)
        elif isinstance(action, Edit):
            await self.platform.edit(action.message_id, action.part)
        else:
            await self.platform.delete(action.message_id)
        self.sent = applied(self.sent, action, self.clock(), new_id)


def status_line(status: ToolStatus) -> str:
    """What a growing answer shows under it while a tool runs: `_Using docs lookup…_`."""
    if status.state != "running":
        return ""
    return f"_Using {status.name.replace('__', ' ').replace('_', ' ')}…_"


class _Answer:
    """The answer so far, as the reader task received it; `grew` is also set when it ends."""

    def __init__(self) -> None:
        self.text, self.status = "", ""
        self.grew = asyncio.Event()

    @property
    def shown(self) -> str:
        """The text, and while a tool runs, a line saying so (never part of the answer)."""
        return f"{self.text}\n\n{self.status}" if self.status else self.text

    async def read(self, stream: AsyncIterator[Piece]) -> None:
        try:
            async for piece in stream:
                if isinstance(piece, str):
                    self.text += piece
                    self.status = ""
                elif status_line(piece) or self.text:
                    # Until text comes, the last tool's line stays: a message that showed only
                    # it would otherwise be deleted, then sent again with the first words.
                    self.status = status_line(piece)
                self.grew.set()
        finally:
            self.grew.set()

    async def grown(self, reader: asyncio.Task[None]) -> bool:
        """Wait until the answer grew (True) or the reader ended (False)."""
        await self.grew.wait()
        self.grew.clear()
        return not reader.done()


async def _stop(reader: asyncio.Task[None]) -> None:
    # asyncio.wait, not `await reader`: our own cancellation must still propagate.
    reader.cancel()
    await asyncio.wait([reader])
    if not reader.cancelled():
        reader.exception()  # retrieved: reader.result() or the step's error already reports it


class Watched:
    """A stream that notes whether it ran to its end, or the error that ended it, and the
    write tool it ended asking about (then its buttons are Approve and Deny)."""

    def __init__(self, stream: AsyncGenerator[Piece, None]) -> None:
        self.stream, self.done = stream, False
        self.error: Exception | None = None
        self.asked: Confirmation | None = None

    async def pieces(self) -> AsyncGenerator[Piece, None]:
        try:
            async with contextlib.aclosing(self.stream) as pieces:
                async for piece in pieces:
                    if isinstance(piece, Confirmation):
                        self.asked = piece
                    yield piece
        except Exception as exc:
            self.error = exc
            raise
        self.done = True


Say = Callable[[str], Awaitable[object]]  # how a platform sends a notice

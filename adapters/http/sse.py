"""Server-Sent Events for streamed replies: JSON payloads, and a disconnect cancels the turn."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from adapters.failures import notice
from adapters.http.errors import DUPLICATE
from adapters.http.render_web import web
from adapters.pager import Piece
from core.agent import Confirmation, ToolStatus

_END = object()


def event(name: str, data: object) -> str:
    # ASCII-only JSON on one line: newlines, quotes and any Unicode survive every SSE client.
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


class Relay:
    """Runs one reply stream in a task of its own, so a disconnect cancels it exactly once."""

    def __init__(self, source: AsyncIterator[Piece]) -> None:
        self.queue: asyncio.Queue[object] = asyncio.Queue(maxsize=256)
        self.task = asyncio.create_task(self._pump(source))

    async def _pump(self, source: AsyncIterator[Piece]) -> None:
        try:
            async for piece in source:
                await self.queue.put(piece)
        except Exception as exc:  # handed to the reader, which turns it into a response
            await self.queue.put(exc)
            return
        await self.queue.put(_END)

    async def next(self) -> Piece | None:
        """The next piece; None once the turn is stored; raises what the stream raised."""
        item = await self.queue.get()
        if isinstance(item, Exception):
            raise item
        return item if isinstance(item, str | ToolStatus) else None

    async def batch(self) -> list[object]:
        """The next item and every one already queued behind it: the reader writes them at
        once, so a burst of model chunks costs one socket write, not one each."""
        items = [await self.queue.get()]
        while not self.queue.empty() and isinstance(items[-1], str | ToolStatus):
            items.append(self.queue.get_nowait())
        return items

    async def cancel(self) -> None:
        """Stop the turn (the core then stores nothing) and wait until its lock is given back."""
        self.task.cancel()
        await asyncio.wait([self.task])


def confirmation(asked: Confirmation) -> dict[str, str]:
    """A write tool call waiting for the user, as the `confirm` event and `ChatOut` show it."""
    return {"id": asked.id, "tool": asked.name, "summary": asked.summary}


def _render(items: list[object], parts: list[str]) -> tuple[str, bool, Exception | None]:
    """The SSE text of a batch of pieces; whether the stream ended, and how it failed."""
    out: list[str] = []
    for item in items:
        if isinstance(item, Exception):
            return "".join(out), True, item
        if isinstance(item, ToolStatus):
            out.append(event("tool", {"name": item.name, "state": item.state}))
            if isinstance(item, Confirmation):
                out.append(event("confirm", confirmation(item)))
        elif isinstance(item, str):
            parts.append(item)
            out.append(event("token", {"text": item}))
        else:  # the end: the turn is stored
            return "".join(out), True, None
    return "".join(out), False, None


async def events(relay: Relay, session_id: str, first: Piece | None,
                 finish: Callable[[], Awaitable[int]]) -> AsyncIterator[str]:
    """`session`, then `token`s (and `tool` progress; `confirm` when a write tool waits for the
    user), then `done` with the full reply (and its tree), or `error`."""
    yield event("session", {"session_id": session_id})
    parts: list[str] = []
    batch: list[object] = [first]
    while True:
        text, ended, failure = _render(batch, parts)
        if text:
            yield text
        if ended:
            break
        batch = await relay.batch()
    try:
        if failure is not None:
            raise failure
        reply = "".join(parts)
        done = {"session_id": session_id, "reply": reply, "turn_count": await finish(),
                "rendered": web(reply)}  # the page shows the same parse as every platform
    except Exception as exc:  # the stream has begun: the failure is its last event
        said = notice(exc, where=f"http stream session={session_id}")
        yield event("error", {"error": said.text or DUPLICATE})
        return
    yield event("done", done)


class EventStream(StreamingResponse):
    """A `text/event-stream` response that cancels its relay however the response ends."""

    def __init__(self, relay: Relay, body: AsyncIterator[str]) -> None:
        super().__init__(body, media_type="text/event-stream",
                         headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
        self.relay = relay

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.relay.cancel()

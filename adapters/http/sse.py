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

    async def cancel(self) -> None:
        """Stop the turn (the core then stores nothing) and wait until its lock is given back."""
        self.task.cancel()
        await asyncio.wait([self.task])


def confirmation(asked: Confirmation) -> dict[str, str]:
    """A write tool call waiting for the user, as the `confirm` event and `ChatOut` show it."""
    return {"id": asked.id, "tool": asked.name, "summary": asked.summary}


async def events(relay: Relay, session_id: str, first: Piece | None,
                 finish: Callable[[], Awaitable[int]]) -> AsyncIterator[str]:
    """`session`, then `token`s (and `tool` progress; `confirm` when a write tool waits for the
    user), then `done` with the full reply (and its tree), or `error`."""
    yield event("session", {"session_id": session_id})
    parts, piece = [], first
    try:
        while piece is not None:
            if isinstance(piece, ToolStatus):
                yield event("tool", {"name": piece.name, "state": piece.state})
                if isinstance(piece, Confirmation):
                    yield event("confirm", confirmation(piece))
            else:
                parts.append(piece)
                yield event("token", {"text": piece})
            piece = await relay.next()
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

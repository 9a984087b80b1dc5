"""Answering a write tool's confirmation over HTTP: the reply collected, the refusals mapped."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from fastapi.responses import JSONResponse

from adapters.http import schemas as s
from adapters.http.errors import error, from_core
from adapters.http.sse import confirmation
from core.agent import Confirmation, ToolStatus
from core.confirm import waiting
from core.errors import DuplicateTurn, NotYourConfirmation, SwitchboardError, UnknownConfirmation
from core.messages import StoredMessage


async def collected(pieces: AsyncIterator[str | ToolStatus]
                     ) -> tuple[str, s.ConfirmationOut | None]:
    """The whole reply, and the write tool call it waits for, if any."""
    parts, asked = [], None
    async for piece in pieces:
        if isinstance(piece, Confirmation):
            asked = s.ConfirmationOut(**confirmation(piece))
        elif isinstance(piece, str):
            parts.append(piece)
    return "".join(parts), asked


def refused(exc: SwitchboardError) -> JSONResponse:
    """404 expired or unknown, 403 not the asker's, 409 already answered; else as usual."""
    if isinstance(exc, DuplicateTurn):
        return error(409, "this confirmation was already answered")
    if isinstance(exc, UnknownConfirmation | NotYourConfirmation):
        return error(exc.http_status, exc.user_message)
    return from_core(exc)


def still_waiting(messages: list[s.MessageOut], last: StoredMessage, ttl: float) -> None:
    """Mark the last answer with the write tool call it still waits for (a reload shows it)."""
    pending = waiting(last, time.time(), ttl) if last.role == "ai" else None
    if pending is not None and messages:
        messages[-1].confirmation = s.ConfirmationOut(id=pending.id, tool=pending.name,
                                                      summary=pending.summary)

"""Answering a write tool's confirmation over HTTP: the reply collected, the refusals mapped."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi.responses import JSONResponse

from adapters.http import schemas as s
from adapters.http.errors import error, from_core
from adapters.http.sse import confirmation
from core.agent import Confirmation, ToolStatus
from core.errors import DuplicateTurn, NotYourConfirmation, SwitchboardError, UnknownConfirmation


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

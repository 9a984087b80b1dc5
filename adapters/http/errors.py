"""Every failure as a short JSON `{"error": "..."}` with a fitting status, never a traceback."""

from __future__ import annotations

import math

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from adapters.failures import notice
from adapters.http.auth import AuthError
from core.errors import (
    BudgetExceeded,
    ConversationBusy,
    DuplicateTurn,
    ModelError,
    ModelTimeout,
    NotLastAnswer,
    Overloaded,
    RateLimited,
    StoreUnavailable,
    SwitchboardError,
    UserError,
)

# Most specific first: the first matching class decides the status.
_STATUS: tuple[tuple[type[SwitchboardError], int], ...] = (
    (RateLimited, 429), (BudgetExceeded, 429), (NotLastAnswer, 409), (UserError, 422),
    (DuplicateTurn, 409), (ConversationBusy, 409), (Overloaded, 503), (StoreUnavailable, 503),
    (ModelTimeout, 504), (ModelError, 502))
DUPLICATE = "this Idempotency-Key was already answered in this conversation"


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def status_of(exc: SwitchboardError) -> int:
    status = getattr(exc, "http_status", None)  # files: 413, 415, 422; linking: 400, 409, 410
    if isinstance(status, int):
        return status
    return next((code for kind, code in _STATUS if isinstance(exc, kind)), 500)


def from_core(exc: SwitchboardError) -> JSONResponse:
    """The response for an error the core raised on purpose."""
    if isinstance(exc, RateLimited | BudgetExceeded | Overloaded):
        wait = str(max(1, math.ceil(exc.retry_after)))
        return error(status_of(exc), notice(exc).text, {"Retry-After": wait})
    if isinstance(exc, DuplicateTurn):
        return error(409, DUPLICATE)
    return error(status_of(exc), notice(exc, where="http core error").text)


async def _core(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SwitchboardError)
    return from_core(exc)


async def _auth(request: Request, exc: Exception) -> JSONResponse:
    return error(401, str(exc), {"WWW-Authenticate": "Bearer"})


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    return error(exc.status_code, message.lower(), dict(exc.headers or {}))


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    return error(422, f"{where or 'request'}: {first.get('msg', 'invalid')}"[:200])


async def _bug(request: Request, exc: Exception) -> JSONResponse:
    return error(500, notice(exc, where=f"http {request.method} {request.url.path}").text)


def install(app: FastAPI) -> None:
    app.add_exception_handler(SwitchboardError, _core)
    app.add_exception_handler(AuthError, _auth)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(Exception, _bug)

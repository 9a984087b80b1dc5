"""What every route depends on: the caller (checked by the app's Verifier) and the service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from adapters.http import schemas as s
from adapters.http.auth import Verifier
from core.keys import UserKey
from core.service import ChatService

# Declares the bearer scheme in OpenAPI; the Verifier does the checking.
_bearer = HTTPBearer(auto_error=False, description="A JWT: `switchboard token --user NAME`")
SessionId = Annotated[str, Path(pattern=s.SESSION_ID)]
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", pattern=s.IDEMPOTENCY_KEY)]


def not_found() -> HTTPException:
    return HTTPException(404, "no such conversation")


def service_of(request: Request) -> ChatService:
    service: ChatService = request.app.state.service
    return service


async def caller_of(request: Request,
                  _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> UserKey:
    verifier: Verifier = request.app.state.verifier
    return await verifier(request)


Service = Annotated[ChatService, Depends(service_of)]
Caller = Annotated[UserKey, Depends(caller_of)]

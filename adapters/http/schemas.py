"""Request and response bodies of the HTTP API, as they appear in its OpenAPI schema."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SESSION_ID = r"^[A-Za-z0-9_-]{1,64}$"
IDEMPOTENCY_KEY = r"^[!-~]{1,128}$"  # printable ASCII, no spaces


class ChatIn(BaseModel):
    """One message; without `session_id` it starts a new conversation owned by the caller."""

    model_config = ConfigDict(extra="forbid")
    message: str = Field(description="The user's message (limit: SWITCHBOARD_MAX_INPUT_CHARS).")
    session_id: str | None = Field(None, pattern=SESSION_ID)


class ChatOut(BaseModel):
    session_id: str
    reply: str
    turn_count: int


class SessionOut(BaseModel):
    session_id: str
    title: str
    messages: int
    created: int = Field(description="Unix seconds.")
    updated: int = Field(description="Unix seconds.")


class SessionsOut(BaseModel):
    sessions: list[SessionOut]


class MessageOut(BaseModel):
    role: Literal["human", "ai"]
    text: str
    at: int = Field(description="Unix seconds.")
    rendered: list[dict[str, Any]] | None = Field(
        None, description="An answer's Markdown as the web page's block tree (`render_web`).")


class MessagesOut(BaseModel):
    session_id: str
    messages: list[MessageOut]


class ErasedOut(BaseModel):
    erased: int = Field(description="Conversations removed.")


class ErrorOut(BaseModel):
    error: str


class HealthOut(BaseModel):
    status: str
    checks: dict[str, str] = Field(default_factory=dict)


_E: dict[str, object] = {"model": ErrorOut}
AUTH_ERRORS: dict[int | str, dict[str, object]] = {401: {**_E, "description": "Bad token"}}
TURN_ERRORS: dict[int | str, dict[str, object]] = {
    **AUTH_ERRORS, 409: _E, 413: _E, 422: _E, 429: _E, 502: _E, 503: _E, 504: _E}
FOUND_ERRORS: dict[int | str, dict[str, object]] = {**AUTH_ERRORS, 404: _E, 422: _E, 503: _E}

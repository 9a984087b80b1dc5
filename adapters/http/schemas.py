"""Request and response bodies of the HTTP API, as they appear in its OpenAPI schema."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Base64Bytes, BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

SESSION_ID = r"^[A-Za-z0-9_-]{1,64}$"
IDEMPOTENCY_KEY = r"^[!-~]{1,128}$"  # printable ASCII, no spaces
CHOICE = r"^[A-Za-z0-9_.-]{1,40}$"  # a preset or persona name, as the configuration file allows
CONFIRMATION_ID = r"^[0-9a-f]{18}$"


class AttachmentIn(BaseModel):
    """A file sent with the message; its type is read from its bytes, not from these fields."""

    model_config = ConfigDict(extra="forbid")
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field("", max_length=255)
    data: Base64Bytes = Field(description="The file's bytes, base64-encoded.")


class ChatIn(BaseModel):
    """One message; without `session_id` it starts a new conversation owned by the caller."""

    model_config = ConfigDict(extra="forbid")
    message: str = Field(description="The user's message (limit: SWITCHBOARD_MAX_INPUT_CHARS); "
                                     "may be empty when files are attached.")
    session_id: str | None = Field(None, pattern=SESSION_ID)
    model: str | None = Field(None, pattern=CHOICE, description="A preset from `GET /v1/models`; "
                              "it then stays with the conversation.")
    persona: str | None = Field(None, pattern=CHOICE, description="A persona from "
                                "`GET /v1/models`; it then stays with the conversation.")
    attachments: list[AttachmentIn] = Field(
        default_factory=list, description="Images, voice notes, PDFs or text files "
        "(limits: SWITCHBOARD_MAX_ATTACHMENTS, SWITCHBOARD_MAX_ATTACHMENT_BYTES).")


FORM: dict[str, Any] = {  # the same message as multipart/form-data, files as parts
    "type": "object", "required": ["message"], "properties": {
        "message": {"type": "string"},
        "session_id": {"type": "string", "pattern": SESSION_ID},
        "model": {"type": "string", "pattern": CHOICE},
        "persona": {"type": "string", "pattern": CHOICE},
        "files": {"type": "array", "items": {"type": "string", "format": "binary"}}}}


def components() -> dict[str, Any]:
    """The JSON body's models for the schema's components (FastAPI sees no body parameter)."""
    _, found = models_json_schema([(ChatIn, "validation")],
                                  ref_template="#/components/schemas/{model}")
    return dict(found["$defs"])


CHAT_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/ChatIn"}},
    "multipart/form-data": {"schema": FORM}}}}


class ConfirmationOut(BaseModel):
    """A write tool call waiting for the caller: answer it with `POST
    /v1/sessions/{id}/confirm`. `summary` is the model's arguments as one clipped line."""

    id: str
    tool: str
    summary: str


class ConfirmIn(BaseModel):
    """The caller's answer to a write tool call the reply asked them to confirm."""

    model_config = ConfigDict(extra="forbid")
    confirmation: str = Field(pattern=CONFIRMATION_ID, description="The `confirm` event's id.")
    approve: bool = Field(description="true runs the tool; false tells the model it was refused.")


class ChatOut(BaseModel):
    session_id: str
    reply: str
    turn_count: int
    confirmation: ConfirmationOut | None = Field(
        None, description="Set when the reply waits for the caller to confirm a write tool.")


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
    files: list[str] = Field(default_factory=list, description="A user message's documents, "
                             "by name; their text is not repeated here.")
    images: int = Field(0, description="How many images came with a user message.")
    confirmation: ConfirmationOut | None = Field(
        None, description="On the last answer: the write tool call it still waits for.")


class MessagesOut(BaseModel):
    session_id: str
    messages: list[MessageOut]


class OptionOut(BaseModel):
    name: str
    description: str


class ModelsOut(BaseModel):
    """What the caller's conversations may use: `model` and `persona` take these names."""

    models: list[OptionOut]
    personas: list[OptionOut]


class ErasedOut(BaseModel):
    erased: int = Field(description="Conversations removed.")


class PeriodOut(BaseModel):
    tokens: int = Field(description="Tokens used in this UTC period (prompt and completion).")
    limit: int | None = Field(description="The caller's token budget for it (their role's, "
                              "else SWITCHBOARD_TOKEN_BUDGET); null: none.")
    resets_at: datetime = Field(description="When the period ends (UTC).")
    cost: float | None = Field(None, description="What its tokens cost; null: no prices.")
    voice_seconds: int = Field(0, description="Seconds of voice notes transcribed.")
    tool_calls: int = Field(0, description="Tool calls the answers made.")


class UsageOut(BaseModel):
    """The caller's model tokens today and this month; `cost` is this month's, by the
    presets' prices (null when no preset has prices)."""

    day: PeriodOut
    month: PeriodOut
    cost: float | None = None
    currency: str | None = Field(None, description="Of every cost; null: no prices.")


class PlatformOut(BaseModel):
    platform: str
    tokens: int
    tokens_in: int
    tokens_out: int
    cost: float | None


class TotalsPeriodOut(BaseModel):
    tokens: int
    cost: float | None
    resets_at: datetime
    platforms: list[PlatformOut] = Field(description="Busiest first.")


class TotalsOut(BaseModel):
    """Everyone's model tokens and cost per platform today and this month (admins only)."""

    day: TotalsPeriodOut
    month: TotalsPeriodOut
    currency: str | None = None


class LinkIn(BaseModel):
    """A code made with `/link` (or `POST /v1/me/link-code`) on the caller's other account."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=40, description="8 characters; case, spaces "
                      "and dashes are ignored.")


class CodeOut(BaseModel):
    code: str = Field(description="Send it from your other account within 10 minutes; once.")
    expires_at: datetime


class IdentityOut(BaseModel):
    platform: str
    id: str = Field(description="The account's key, like `telegram:42` or `api:ana`.")


class IdentitiesOut(BaseModel):
    """The caller's linked accounts: shown only to the caller."""

    identities: list[IdentityOut]
    linked: bool


class ErrorOut(BaseModel):
    error: str


class HealthOut(BaseModel):
    status: str
    checks: dict[str, str] = Field(default_factory=dict)


_E: dict[str, object] = {"model": ErrorOut}
ERROR = _E
AUTH_ERRORS: dict[int | str, dict[str, object]] = {401: {**_E, "description": "Bad token"}}
TURN_ERRORS: dict[int | str, dict[str, object]] = {
    **AUTH_ERRORS, 409: _E, 413: _E, 415: _E, 422: _E, 429: _E, 502: _E, 503: _E, 504: _E}
ADMIN_ERRORS: dict[int | str, dict[str, object]] = {**AUTH_ERRORS, 403: _E, 503: _E}
FOUND_ERRORS: dict[int | str, dict[str, object]] = {**AUTH_ERRORS, 404: _E, 422: _E, 503: _E}
CONFIRM_ERRORS: dict[int | str, dict[str, object]] = {
    **FOUND_ERRORS, 403: _E, 409: {**_E, "description": "Already answered"}, 429: _E, 502: _E,
    504: _E}
LINK_ERRORS: dict[int | str, dict[str, object]] = {
    **AUTH_ERRORS, 400: _E, 409: _E, 410: _E, 422: _E, 429: _E, 503: _E}

"""The chat request's body, as JSON or as multipart/form-data, made into one `ChatRequest`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from adapters.http import schemas as s
from core.attachments import Upload, check_size

JSON, FORM = "application/json", "multipart/form-data"


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One message and its files, however they came."""

    message: str
    session_id: str | None
    uploads: tuple[Upload, ...] = ()
    model: str | None = None
    persona: str | None = None


async def chat_request(request: Request) -> ChatRequest:
    """Read the body by its Content-Type; 415 for any other, 422 for a malformed one."""
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind == FORM:
        return await _form(request)
    if kind != JSON:
        raise HTTPException(415, f"send {JSON} or {FORM}")
    try:
        body = s.ChatIn.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None
    uploads = (Upload(a.filename, a.data, a.content_type) for a in body.attachments)
    return ChatRequest(body.message, body.session_id, tuple(uploads), body.model, body.persona)


async def _form(request: Request) -> ChatRequest:
    limits = request.app.state.service.settings.limits
    async with request.form(max_fields=16) as form:
        message = form.get("message")
        if not isinstance(message, str):
            raise _invalid("message", "Field required")
        session_id, model, persona = (_field(form.get(name), name, pattern) for name, pattern in
                                      (("session_id", s.SESSION_ID), ("model", s.CHOICE),
                                       ("persona", s.CHOICE)))
        files = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
        for file in files:
            check_size(file.size, limits)  # before reading it into memory
        uploads = [Upload(f.filename or "file", await f.read(), f.content_type or "")
                   for f in files]
    return ChatRequest(message, session_id, tuple(uploads), model, persona)


def _field(value: object, name: str, pattern: str) -> str | None:
    """An optional text field of the form, checked as the JSON body's would be."""
    if value is None:
        return None
    if not isinstance(value, str) or not re.match(pattern, value):
        raise _invalid(name, f"String should match pattern '{pattern}'")
    return value


def _invalid(field: str, problem: str) -> RequestValidationError:
    error: dict[str, Any] = {"loc": (field,), "msg": problem, "type": "value_error"}
    return RequestValidationError([error])

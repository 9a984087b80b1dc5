"""The `/v1` routes: translate HTTP to `ChatService` calls and back, nothing more."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Query, Response

from adapters.http import schemas as s
from adapters.http.bodies import ChatRequest, chat_request
from adapters.http.confirming import collected, refused, still_waiting
from adapters.http.deps import Caller, IdemKey, Service, SessionId, not_found
from adapters.http.errors import from_core
from adapters.http.me import me_router
from adapters.http.render_web import web
from adapters.http.sse import EventStream, Relay, events
from core.agent import ToolStatus
from core.errors import SwitchboardError
from core.inputs import as_sent
from core.keys import SessionKey, Speaker, UserKey
from core.messages import StoredMessage
from core.service import ChatService, Turn

Body = Annotated[ChatRequest, Depends(chat_request)]  # after Caller: no parsing before auth


def _session_id(user: UserKey, idempotency_key: str | None) -> str:
    # A retried request with the same key lands in the same new conversation and is deduplicated.
    if idempotency_key is None:
        return uuid.uuid4().hex
    return hashlib.sha256(f"{user}\n{idempotency_key}".encode()).hexdigest()[:32]


def _turn(user: UserKey, body: ChatRequest, idempotency_key: str | None) -> tuple[Turn, str]:
    sid = body.session_id or _session_id(user, idempotency_key)
    speaker = Speaker(user, unquote(user.parts[0]), "the HTTP API")
    turn = Turn(SessionKey.api(user, sid), speaker, body.message, uploads=body.uploads)
    if idempotency_key is not None:
        turn = replace(turn, turn_id=idempotency_key)
    return turn, sid


async def _turn_count(service: ChatService, session: SessionKey) -> int:
    info = await service.info(session)
    return info.messages // 2 if info else 0


async def _chosen(service: ChatService, turn: Turn, body: ChatRequest) -> None:
    """Keep the request's model and persona with the conversation (422 for unknown names)."""
    if body.model is not None or body.persona is not None:
        await service.choose(turn.session, model=body.model, persona=body.persona)


async def chat(user: Caller, body: Body, service: Service,
               idempotency_key: IdemKey = None) -> s.ChatOut:
    """Send a message and get the whole reply (and, when a write tool waits for the caller's
    confirmation, its `confirmation`)."""
    turn, sid = _turn(user, body, idempotency_key)
    await _chosen(service, turn, body)
    reply, asked = (await collected(service.events(turn)) if service.tools
                    else (await service.reply(turn), None))
    return s.ChatOut(session_id=sid, reply=reply, confirmation=asked,
                     turn_count=await _turn_count(service, turn.session))


async def chat_stream(user: Caller, body: Body, service: Service,
                      idempotency_key: IdemKey = None) -> Response:
    """Send a message; the reply streams as Server-Sent Events `session`, `token`*, `done`;
    `tool` events (`{"name", "state"}`) tell of the tools it uses, between the tokens; a
    `confirm` event (`{"id", "tool", "summary"}`) asks for `POST .../confirm` on a write tool.

    A failure after the stream began arrives as an `error` event; one before, as a JSON error.
    """
    turn, sid = _turn(user, body, idempotency_key)
    await _chosen(service, turn, body)
    relay = Relay(service.events(turn))
    try:
        first = await relay.next()
    except BaseException as exc:
        await relay.cancel()
        if isinstance(exc, SwitchboardError):
            return from_core(exc)
        raise
    return EventStream(relay, events(relay, sid, first,
                                     lambda: _turn_count(service, turn.session)))


async def models(user: Caller, service: Service) -> s.ModelsOut:
    """The presets and personas the caller may pass as `model` and `persona`."""
    menu = service.menu(SessionKey.api(user, "-"))
    return s.ModelsOut(
        models=[s.OptionOut(name=o.name, description=o.description) for o in menu.models],
        personas=[s.OptionOut(name=o.name, description=o.description) for o in menu.personas])


async def list_sessions(user: Caller, service: Service) -> s.SessionsOut:
    """The caller's conversations, most recently used first."""
    prefix = str(SessionKey.api(user, "-"))[:-1]
    infos = [i for i in await service.sessions(user) if i.session_id.startswith(prefix)]
    return s.SessionsOut(sessions=[
        s.SessionOut(session_id=i.session_id.removeprefix(prefix), title=i.title,
                     messages=i.messages, created=i.created, updated=i.updated) for i in infos])


async def messages(session_id: SessionId, user: Caller, service: Service,
                   limit: Annotated[int, Query(ge=1, le=500)] = 100) -> s.MessagesOut:
    """The last `limit` messages of one of the caller's conversations, oldest first."""
    stored = await service.history(SessionKey.api(user, session_id), limit)
    if not stored:
        raise not_found()
    shown = [_human(m) if m.role == "human" else
             s.MessageOut(role="ai", text=m.text, at=m.at, rendered=web(m.text)) for m in stored]
    still_waiting(shown, stored[-1], service.confirm_ttl)
    return s.MessagesOut(session_id=session_id, messages=shown)


def _human(message: StoredMessage) -> s.MessageOut:
    """What the user sent: their words, and the files by name (not their extracted text)."""
    sent = as_sent(message.text, len(message.files))
    return s.MessageOut(role="human", text=sent.text, at=message.at, files=list(sent.files),
                        images=sent.images)


async def regenerate(session_id: SessionId, user: Caller, service: Service,
                     idempotency_key: IdemKey = None) -> s.ChatOut:
    """Answer the conversation's last question again, in place of its last answer.

    409 if there is no answer to replace; the same Idempotency-Key twice regenerates once.
    """
    session = SessionKey.api(user, session_id)
    if not await service.history(session, 1):
        raise not_found()
    speaker = Speaker(user, unquote(user.parts[0]), "the HTTP API")
    press = idempotency_key or uuid.uuid4().hex
    reply = "".join([p async for p in service.regenerate(session, speaker, None, press)
                     if isinstance(p, str)])
    return s.ChatOut(session_id=session_id, reply=reply,
                     turn_count=await _turn_count(service, session))


def _answer(session_id: str, user: UserKey, body: s.ConfirmIn, service: ChatService
            ) -> AsyncIterator[str | ToolStatus]:
    speaker = Speaker(user, unquote(user.parts[0]), "the HTTP API")
    return service.confirm(SessionKey.api(user, session_id), speaker, body.confirmation,
                           body.approve, uuid.uuid4().hex)


async def confirm(session_id: SessionId, user: Caller, body: s.ConfirmIn,
                  service: Service) -> s.ChatOut | Response:
    """Answer a `confirm` event: run the write tool (`approve`) or refuse it, and get the
    reply that goes on. 404 if it expired or a message came since, 409 if already answered."""
    try:
        reply, asked = await collected(_answer(session_id, user, body, service))
    except SwitchboardError as exc:
        return refused(exc)
    session = SessionKey.api(user, session_id)
    return s.ChatOut(session_id=session_id, reply=reply, confirmation=asked,
                     turn_count=await _turn_count(service, session))


async def confirm_stream(session_id: SessionId, user: Caller, body: s.ConfirmIn,
                         service: Service) -> Response:
    """`confirm`, with the reply streamed as `POST /v1/chat/stream` streams it."""
    relay = Relay(_answer(session_id, user, body, service))
    try:
        first = await relay.next()
    except BaseException as exc:
        await relay.cancel()
        if isinstance(exc, SwitchboardError):
            return refused(exc)
        raise
    session = SessionKey.api(user, session_id)
    return EventStream(relay, events(relay, session_id, first,
                                     lambda: _turn_count(service, session)))


async def delete_session(session_id: SessionId, user: Caller, service: Service) -> Response:
    """Forget one of the caller's conversations."""
    session = SessionKey.api(user, session_id)
    if not await service.history(session, 1):
        raise not_found()
    await service.reset(session, user)
    return Response(status_code=204)


def api_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["chat"])
    router.add_api_route("/chat", chat, methods=["POST"], responses=s.TURN_ERRORS,
                         openapi_extra=s.CHAT_BODY)
    router.add_api_route("/chat/stream", chat_stream, methods=["POST"], responses={
        **s.TURN_ERRORS, 200: {"content": {"text/event-stream": {}}}}, openapi_extra=s.CHAT_BODY)
    router.add_api_route("/models", models, methods=["GET"], responses=s.AUTH_ERRORS)
    router.add_api_route("/sessions", list_sessions, methods=["GET"], responses=s.AUTH_ERRORS)
    router.add_api_route("/sessions/{session_id}/messages", messages, methods=["GET"],
                         responses=s.FOUND_ERRORS)
    router.add_api_route("/sessions/{session_id}/regenerate", regenerate, methods=["POST"],
                         responses={**s.FOUND_ERRORS, 409: s.ERROR, 429: s.ERROR, 502: s.ERROR})
    router.add_api_route("/sessions/{session_id}/confirm", confirm, methods=["POST"],
                         response_model=s.ChatOut, responses=s.CONFIRM_ERRORS)
    router.add_api_route("/sessions/{session_id}/confirm/stream", confirm_stream,
                         methods=["POST"], responses={
                             **s.CONFIRM_ERRORS, 200: {"content": {"text/event-stream": {}}}})
    router.add_api_route("/sessions/{session_id}", delete_session, methods=["DELETE"],
                         status_code=204, responses=s.FOUND_ERRORS)
    router.include_router(me_router())
    return router

"""The `/v1` routes: translate HTTP to `ChatService` calls and back, nothing more."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from adapters.http import schemas as s
from adapters.http.auth import Verifier
from adapters.http.bodies import ChatRequest, chat_request
from adapters.http.confirming import collected, refused, still_waiting
from adapters.http.errors import from_core
from adapters.http.render_web import web
from adapters.http.sse import EventStream, Relay, events
from core import export
from core.agent import ToolStatus
from core.errors import SwitchboardError
from core.inputs import as_sent
from core.keys import SessionKey, Speaker, UserKey
from core.links import Person
from core.messages import StoredMessage
from core.service import ChatService, Turn
from core.totals import PeriodTotals
from core.usage import Period

# Declares the bearer scheme in OpenAPI; the Verifier does the checking.
_bearer = HTTPBearer(auto_error=False, description="A JWT: `switchboard token --user NAME`")
SessionId = Annotated[str, Path(pattern=s.SESSION_ID)]
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", pattern=s.IDEMPOTENCY_KEY)]


def _not_found() -> HTTPException:
    return HTTPException(404, "no such conversation")


def _service(request: Request) -> ChatService:
    service: ChatService = request.app.state.service
    return service


async def _caller(request: Request,
                  _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> UserKey:
    verifier: Verifier = request.app.state.verifier
    return await verifier(request)


Service = Annotated[ChatService, Depends(_service)]
Caller = Annotated[UserKey, Depends(_caller)]
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
        raise _not_found()
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
        raise _not_found()
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
        raise _not_found()
    await service.reset(session, user)
    return Response(status_code=204)


async def forget_me(user: Caller, service: Service) -> s.ErasedOut:
    """Erase everything kept about the caller: conversations, rate-limit state, index."""
    return s.ErasedOut(erased=await service.forget(user))


async def export_me(user: Caller, service: Service) -> StreamingResponse:
    """Everything kept about the caller as one JSON file, streamed (format: core/export.py)."""
    name = export.file_name(time.time())
    return StreamingResponse(await export.started(service.export(user)),
                             media_type="application/json",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


async def my_usage(user: Caller, service: Service) -> s.UsageOut:
    """The caller's model tokens today and this month (UTC), their limits, resets and cost."""
    used = await service.usage(user)
    return s.UsageOut(day=_period(used.day), month=_period(used.month), cost=used.cost,
                      currency=used.currency)


async def link_code(user: Caller, service: Service) -> s.CodeOut:
    """A one-time code (10 minutes) to link another account: send `/link CODE` there, or
    `POST /v1/me/link` with it from the other account's token."""
    code = await service.link_code(user)
    return s.CodeOut(code=code.code, expires_at=code.expires_at)


async def link(body: s.LinkIn, user: Caller, service: Service) -> s.IdentitiesOut:
    """Join the caller with the account that made the code: one person, one budget."""
    return _identities(await service.link(user, body.code))


async def unlink(user: Caller, service: Service) -> Response:
    """Split the caller off its linked accounts (409 if not linked)."""
    await service.unlink(user)
    return Response(status_code=204)


async def identities(user: Caller, service: Service) -> s.IdentitiesOut:
    """The caller's linked accounts (only the caller sees them)."""
    return _identities(await service.whoami(user))


def _identities(person: Person) -> s.IdentitiesOut:
    return s.IdentitiesOut(linked=person.linked, identities=[
        s.IdentityOut(platform=i.platform, id=str(i)) for i in person.identities])


def _period(period: Period) -> s.PeriodOut:
    return s.PeriodOut(tokens=period.tokens, limit=period.limit, resets_at=period.resets_at,
                       cost=period.cost, voice_seconds=period.voice_seconds,
                       tool_calls=period.tool_calls)


async def all_usage(user: Caller, service: Service) -> s.TotalsOut:
    """Everyone's tokens and cost per platform today and this month: for members of the
    configuration's `admin` role (`[roles.admin] members = ["api:NAME"]`)."""
    if not service.is_admin(user):
        raise HTTPException(403, "only admins see everyone's usage")
    totals = await service.totals()
    return s.TotalsOut(day=_totals(totals.day), month=_totals(totals.month),
                       currency=totals.currency)


def _totals(period: PeriodTotals) -> s.TotalsPeriodOut:
    return s.TotalsPeriodOut(tokens=period.tokens, cost=period.cost, resets_at=period.resets_at,
                             platforms=[s.PlatformOut(platform=unquote(p.platform),
                                                      tokens=p.tokens, tokens_in=p.tokens_in,
                                                      tokens_out=p.tokens_out, cost=p.cost)
                                        for p in period.platforms])


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
    router.add_api_route("/me", forget_me, methods=["DELETE"], responses=s.AUTH_ERRORS)
    router.add_api_route("/me/export", export_me, methods=["GET"], response_class=StreamingResponse,
                         responses={**s.AUTH_ERRORS, 503: s.ERROR,
                                    200: {"content": {"application/json": {}}}})
    router.add_api_route("/me/usage", my_usage, methods=["GET"],
                         responses={**s.AUTH_ERRORS, 503: s.ERROR})
    router.add_api_route("/me/link-code", link_code, methods=["POST"],
                         responses=s.LINK_ERRORS)
    router.add_api_route("/me/link", link, methods=["POST"], responses=s.LINK_ERRORS)
    router.add_api_route("/me/link", unlink, methods=["DELETE"], status_code=204,
                         responses=s.LINK_ERRORS)
    router.add_api_route("/me/identities", identities, methods=["GET"],
                         responses={**s.AUTH_ERRORS, 503: s.ERROR})
    router.add_api_route("/admin/usage", all_usage, methods=["GET"], responses=s.ADMIN_ERRORS)
    return router

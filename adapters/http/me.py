"""The caller's own routes: erase, export, usage, linked accounts; and the admins' totals."""

from __future__ import annotations

import time
from urllib.parse import unquote

from fastapi import APIRouter, HTTPException, Response
from fastapi.responses import StreamingResponse

from adapters.http import schemas as s
from adapters.http.deps import Caller, Service
from core import export
from core.links import Person
from core.totals import PeriodTotals
from core.usage import Period


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


def me_router() -> APIRouter:
    """`/me…` and `/admin/usage`, for the API router to include."""
    router = APIRouter()
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

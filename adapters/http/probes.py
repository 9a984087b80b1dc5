"""`/healthz`, `/readyz` and `/metrics`: on the HTTP app, or alone on the metrics port."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from adapters.http.schemas import HealthOut
from core.errors import SwitchboardError
from core.metrics import TurnMetrics
from core.offline import OfflineChatModel
from core.service import ChatService

READY_TIMEOUT_S = 2.0


def observe(app: FastAPI, service: ChatService, metrics: TurnMetrics | None = None) -> None:
    """Give `app` the service its probes check and the metrics its turns feed."""
    app.state.service = service
    app.state.metrics = metrics or TurnMetrics()
    app.state.metrics.watch(service)


def router() -> APIRouter:
    """The three probes, for an app that went through `observe`."""
    probes = APIRouter(tags=["operations"])
    probes.add_api_route("/healthz", healthz, methods=["GET"])
    probes.add_api_route("/readyz", readyz, methods=["GET"], response_model=HealthOut,
                         responses={503: {"model": HealthOut}})
    probes.add_api_route("/metrics", metrics, methods=["GET"], response_class=Response,
                         responses={200: {"content": {"text/plain": {}}}})
    return probes


def probes_app(service: ChatService, metrics: TurnMetrics | None = None) -> FastAPI:
    """The probes alone, for a process that serves no HTTP app (a Discord gateway bot, say)."""
    app = FastAPI(title="Switchboard probes", docs_url=None, redoc_url=None, openapi_url=None)
    observe(app, service, metrics)
    app.include_router(router())
    return app


async def healthz() -> HealthOut:
    """The process is up and serving."""
    return HealthOut(status="ok")


async def readyz(request: Request) -> JSONResponse:
    """Ready when Redis answers and a model is configured (offline counts, and says so)."""
    service: ChatService = request.app.state.service
    checks = {"model": "offline" if isinstance(service.model, OfflineChatModel) else "ok"}
    try:
        async with asyncio.timeout(READY_TIMEOUT_S):
            await service.store.ping()
        checks["redis"] = "ok"
    except (SwitchboardError, TimeoutError):
        checks["redis"] = "unreachable"
    ready = checks["redis"] == "ok"
    body = HealthOut(status="ready" if ready else "not ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


async def metrics(request: Request) -> Response:
    """Prometheus text format."""
    collected: TurnMetrics = request.app.state.metrics
    return Response(collected.render(), media_type=collected.content_type)

"""`create_app`: the FastAPI application of the HTTP API, the chat page and the probes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from adapters.http import errors
from adapters.http.auth import Verifier
from adapters.http.middleware import AccessLog, BodyLimit, body_limit
from adapters.http.routes import api_router
from adapters.http.schemas import HealthOut, components
from adapters.http.settings import HttpSettings
from core.errors import SwitchboardError
from core.metrics import TurnMetrics
from core.offline import OfflineChatModel
from core.service import ChatService

WEB = Path(__file__).resolve().parent.parent / "web"
READY_TIMEOUT_S = 2.0


def create_app(service: ChatService, settings: HttpSettings,
               routers: Iterable[APIRouter] = (), metrics: TurnMetrics | None = None) -> FastAPI:
    """The whole HTTP surface; `routers` (e.g. platform webhooks) are mounted beside `/v1`."""
    settings.check()
    # FastAPI's Swagger UI loads from a CDN (blank offline): /docs is our own static page.
    app = FastAPI(title="Switchboard", version="1", summary="Chat with Switchboard over HTTP.",
                  docs_url=None, redoc_url=None)
    app.state.service, app.state.verifier = service, Verifier(settings)
    app.state.metrics = metrics or TurnMetrics()
    if app.state.metrics.observe not in service.observers:
        service.observers.append(app.state.metrics.observe)
    errors.install(app)
    app.openapi = _with_body_models(app.openapi)  # type: ignore[method-assign]
    app.include_router(api_router())
    app.include_router(_probes())
    for router in routers:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=WEB), name="static")
    limits = service.settings.limits
    app.add_middleware(BodyLimit, limit=body_limit(limits.max_files, limits.max_bytes))
    app.add_middleware(AccessLog)  # outermost: logs 413s too
    return app


def _with_body_models(openapi: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """The chat body is read by hand (JSON or multipart): name its models in the schema."""
    def schema() -> dict[str, Any]:
        built = openapi()
        built.setdefault("components", {}).setdefault("schemas", {}).update(components())
        return built
    return schema


def _probes() -> APIRouter:
    router = APIRouter(tags=["operations"])
    router.add_api_route("/healthz", healthz, methods=["GET"])
    router.add_api_route("/readyz", readyz, methods=["GET"], response_model=HealthOut,
                         responses={503: {"model": HealthOut}})
    router.add_api_route("/metrics", metrics, methods=["GET"], response_class=Response,
                         responses={200: {"content": {"text/plain": {}}}})
    router.add_api_route("/", page, methods=["GET"], include_in_schema=False)
    router.add_api_route("/docs", docs, methods=["GET"], include_in_schema=False)
    return router


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


async def page() -> FileResponse:
    """The web chat page."""
    return FileResponse(WEB / "index.html")


async def docs() -> FileResponse:
    """The API reference, rendered in the browser from /openapi.json without any CDN."""
    return FileResponse(WEB / "docs.html")

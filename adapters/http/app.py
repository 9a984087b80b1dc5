"""`create_app`: the FastAPI application of the HTTP API, the chat page and the probes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from adapters.http import errors, probes
from adapters.http.auth import Verifier
from adapters.http.middleware import AccessLog, BodyLimit, body_limit
from adapters.http.routes import api_router
from adapters.http.schemas import components
from adapters.http.settings import HttpSettings
from core.metrics import TurnMetrics
from core.service import ChatService

WEB = Path(__file__).resolve().parent.parent / "web"


def create_app(service: ChatService, settings: HttpSettings,
               routers: Iterable[APIRouter] = (), metrics: TurnMetrics | None = None) -> FastAPI:
    """The whole HTTP surface; `routers` (e.g. platform webhooks) are mounted beside `/v1`."""
    settings.check()
    # FastAPI's Swagger UI loads from a CDN (blank offline): /docs is our own static page.
    app = FastAPI(title="Switchboard", version="1", summary="Chat with Switchboard over HTTP.",
                  docs_url=None, redoc_url=None)
    app.state.verifier = Verifier(settings)
    probes.observe(app, service, metrics)
    errors.install(app)
    app.openapi = _with_body_models(app.openapi)  # type: ignore[method-assign]
    app.include_router(api_router())
    app.include_router(probes.router())
    app.include_router(_pages())
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


def _pages() -> APIRouter:
    router = APIRouter()
    router.add_api_route("/", page, methods=["GET"], include_in_schema=False)
    router.add_api_route("/docs", docs, methods=["GET"], include_in_schema=False)
    return router


async def page() -> FileResponse:
    """The web chat page."""
    return FileResponse(WEB / "index.html")


async def docs() -> FileResponse:
    """The API reference, rendered in the browser from /openapi.json without any CDN."""
    return FileResponse(WEB / "docs.html")

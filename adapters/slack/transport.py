"""Delivery guarantee: how requests travel, retried out to Slack and verified in from it."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.settings import SlackSettings


def web_client(settings: SlackSettings) -> AsyncWebClient:
    """The Web API client: retries connection errors, 429s (after Retry-After) and 5xx."""
    retries = [AsyncConnectionErrorRetryHandler(),
               AsyncRateLimitErrorRetryHandler(max_retry_count=2),
               AsyncServerErrorRetryHandler(max_retry_count=2)]
    return AsyncWebClient(token=settings.bot_token.get_secret_value(),
                          base_url=settings.api_url, retry_handlers=retries)


def events_router(app: AsyncApp, path: str = "/slack/events") -> APIRouter:
    """`POST /slack/events` for the Events API, verified with the signing secret by bolt."""
    handler, router = AsyncSlackRequestHandler(app), APIRouter()

    @router.post(path, include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        return await handler.handle(request)

    return router

